//! `swellfield compare`: the buffered microstructure and its `[pristine]` twin charged under the
//! same drive (the same C-rate of each cell's own capacity, the same stop condition), then one
//! table on a common state-of-charge grid, a summary with a reading, and plots
//! (docs/outputs.md, "compare").
//!
//! Everything is checked before the first step, so a config that cannot be compared fails in
//! a second rather than after the buffered run; each run writes its own complete output folder
//! first, so a failure in the comparison never costs a run.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::backend::{BackendChoice, BackendKind};
use crate::config::{Direction, DriveMode, LoadedConfig};
use crate::error::{Error, Result};
use crate::output::plot::{LinePlot, Series};
use crate::output::png::{MapSpec, Panel, write_panels};
use crate::output::{hdf5, timeseries};
use crate::problem::Problem;
use crate::simulation::{self, RunOptions, RunSummary};

/// Points of the common SOC grid.
const SOC_POINTS: usize = 101;

/// The two runs, in table order.
pub const RUNS: [&str; 2] = ["buffered", "pristine"];

/// How `compare` should behave, from the CLI.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The comparison's folder; the runs go to `buffered/` and `pristine/` inside it.
    pub out_dir: PathBuf,
    pub backend: BackendChoice,
    /// No progress bars or notices.
    pub quiet: bool,
}

/// One finished run and its time series.
#[derive(Debug, Clone)]
pub struct RunSeries {
    pub summary: RunSummary,
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl RunSeries {
    /// A column by name (`None` when the run does not have it).
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.header.iter().position(|h| h == name)?;
        Some(
            self.rows
                .iter()
                .map(|r| r.get(k).copied().unwrap_or(f64::NAN))
                .collect(),
        )
    }

    /// `name` against SOC, sorted by SOC, rows with a non-finite SOC dropped.
    fn against_soc(&self, name: &str) -> Vec<(f64, f64)> {
        let (Some(soc), Some(y)) = (self.column("soc"), self.column(name)) else {
            return Vec::new();
        };
        let mut pts: Vec<(f64, f64)> = soc
            .into_iter()
            .zip(y)
            .filter(|(s, _)| s.is_finite())
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts
    }

    /// The SOC range the run covered.
    fn soc_range(&self) -> [f64; 2] {
        self.column("soc")
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.is_finite())
            .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], s| {
                [lo.min(s), hi.max(s)]
            })
    }

    /// The largest finite value of a column over the run.
    fn peak(&self, name: &str) -> f64 {
        self.column(name)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(f64::NAN, f64::max)
    }

    /// The last finite value of a column.
    fn last(&self, name: &str) -> f64 {
        self.column(name)
            .unwrap_or_default()
            .into_iter()
            .rev()
            .find(|v| v.is_finite())
            .unwrap_or(f64::NAN)
    }
}

/// Linear interpolation in points sorted by x; NaN outside their range.
fn interpolate(pts: &[(f64, f64)], x: f64) -> f64 {
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return f64::NAN;
    };
    let tol = 1e-12 * (1.0 + x.abs());
    if x < first.0 - tol || x > last.0 + tol {
        return f64::NAN;
    }
    let k = pts.partition_point(|p| p.0 < x);
    if k == 0 {
        return first.1;
    }
    if k >= pts.len() {
        return last.1;
    }
    let (a, b) = (pts[k - 1], pts[k]);
    if b.0 - a.0 <= 0.0 {
        return b.1;
    }
    a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
}

/// What `compare` found, for the terminal.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub out_dir: PathBuf,
    pub runs: [RunSummary; 2],
    /// The furthest SOC both runs reached, in the drive's direction.
    pub common_soc: f64,
    /// Electrode swelling of each run there (fraction).
    pub swelling: [f64; 2],
}

impl Comparison {
    pub fn ratio(&self) -> f64 {
        self.swelling[0] / self.swelling[1]
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "compared at soc {:.3}: swelling buffered {:.3} %, pristine {:.3} % (ratio {:.3}); \
             read {} and the plots beside it",
            self.common_soc,
            100.0 * self.swelling[0],
            100.0 * self.swelling[1],
            self.ratio(),
            self.out_dir.join("summary.md").display()
        )
    }
}

