//! The `swellfield` command line: parse, call the library, print the error, exit non-zero.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use swellfield::backend::BackendChoice;
use swellfield::{bench, check, compare, config, simulation};

#[derive(Parser)]
#[command(
    name = "swellfield",
    version,
    about = "Phase-field simulation of ion insertion in battery electrodes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one config; writes outputs/<run-name>/ (or --out).
    Run {
        /// The TOML config.
        config: PathBuf,
        /// Output folder for this run (default outputs/<run-name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// auto (GPU when there is one), cpu or gpu.
        #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
        backend: BackendChoice,
        /// Override a config value, e.g. --set time.end=100 (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// No progress bar or notices.
        #[arg(long)]
        quiet: bool,
        /// Run the config's [pristine] twin instead of the buffered microstructure.
        #[arg(long)]
        pristine: bool,
    },
    /// Run the buffered microstructure and its [pristine] twin under the same drive and compare
    /// them: comparison.csv, summary.md and plots in outputs/<run-name>_compare/ (or --out).
    Compare {
        /// The TOML config (needs [pristine] and [drive]).
        config: PathBuf,
        /// Output folder (default outputs/<run-name>_compare); runs go to buffered/ and pristine/.
        #[arg(long)]
        out: Option<PathBuf>,
        /// auto (GPU when there is one), cpu or gpu.
        #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
        backend: BackendChoice,
        /// Override a config value in both runs, e.g. --set time.end=100 (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// Compare at each value of one key: writes <key>=<value>/ per value, sweep.csv and a
        /// plot of the swelling ratio, e.g. --sweep materials.hc.young_modulus_gpa=10,20,40.
        #[arg(long, value_name = "SECTION.KEY=V1,V2,...")]
        sweep: Option<String>,
        /// No progress bars or notices.
        #[arg(long)]
        quiet: bool,
    },
    /// Validate a config and print what it derives (κ, Ω, interface width, stable dt).
    Check {
        config: PathBuf,
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// Report the [pristine] twin.
        #[arg(long)]
        pristine: bool,
    },
    /// Time the step against the peer implementations, in the same run.
    Bench {
        /// Folder of the peer scripts (numpy_chel.py).
        #[arg(long, default_value_os_t = bench::default_peer_dir())]
        peers: PathBuf,
        /// Only the 2-D case (quick).
        #[arg(long)]
        quick: bool,
        /// Time the GPU backend instead (CH only, full step, FFT pair) against cuFFT and the
        /// PyTorch peer; on a software adapter at small sizes.
        #[arg(long)]
        gpu: bool,
        /// With --gpu: time the CPU backend's full step on the same cases too.
        #[arg(long)]
        cpu_reference: bool,
        /// Only the multi-material step: the convex-splitting step on the main job's cell,
        /// beside the recorded figures of commit 3ff9fbd's step (no peers needed).
        #[arg(long)]
        multi: bool,
        /// Only the mechanics of the coupled step: the nonlinear elastic solve (Sn flowing,
        /// Voigt and laminate voxels) beside a linear solve on the same states.
        #[arg(long)]
        mechanics: bool,
    },
}

/// `bench`'s multi-material table (the first case only with `quick`).
fn bench_multi(quick: bool) -> swellfield::Result<String> {
    let cases = if quick {
        &bench::MULTI_CASES[..1]
    } else {
        &bench::MULTI_CASES[..]
    };
    eprintln!(
        "timing the multi-material step: convex splitting, beside 3ff9fbd's recorded figures ({})...",
        bench::MULTI_CONFIG
    );
    Ok(bench::multi_table(&bench::run_multi(cases)?))
}

/// `bench`'s mechanics table (the 64² cases only with `quick`).
fn bench_mechanics(quick: bool) -> swellfield::Result<String> {
    let cases = if quick {
        &bench::MECHANICS_CASES[..2]
    } else {
        &bench::MECHANICS_CASES[..]
    };
    eprintln!(
        "timing the coupled step's mechanics: the nonlinear elastic solve beside a linear one ({})...",
        bench::MULTI_CONFIG
    );
    Ok(bench::mechanics_table(&bench::run_mechanics(cases)?))
}