/// Checks that `loaded` can be compared and builds both problems (buffered, pristine).
pub fn precheck(loaded: &LoadedConfig) -> Result<[Problem; 2]> {
    let cfg = &loaded.config;
    if cfg.pristine.is_none() {
        return Err(Error::invalid(
            "pristine",
            "(missing)",
            "compare needs the pristine counterpart of the microstructure",
            "add a [pristine] section, e.g. replace = { hc = \"electrolyte\" } or shapes of its own (docs/config.md)",
        ));
    }
    let Some(drive) = &cfg.drive else {
        return Err(Error::invalid(
            "drive",
            "(missing)",
            "compare charges both microstructures under the same drive",
            "add a [drive] section with c_rate and soc_target or cutoff_voltage_v (docs/config.md)",
        ));
    };
    let problems = [loaded.problem(false)?, loaded.problem(true)?];
    for (p, label) in problems.iter().zip(RUNS) {
        if !has_active_material(p) {
            let key = if label == "pristine" {
                "pristine"
            } else {
                "microstructure"
            };
            return Err(Error::invalid(
                key,
                "(as configured)",
                &format!(
                    "the {label} microstructure holds no material with sites (capacity {:.3e}): nothing would be charged",
                    p.capacity
                ),
                "keep the active material in it: replace only buffer materials, or paint shapes of the active material",
            ));
        }
        if drive.mode == DriveMode::Galvanostatic {
            check_reachable(p, label, drive, cfg.time.end)?;
        }
    }
    Ok(problems)
}

/// Whether any material with sites occupies part of the cell.
fn has_active_material(p: &Problem) -> bool {
    let Some(micro) = &p.microstructure else {
        return p.capacity > 0.0;
    };
    p.capacity > 0.0
        && p.materials
            .iter()
            .zip(&micro.phi)
            .any(|(m, phi)| !m.electrolyte && m.site_density > 0.0 && phi.iter().any(|&v| v > 0.5))
}

/// State of charge at t = 0, as the run's ledger counts it (solid voxels, site-weighted).
pub fn initial_soc(p: &Problem) -> f64 {
    let ch = &p.chemistry;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &c) in p.initial_c.iter().enumerate() {
        let w = match &ch.psi {
            None => 1.0,
            Some(psi) if psi[i] >= ch.psi_floor => psi[i],
            Some(_) => 0.0,
        };
        num += w * c;
        den += w;
    }
    if den > 0.0 { num / den } else { f64::NAN }
}

/// A galvanostatic SOC target must lie ahead of the start and within `time.end` (a cut-off
/// voltage may stop a run earlier, but never later); otherwise the runs could stop at the end
/// time short of the target, and the comparison would not be at the stop the config names.
fn check_reachable(
    p: &Problem,
    label: &str,
    drive: &crate::config::DriveConfig,
    end_s: f64,
) -> Result<()> {
    let (Some(target), Some(rate)) = (drive.soc_target, drive.c_rate) else {
        return Ok(());
    };
    let soc0 = initial_soc(p);
    let inserting = drive.direction == Direction::Insertion;
    if (inserting && target <= soc0) || (!inserting && target >= soc0) {
        let (side, fix) = if inserting {
            (
                "at or above",
                "give a soc_target above the initial SOC (initial.c0), or direction = \"extraction\"",
            )
        } else {
            (
                "at or below",
                "give a soc_target below the initial SOC (initial.c0), or direction = \"insertion\"",
            )
        };
        return Err(Error::invalid(
            "drive.soc_target",
            target,
            &format!(
                "the {label} cell starts at soc {soc0:.4}, already {side} the target, so the drive can never stop there"
            ),
            fix,
        ));
    }
    // The galvanostatic current moves the SOC at c_rate per hour exactly (the ledger conserves it).
    let need_s = (target - soc0).abs() / rate * 3600.0;
    if end_s < need_s {
        return Err(Error::invalid(
            "time.end",
            end_s,
            &format!(
                "at C-rate {rate} the {label} cell needs {need_s:.0} s to go from soc {soc0:.4} to soc_target {target}, so it would stop at time.end first"
            ),
            &format!(
                "raise time.end to at least {:.0}, or lower the target",
                (need_s * 1.02).ceil()
            ),
        ));
    }
    Ok(())
}

/// Runs both microstructures into `opts.out_dir/{buffered,pristine}` and writes the comparison.
pub fn run(loaded: &LoadedConfig, opts: &CompareOptions) -> Result<Comparison> {
    // Both problems are held at once, and on the CPU both cells run side by side.
    crate::memory::check_available(&loaded.config, opts.backend, 2.0)?;
    let problems = precheck(loaded)?;
    if let Some(runs) = side_by_side(loaded, &problems, opts)? {
        return write_outputs(loaded, &problems, &runs, &opts.out_dir);
    }
    let mut backend = opts.backend;
    let mut series = Vec::with_capacity(2);
    for ((label, pristine), problem) in [(RUNS[0], false), (RUNS[1], true)]
        .into_iter()
        .zip(&problems)
    {
        if !opts.quiet {
            eprintln!("running the {label} microstructure...");
        }
        let summary = simulation::run_problem(
            loaded,
            problem.clone(),
            &RunOptions {
                out_dir: opts.out_dir.join(label),
                backend,
                quiet: opts.quiet,
                pristine,
            },
        )?;
        if !opts.quiet {
            eprintln!("{summary}");
        }
        // The pristine run uses the backend the buffered one got (and `auto` says so only once).
        backend = match summary.backend {
            BackendKind::Cpu => BackendChoice::Cpu,
            BackendKind::Gpu => BackendChoice::Gpu,
        };
        let (header, rows) = timeseries::read(&summary.out_dir.join("timeseries.csv"))?;
        series.push(RunSeries {
            summary,
            header,
            rows,
        });
    }
    let runs: [RunSeries; 2] = series.try_into().expect("two runs were pushed just above");
    write_outputs(loaded, &problems, &runs, &opts.out_dir)
}

/// Both runs at once, one thread each, when they run on the CPU and the machine has a core for
/// each: the CPU backend keeps a cell of the shipped size on one thread (cpu/mod.rs,
/// `PARALLEL_VOXELS`), so run in sequence the two would leave the other cores idle. `None`
/// when the runs take the GPU, or one core is all there is: run them in sequence.
fn side_by_side(
    loaded: &LoadedConfig,
    problems: &[Problem; 2],
    opts: &CompareOptions,
) -> Result<Option<[RunSeries; 2]>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || opts.backend == BackendChoice::Gpu {
        return Ok(None);
    }
    if opts.backend == BackendChoice::Auto {
        // What `auto` picks for this cell, without building a backend; its one-line notice is
        // said here, once.
        match crate::backend::auto_device(&problems[0]) {
            Ok(_) => return Ok(None),
            Err(why) if !opts.quiet => eprintln!("{}", crate::backend::cpu_notice(&why)),
            Err(_) => {}
        }
    }
    let show = !opts.quiet && std::io::stderr().is_terminal();
    let bars = indicatif::MultiProgress::new();
    if !opts.quiet {
        eprintln!("running the buffered and pristine microstructures side by side on the CPU...");
    }
    let results: Vec<Result<RunSeries>> = std::thread::scope(|scope| {
        let handles: Vec<_> = [(RUNS[0], false), (RUNS[1], true)]
            .into_iter()
            .zip(problems)
            .map(|((label, pristine), problem)| {
                let bar = if show {
                    bars.add(simulation::progress_bar(Some(label)))
                } else {
                    indicatif::ProgressBar::hidden()
                };
                let bars = &bars;
                scope.spawn(move || -> Result<RunSeries> {
                    let run_opts = RunOptions {
                        out_dir: opts.out_dir.join(label),
                        backend: BackendChoice::Cpu,
                        quiet: opts.quiet,
                        pristine,
                    };
                    let summary =
                        simulation::run_problem_with(loaded, problem.clone(), &run_opts, bar);
                    // Above the bars on a terminal (a hidden MultiProgress prints nothing).
                    let say = |line: String| {
                        if show {
                            bars.println(line).unwrap_or(());
                        } else {
                            eprintln!("{line}");
                        }
                    };
                    match &summary {
                        Ok(s) if !opts.quiet => say(format!("{s}")),
                        Err(e) if !opts.quiet => say(format!("the {label} run stopped: {e}")),
                        _ => {}
                    }
                    let summary = summary?;
                    let (header, rows) = timeseries::read(&summary.out_dir.join("timeseries.csv"))?;
                    Ok(RunSeries {
                        summary,
                        header,
                        rows,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut results = results.into_iter();
    let (a, b) = (results.next(), results.next());
    match (a, b) {
        (Some(a), Some(b)) => Ok(Some([a?, b?])),
        _ => unreachable!("two runs were spawned just above"),
    }
}

/// The solid materials that occupy part of either cell, in config order. Soft fillers (closed
/// pores given as a solid below 1 % of the stiffest modulus) are left out: their strain under
/// the neighbours' stress is not a swelling anyone reads.
fn solid_materials(problems: &[Problem; 2]) -> Vec<String> {
    let stiffest = problems[0]
        .materials
        .iter()
        .map(|m| m.young.max(m.young_full))
        .fold(0.0, f64::max);
    problems[0]
        .materials
        .iter()
        .enumerate()
        .filter(|(k, m)| {
            !m.electrolyte
                && (problems[0].mechanics.is_none() || m.young.max(m.young_full) >= 0.01 * stiffest)
                && problems.iter().any(|p| {
                    p.microstructure
                        .as_ref()
                        .is_some_and(|ms| ms.phi[*k].iter().any(|&v| v > 0.5))
                })
        })
        .map(|(_, m)| m.name.clone())
        .collect()
}

/// Those of `materials` that flow (a `yield_stress_gpa`) in either cell.
fn flowing_materials(problems: &[Problem; 2], materials: &[String]) -> Vec<String> {
    materials
        .iter()
        .filter(|name| {
            problems.iter().any(|p| {
                p.mechanics.as_ref().is_some_and(|mech| {
                    p.materials
                        .iter()
                        .zip(&mech.materials)
                        .any(|(m, mm)| &m.name == *name && mm.plastic.is_some())
                })
            })
        })
        .cloned()
        .collect()
}

/// The common SOC grid over the union of both runs, ordered in the drive's direction, and the
/// furthest SOC both reached.
fn soc_grid(runs: &[RunSeries; 2], inserting: bool) -> (Vec<f64>, f64) {
    let [a, b] = [runs[0].soc_range(), runs[1].soc_range()];
    let (lo, hi) = (a[0].min(b[0]), a[1].max(b[1]));
    let common = if inserting {
        a[1].min(b[1])
    } else {
        a[0].max(b[0])
    };
    let n = SOC_POINTS - 1;
    let mut grid: Vec<f64> = (0..=n)
        .map(|k| lo + (hi - lo) * k as f64 / n as f64)
        .collect();
    if !inserting {
        grid.reverse();
    }
    (grid, common)
}

/// The columns of `comparison.csv` after `soc`: (name, run, time-series column).
fn table_columns(materials: &[String], flowing: &[String]) -> Vec<(String, usize, String)> {
    let mut cols = Vec::new();
    for q in ["swelling", "voltage"] {
        for (r, run) in RUNS.iter().enumerate() {
            cols.push((format!("{q}_{run}"), r, q.to_string()));
        }
    }
    for m in materials {
        for (r, run) in RUNS.iter().enumerate() {
            cols.push((format!("swelling_{m}_{run}"), r, format!("swelling_{m}")));
            cols.push((
                format!("max_von_mises_{m}_{run}_gpa"),
                r,
                format!("max_von_mises_{m}_gpa"),
            ));
            cols.push((
                format!("max_hydrostatic_{m}_{run}_gpa"),
                r,
                format!("max_hydrostatic_{m}_gpa"),
            ));
        }
    }
    for m in flowing {
        for (r, run) in RUNS.iter().enumerate() {
            for q in ["max_plastic_strain", "plastic_work"] {
                cols.push((format!("{q}_{m}_{run}"), r, format!("{q}_{m}")));
            }
        }
    }
    for (r, run) in RUNS.iter().enumerate() {
        cols.push((
            format!("overstressed_fraction_{run}"),
            r,
            "overstressed_fraction".into(),
        ));
    }
    cols
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn write_outputs(
    loaded: &LoadedConfig,
    problems: &[Problem; 2],
    runs: &[RunSeries; 2],
    out: &Path,
) -> Result<Comparison> {
    let drive = loaded.config.drive.as_ref();
    let inserting = drive.is_none_or(|d| d.direction == Direction::Insertion);
    let materials = solid_materials(problems);
    let (grid, common) = soc_grid(runs, inserting);
    let flowing = flowing_materials(problems, &materials);
    let cols = table_columns(&materials, &flowing);

    let mut csv = String::from("soc");
    for (name, _, _) in &cols {
        csv.push(',');
        csv.push_str(name);
    }
    csv.push('\n');
    let curves: Vec<Vec<(f64, f64)>> = cols
        .iter()
        .map(|(_, r, src)| runs[*r].against_soc(src))
        .collect();
    for &s in &grid {
        csv.push_str(&format!("{s:.6e}"));
        for c in &curves {
            csv.push_str(&format!(",{:.6e}", interpolate(c, s)));
        }
        csv.push('\n');
    }
    write_file(&out.join("comparison.csv"), &csv)?;

    let swelling = [0, 1].map(|r| interpolate(&runs[r].against_soc("swelling"), common));
    let comparison = Comparison {
        out_dir: out.to_path_buf(),
        runs: [runs[0].summary.clone(), runs[1].summary.clone()],
        common_soc: common,
        swelling,
    };
    write_file(
        &out.join("summary.md"),
        &summary_markdown(loaded, problems, runs, &materials, &flowing, &comparison),
    )?;
    write_plots(runs, &materials, out)?;
    write_maps(problems, runs, out)?;
    Ok(comparison)
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.3} %", 100.0 * v)
    } else {
        "–".into()
    }
}

fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "–".into()
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b != 0.0 {
        format!("{:.3}", a / b)
    } else {
        "–".into()
    }
}

/// The drive in words, e.g. "galvanostatic extraction at C/10 to soc 0.05 or 4.4 V".
fn describe_drive(loaded: &LoadedConfig) -> String {
    let Some(d) = &loaded.config.drive else {
        return "no drive".into();
    };
    let dir = match d.direction {
        Direction::Insertion => "insertion",
        Direction::Extraction => "extraction",
    };
    let how = match d.mode {
        DriveMode::Galvanostatic => {
            let rate = d.c_rate.unwrap_or(0.0);
            let inv = 1.0 / rate;
            if rate < 1.0 && (inv - inv.round()).abs() < 1e-9 {
                format!("galvanostatic {dir} at C/{}", inv.round())
            } else {
                format!("galvanostatic {dir} at {rate}C")
            }
        }
        DriveMode::Potentiostatic => {
            format!(
                "potentiostatic {dir} at {} V",
                d.voltage_v.unwrap_or(f64::NAN)
            )
        }
    };
    let mut stops = Vec::new();
    if let Some(t) = d.soc_target {
        stops.push(format!("soc {t}"));
    }
    if let Some(v) = d.cutoff_voltage_v {
        stops.push(format!("{v} V"));
    }
    stops.push(format!("t = {} s", loaded.config.time.end));
    format!("{how}, stopping at {}", stops.join(" or "))
}

fn summary_markdown(
    loaded: &LoadedConfig,
    problems: &[Problem; 2],
    runs: &[RunSeries; 2],
    materials: &[String],
    flowing: &[String],
    cmp: &Comparison,
) -> String {
    let mut s = String::new();
    let name = loaded.run_name();
    let threshold = problems[0]
        .mechanics
        .as_ref()
        .map(|m| m.overstress * problems[0].units.stress_pa / 1e9);
    let _ = writeln!(s, "# {name}: buffered against pristine\n");
    let _ = writeln!(
        s,
        "Config `{}`; {}. Both runs charge at the same C-rate of their own capacity. \
         Swelling is the electrode's volume change (docs/outputs.md); material columns are the \
         mean volumetric strain inside that material.\n",
        loaded.path.display(),
        describe_drive(loaded)
    );
    let _ = writeln!(
        s,
        "| quantity | buffered | pristine | buffered / pristine |"
    );
    let _ = writeln!(s, "|---|---|---|---|");
    let c = cmp.common_soc;
    let row = |s: &mut String, q: &str, a: String, b: String, r: String| {
        let _ = writeln!(s, "| {q} | {a} | {b} | {r} |");
    };
    row(
        &mut s,
        &format!("electrode swelling at soc {c:.3} (reached by both)"),
        pct(cmp.swelling[0]),
        pct(cmp.swelling[1]),
        ratio(cmp.swelling[0], cmp.swelling[1]),
    );
    let fin = [0, 1].map(|r| runs[r].last("swelling"));
    row(
        &mut s,
        "electrode swelling at the end of the run",
        pct(fin[0]),
        pct(fin[1]),
        ratio(fin[0], fin[1]),
    );
    let at_common = |r: usize, col: &str| interpolate(&runs[r].against_soc(col), c);
    for m in materials {
        let v = [0, 1].map(|r| at_common(r, &format!("swelling_{m}")));
        row(
            &mut s,
            &format!("swelling of {m} at soc {c:.3}"),
            pct(v[0]),
            pct(v[1]),
            ratio(v[0], v[1]),
        );
    }
    for m in materials {
        for (q, label) in [
            ("max_von_mises", "peak von Mises stress"),
            ("max_hydrostatic", "peak hydrostatic stress"),
        ] {
            let v = [0, 1].map(|r| runs[r].peak(&format!("{q}_{m}_gpa")));
            row(
                &mut s,
                &format!("{label} in {m} over the run (GPa)"),
                num(v[0], 3),
                num(v[1], 3),
                ratio(v[0], v[1]),
            );
        }
    }
    let energy_unit = if problems[0].grid.dim() == 2 {
        "eV per nm of depth"
    } else {
        "eV"
    };
    for m in flowing {
        let alpha = [0, 1].map(|r| runs[r].peak(&format!("max_plastic_strain_{m}")));
        row(
            &mut s,
            &format!("peak equivalent plastic strain in {m}"),
            num(alpha[0], 3),
            num(alpha[1], 3),
            ratio(alpha[0], alpha[1]),
        );
        let work = [0, 1].map(|r| runs[r].last(&format!("plastic_work_{m}")));
        row(
            &mut s,
            &format!("plastic work in {m} over the run ({energy_unit})"),
            format!("{:.4e}", work[0]),
            format!("{:.4e}", work[1]),
            ratio(work[0], work[1]),
        );
    }
    let over = [0, 1].map(|r| runs[r].peak("overstressed_fraction"));
    row(
        &mut s,
        &format!(
            "largest solid fraction above {} GPa von Mises",
            threshold.map_or("–".into(), |t| num(t, 2))
        ),
        pct(over[0]),
        pct(over[1]),
        String::new(),
    );
    let soc_end = [0, 1].map(|r| runs[r].last("soc"));
    row(
        &mut s,
        "soc reached",
        num(soc_end[0], 4),
        num(soc_end[1], 4),
        String::new(),
    );
    let unit = if problems[0].grid.dim() == 2 {
        "mol per nm of depth"
    } else {
        "mol"
    };
    let cap = [0, 1].map(|r| problems[r].capacity * problems[r].units.ions_mol);
    row(
        &mut s,
        &format!("capacity: sites in the cell ({unit})"),
        format!("{:.4e}", cap[0]),
        format!("{:.4e}", cap[1]),
        ratio(cap[0], cap[1]),
    );
    let sm = &cmp.runs;
    row(
        &mut s,
        "stop",
        sm[0].stop.to_string(),
        sm[1].stop.to_string(),
        String::new(),
    );
    row(
        &mut s,
        "steps, simulated time",
        format!("{}, {:.4e} s", sm[0].steps, sm[0].time),
        format!("{}, {:.4e} s", sm[1].steps, sm[1].time),
        String::new(),
    );
    row(
        &mut s,
        "wall time, backend",
        format!("{:.1} s, {}", sm[0].wall_s, sm[0].backend.as_str()),
        format!("{:.1} s, {}", sm[1].wall_s, sm[1].backend.as_str()),
        String::new(),
    );
    let _ = writeln!(s, "\n## Reading\n");
    let hosts: Vec<String> = problems[0]
        .materials
        .iter()
        .filter(|m| !m.electrolyte && m.site_density > 0.0)
        .map(|m| m.name.clone())
        .collect();
    let _ = writeln!(s, "{}\n", reading(runs, materials, &hosts, cmp));
    let _ = writeln!(
        s,
        "Files: `comparison.csv` (both runs on a common SOC grid), `swelling_vs_soc.png`, \
         `voltage_vs_soc.png`, `material_swelling_vs_soc.png`, `end_state_maps.png`; each run's \
         full output is in `buffered/` and `pristine/`."
    );
    s
}

/// A paragraph that says what the table shows, in the words a researcher would use.
fn reading(
    runs: &[RunSeries; 2],
    materials: &[String],
    hosts: &[String],
    cmp: &Comparison,
) -> String {
    let c = cmp.common_soc;
    let [b, p] = cmp.swelling;
    let mut text = String::new();
    let verb = if p < 0.0 { "contracts" } else { "swells" };
    let _ = write!(
        text,
        "Up to soc {c:.3}, which both runs reached, the buffered electrode {verb} by {} against {} for the pristine one",
        pct(b.abs()),
        pct(p.abs())
    );
    if b.is_finite() && p.is_finite() && p != 0.0 {
        let r = b / p;
        if r < 0.95 {
            let _ = write!(
                text,
                ": the buffer cuts the volume change to {:.0} % of the pristine value.",
                100.0 * r
            );
        } else if r > 1.05 {
            let _ = write!(
                text,
                ": the buffered electrode changes volume {:.2} times as much as the pristine one.",
                r
            );
        } else {
            let _ = write!(text, ": about the same.");
        }
    } else {
        text.push('.');
    }
    let at = |r: usize, col: &str| interpolate(&runs[r].against_soc(col), c);
    // The host that changes volume most in the pristine run is the one the buffer is for.
    let active = materials
        .iter()
        .filter(|m| hosts.contains(m))
        .map(|m| (m, at(1, &format!("swelling_{m}"))))
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    if let Some((m, vp)) = active {
        let vb = at(0, &format!("swelling_{m}"));
        if vb.is_finite() && vp != 0.0 {
            let r = vb / vp;
            let _ = write!(
                text,
                " Inside the {m} itself the volume change is {} against {} (ratio {r:.2}), so ",
                pct(vb.abs()),
                pct(vp.abs())
            );
            text.push_str(if r > 0.9 {
                "the buffer acts mostly by dilution and by taking part of the expansion up, not by making the active material swell less."
            } else {
                "the surrounding material also constrains or unloads the active material itself."
            });
        }
        let vm = [0, 1].map(|r| runs[r].peak(&format!("max_von_mises_{m}_gpa")));
        if vm.iter().all(|v| v.is_finite()) {
            let _ = write!(
                text,
                " The peak von Mises stress in {m} is {:.2} GPa buffered against {:.2} GPa pristine.",
                vm[0], vm[1]
            );
        }
    }
    let over = [0, 1].map(|r| runs[r].peak("overstressed_fraction"));
    if over.iter().all(|v| v.is_finite()) {
        let _ = write!(
            text,
            " At most {} of the buffered solid and {} of the pristine solid exceed the overstress threshold (a cracking proxy, docs/model.md).",
            pct(over[0]),
            pct(over[1])
        );
    }
    let vb = runs[0].against_soc("voltage");
    let vp = runs[1].against_soc("voltage");
    let (grid, _) = soc_grid(runs, true);
    let diffs: Vec<f64> = grid
        .iter()
        .map(|&s| interpolate(&vb, s) - interpolate(&vp, s))
        .filter(|d| d.is_finite())
        .collect();
    if !diffs.is_empty() {
        let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
        let max = diffs.iter().fold(0.0f64, |a, d| a.max(d.abs()));
        let _ = write!(
            text,
            " Over the SOC range both cover, the buffered voltage differs from the pristine one by {:.0} mV on average (largest gap {:.0} mV).",
            1e3 * mean,
            1e3 * max
        );
    }
    text
}

fn write_plots(runs: &[RunSeries; 2], materials: &[String], out: &Path) -> Result<()> {
    let series = |col: &str, scale: f64, name: &dyn Fn(&str) -> String| -> Vec<Series> {
        RUNS.iter()
            .zip(runs)
            .map(|(run, r)| {
                Series::line(
                    &name(run),
                    r.against_soc(col)
                        .into_iter()
                        .map(|(s, v)| (s, scale * v))
                        .collect(),
                )
            })
            .collect()
    };
    LinePlot {
        title: "Electrode swelling".into(),
        x_label: "state of charge (fraction of sites filled)".into(),
        y_label: "swelling ΔV/V (%)".into(),
        log_x: false,
        log_y: false,
        series: series("swelling", 100.0, &|r| r.to_string()),
    }
    .save(&out.join("swelling_vs_soc.png"))?;
    let voltage = series("voltage", 1.0, &|r| r.to_string());
    if voltage
        .iter()
        .any(|s| s.points.iter().any(|p| p.1.is_finite()))
    {
        LinePlot {
            title: "Voltage".into(),
            x_label: "state of charge (fraction of sites filled)".into(),
            y_label: "voltage vs metal (V)".into(),
            log_x: false,
            log_y: false,
            series: voltage,
        }
        .save(&out.join("voltage_vs_soc.png"))?;
    }
    let per_material: Vec<Series> = materials
        .iter()
        .flat_map(|m| series(&format!("swelling_{m}"), 100.0, &|r| format!("{m} {r}")))
        .filter(|s| s.points.iter().any(|p| p.1.is_finite()))
        .collect();
    if !per_material.is_empty() {
        LinePlot {
            title: "Volume change of each material".into(),
            x_label: "state of charge (fraction of sites filled)".into(),
            y_label: "mean volumetric strain in the material (%)".into(),
            log_x: false,
            log_y: false,
            series: per_material,
        }
        .save(&out.join("material_swelling_vs_soc.png"))?;
    }
    Ok(())
}

/// Side-by-side end-state maps: one row per run, shared colour ranges per field.
fn write_maps(problems: &[Problem; 2], runs: &[RunSeries; 2], out: &Path) -> Result<()> {
    let p = &problems[0];
    let fields: [(&str, &str); 3] = [
        ("c", "c (site fraction)"),
        ("volumetric_strain", "volumetric strain tr ε"),
        ("von_mises", "von Mises stress (GPa)"),
    ];
    let mut data: Vec<Vec<Option<Vec<f64>>>> = Vec::new();
    for (r, problem) in runs.iter().zip(problems) {
        let path = r.summary.out_dir.join("snapshots.h5");
        let mut d: Vec<Option<Vec<f64>>> = fields
            .iter()
            .map(|(f, _)| hdf5::read_last_field(&path, f))
            .collect::<Result<_>>()?;
        // c in pores is the nearest solid's value copied for the spectral derivatives, not
        // a composition: draw it grey.
        if let Some(c) = d[0].as_mut() {
            for (i, v) in c.iter_mut().enumerate() {
                if !problem.chemistry.is_solid(i) {
                    *v = f64::NAN;
                }
            }
        }
        data.push(d);
    }
    let finite_max = |k: usize, f: &dyn Fn(f64) -> f64| -> f64 {
        data.iter()
            .filter_map(|d| d[k].as_ref())
            .flat_map(|v| v.iter().copied())
            .filter(|v| v.is_finite())
            .map(f)
            .fold(0.0, f64::max)
    };
    let nonzero = |v: f64| if v > 0.0 { v } else { 1.0 };
    let ranges = [
        [0.0, 1.0],
        {
            let m = nonzero(finite_max(1, &f64::abs));
            [-m, m]
        },
        [0.0, nonzero(finite_max(2, &|v| v))],
    ];
    let titles: Vec<Vec<String>> = RUNS
        .iter()
        .map(|run| fields.iter().map(|(f, _)| format!("{run}: {f}")).collect())
        .collect();
    let l = p.grid.lengths();
    let u = &p.units;
    let mut panels = Vec::new();
    for (r, d) in data.iter().enumerate() {
        for (k, (_, label)) in fields.iter().enumerate() {
            if let Some(values) = &d[k] {
                panels.push(Panel {
                    values,
                    spec: MapSpec {
                        title: &titles[r][k],
                        label,
                        range: ranges[k],
                        lengths: [l[0] * u.length, l[1] * u.length],
                        length_unit: "nm",
                    },
                });
            }
        }
    }
    if panels.is_empty() {
        return Ok(());
    }
    let cols = panels.len() / 2;
    write_panels(
        &out.join("end_state_maps.png"),
        &panels,
        &p.grid,
        cols.max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_is_linear_and_nan_outside() {
        let pts = [(0.0, 0.0), (0.5, 1.0), (1.0, 3.0)];
        assert_eq!(interpolate(&pts, 0.25), 0.5);
        assert_eq!(interpolate(&pts, 0.75), 2.0);
        assert_eq!(interpolate(&pts, 1.0), 3.0);
        assert_eq!(interpolate(&pts, 0.0), 0.0);
        assert!(interpolate(&pts, 1.01).is_nan());
        assert!(interpolate(&pts, -0.01).is_nan());
        assert!(interpolate(&[], 0.5).is_nan());
    }
}

/// `--sweep key=v1,v2,...`: one config key and the values to compare at.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub key: String,
    pub values: Vec<String>,
}

impl Sweep {
    /// Parses `key=v1,v2,...`; commas inside brackets belong to a value (`grid.n=[64,64],[128,128]`).
    pub fn parse(arg: &str) -> Result<Sweep> {
        let bad = |reason: &str| {
            Error::invalid(
                "--sweep",
                arg,
                reason,
                "write --sweep section.key=v1,v2,..., e.g. --sweep materials.hc.young_modulus_gpa=10,20,40",
            )
        };
        let (key, list) = arg.split_once('=').ok_or_else(|| bad("no '='"))?;
        let key = key.trim();
        if key.is_empty() || !key.contains('.') {
            return Err(bad("the key must be section.key"));
        }
        let mut values = Vec::new();
        let (mut depth, mut cur) = (0i32, String::new());
        for ch in list.chars() {
            match ch {
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                _ => {}
            }
            if ch == ',' && depth == 0 {
                values.push(std::mem::take(&mut cur).trim().to_string());
            } else {
                cur.push(ch);
            }
        }
        values.push(cur.trim().to_string());
        if values.iter().any(String::is_empty) {
            return Err(bad("an empty value"));
        }
        if values.len() < 2 {
            return Err(bad("a sweep needs at least two values"));
        }
        Ok(Sweep {
            key: key.to_string(),
            values,
        })
    }

    /// The `--set` for one value.
    fn set(&self, value: &str) -> String {
        format!("{}={value}", self.key)
    }

    /// A folder name for one value.
    fn folder(&self, value: &str) -> String {
        let v: String = value
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{}={v}", self.key)
    }
}

/// One comparison per swept value, each in `out/<key>=<value>/`, then `sweep.csv` and
/// `ratio_vs_<key>.png` in `out`. Every value's config is loaded and checked before any run.
pub fn sweep(
    path: &Path,
    sets: &[String],
    sweep: &Sweep,
    opts: &CompareOptions,
) -> Result<Vec<(String, Comparison)>> {
    let mut loaded = Vec::new();
    for v in &sweep.values {
        let mut all = sets.to_vec();
        all.push(sweep.set(v));
        let cfg = crate::config::load(path, &all).map_err(|e| match e {
            Error::ConfigParse { message, .. } => Error::invalid(
                &format!("--sweep {}", sweep.key),
                v,
                &format!("the config does not take it: {message}"),
                "sweep a key docs/config.md lists, e.g. materials.hc.young_modulus_gpa",
            ),
            other => other,
        })?;
        precheck(&cfg)?;
        loaded.push(cfg);
    }
    let mut results = Vec::new();
    for (v, cfg) in sweep.values.iter().zip(&loaded) {
        if !opts.quiet {
            eprintln!("{} = {v}:", sweep.key);
        }
        let one = CompareOptions {
            out_dir: opts.out_dir.join(sweep.folder(v)),
            ..opts.clone()
        };
        let result = run(cfg, &one)?;
        if !opts.quiet {
            eprintln!("{result}");
        }
        results.push((v.clone(), result));
    }
    write_sweep(sweep, &results, &opts.out_dir)?;
    Ok(results)
}

fn write_sweep(sweep: &Sweep, results: &[(String, Comparison)], out: &Path) -> Result<()> {
    let mut csv =
        String::from("value,common_soc,swelling_buffered,swelling_pristine,ratio,folder\n");
    for (v, r) in results {
        let _ = writeln!(
            csv,
            "{},{:.6e},{:.6e},{:.6e},{:.6e},{}",
            if v.contains(',') {
                format!("\"{v}\"")
            } else {
                v.clone()
            },
            r.common_soc,
            r.swelling[0],
            r.swelling[1],
            r.ratio(),
            sweep.folder(v)
        );
    }
    write_file(&out.join("sweep.csv"), &csv)?;
    let numeric: Option<Vec<f64>> = results.iter().map(|(v, _)| v.parse().ok()).collect();
    // Non-numeric values (a boundary kind, a grid) get a table but no line plot.
    if let Some(xs) = numeric {
        let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, &x| {
            (a.0.min(x), a.1.max(x))
        });
        let points: Vec<(f64, f64)> = xs
            .iter()
            .zip(results)
            .map(|(&x, (_, r))| (x, r.ratio()))
            .collect();
        LinePlot {
            title: format!("Swelling ratio against {}", sweep.key),
            x_label: sweep.key.clone(),
            y_label: "swelling buffered / pristine".into(),
            log_x: lo > 0.0 && hi / lo >= 10.0,
            log_y: false,
            series: vec![Series::points("buffered / pristine", points)],
        }
        .save(&out.join(format!("ratio_vs_{}.png", sweep.key)))?;
    }
    Ok(())
}