fn main() -> ExitCode {
    quiet_wayland_probe();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Probing Vulkan adapters loads Mesa's window-system code, whose Wayland client prints
/// "XDG_RUNTIME_DIR is invalid or not set" on headless machines (CI, SSH, containers) although
/// swellfield never opens a window. Pointing it at the temp folder keeps stderr to our own lines.
fn quiet_wayland_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
}

fn run(cli: Cli) -> swellfield::Result<()> {
    match cli.command {
        Command::Run {
            config,
            out,
            backend,
            sets,
            quiet,
            pristine,
        } => {
            let loaded = config::load(&config, &sets)?;
            let name = if pristine {
                format!("{}_pristine", loaded.run_name())
            } else {
                loaded.run_name()
            };
            let out_dir = out.unwrap_or_else(|| PathBuf::from("outputs").join(name));
            let summary = simulation::run(
                &loaded,
                &simulation::RunOptions {
                    out_dir,
                    backend,
                    quiet,
                    pristine,
                },
            )?;
            println!("{summary}");
        }
        Command::Compare {
            config,
            out,
            backend,
            sets,
            sweep,
            quiet,
        } => {
            let sweep = sweep.as_deref().map(compare::Sweep::parse).transpose()?;
            let loaded = config::load(&config, &sets)?;
            let suffix = if sweep.is_some() { "sweep" } else { "compare" };
            let out_dir = out.unwrap_or_else(|| {
                PathBuf::from("outputs").join(format!("{}_{suffix}", loaded.run_name()))
            });
            let opts = compare::CompareOptions {
                out_dir,
                backend,
                quiet,
            };
            match sweep {
                None => println!("{}", compare::run(&loaded, &opts)?),
                Some(sweep) => {
                    let results = compare::sweep(&config, &sets, &sweep, &opts)?;
                    for (value, result) in &results {
                        println!("{} = {value}: {result}", sweep.key);
                    }
                    println!("sweep table: {}", opts.out_dir.join("sweep.csv").display());
                }
            }
        }
        Command::Check {
            config,
            sets,
            pristine,
        } => {
            let loaded = config::load(&config, &sets)?;
            print!("{}", check::report(&loaded, pristine)?);
        }
        Command::Bench {
            peers,
            gpu: true,
            cpu_reference,
            ..
        } => {
            let ctx = swellfield::backend::gpu::context::GpuContext::new()?;
            let adapter = format!(
                "{} ({:?}, {:?})",
                ctx.info.name, ctx.info.device_type, ctx.info.backend
            );
            let software = ctx.is_software();
            drop(ctx);
            let cases = if software {
                eprintln!("software adapter {adapter}: timing small sizes only");
                &swellfield::bench_gpu::SOFTWARE_CASES[..]
            } else {
                &swellfield::bench_gpu::GPU_CASES[..]
            };
            eprintln!("timing the GPU backend, then the PyTorch peer (python3 torch_chel.py)...");
            let rows = swellfield::bench_gpu::run_gpu(cases, cpu_reference)?;
            let peer = swellfield::bench_gpu::run_torch_peer(&peers);
            print!(
                "{}",
                swellfield::bench_gpu::gpu_table(&adapter, &rows, &peer)
            );
        }
        Command::Bench {
            quick, multi: true, ..
        } => print!("{}", bench_multi(quick)?),
        Command::Bench {
            quick,
            mechanics: true,
            ..
        } => print!("{}", bench_mechanics(quick)?),
        Command::Bench { peers, quick, .. } => {
            let cases = if quick {
                &bench::CH_CASES[..1]
            } else {
                &bench::CH_CASES[..]
            };
            eprintln!(
                "timing the CPU backend and the NumPy peer ({} threads)...",
                rayon::current_num_threads()
            );
            let rows = bench::run_cpu(&peers, cases)?;
            print!("{}", bench::table(&rows));
            let full = if quick {
                &bench::FULL_CASES[..1]
            } else {
                &bench::FULL_CASES[..]
            };
            eprintln!(
                "timing the full step (Cahn–Hilliard + elasticity to 1e-6) and the peer's K = 4 step..."
            );
            println!();
            print!("{}", bench::full_table(&bench::run_full(&peers, full)?));
            println!();
            print!("{}", bench_multi(quick)?);
            println!();
            print!("{}", bench_mechanics(quick)?);
        }
    }
    Ok(())
}
