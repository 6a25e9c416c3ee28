//! `swellfield bench`: ms per step of swellfield's backends against the peer implementations
//! of the same step, measured in the same run on the same machine, reported as ratios.
//!
//! The Cahn–Hilliard case matches `numpy_chel.py --chonly` transform for transform
//! (4 + 2·dim real FFTs per step, variable mobility, stabilised semi-implicit update).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::backend::{Backend, cpu::CpuBackend};
use crate::config::parse;
use crate::error::{Error, Result};
use crate::problem::Problem;

/// One benchmark case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub n: usize,
    pub dim: usize,
    pub steps: usize,
}

/// The cases: 256² and 128³.
pub const CH_CASES: [Case; 2] = [
    Case {
        n: 256,
        dim: 2,
        steps: 20,
    },
    Case {
        n: 128,
        dim: 3,
        steps: 5,
    },
];

/// One measured line of the table.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub case: Case,
    pub swellfield_ms: f64,
    pub peer_ms: Option<f64>,
    pub peer_note: String,
}

/// A variable-mobility Cahn–Hilliard problem on `n^dim` voxels (regular solution, noise).
pub fn ch_problem(n: usize, dim: usize) -> Result<Problem> {
    let grid = if dim == 2 {
        format!("n = [{n}, {n}]\nlength_nm = [{n}.0, {n}.0]")
    } else {
        format!("n = [{n}, {n}, {n}]\nlength_nm = [{n}.0, {n}.0, {n}.0]")
    };
    let text = format!(
        "[grid]\n{grid}\n[materials.host]\ndiffusivity_cm2_s = 1e-12\nsite_density_mol_m3 = 1e5\nu0_v = 0.3\nomega_ev = 0.1\n\
         [cahn_hilliard]\ninterface_width_nm = 4.0\n[initial]\nkind = \"uniform\"\nc0 = 0.5\nnoise = 0.05\n\
         [time]\nend = 1.0\ndt_max = 0.01\n"
    );
    let config = parse(&text, Path::new("bench"), &[])?;
    config.validate()?;
    Problem::new(&config)
}

/// Mean wall time per step of `backend` after three warm-up steps, in ms.
pub fn time_steps(backend: &mut dyn Backend, dt: f64, steps: usize) -> Result<f64> {
    for _ in 0..3 {
        backend.step(dt)?;
    }
    let t0 = Instant::now();
    for _ in 0..steps {
        backend.step(dt)?;
    }
    Ok(t0.elapsed().as_secs_f64() * 1e3 / steps as f64)
}

/// Runs the NumPy peer for one case and reads its `ms/step`.
pub fn run_numpy_peer(peer_dir: &Path, case: Case) -> Result<f64> {
    let script = peer_dir.join("numpy_chel.py");
    let peer = script.display().to_string();
    if !script.exists() {
        return Err(Error::Peer {
            peer,
            reason: "not found".into(),
            fix: "pass --peers DIR (the team's shared/peers)".into(),
        });
    }
    let out = Command::new("python3")
        .arg(&script)
        .args([
            "--chonly",
            "--n",
            &case.n.to_string(),
            "--dim",
            &case.dim.to_string(),
            "--steps",
            &case.steps.to_string(),
        ])
        .output()
        .map_err(|e| Error::Peer {
            peer: peer.clone(),
            reason: e.to_string(),
            fix: "install python3".into(),
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::Peer {
            peer,
            reason: String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
                .to_string(),
            fix: "pip install numpy scipy".into(),
        });
    }
    parse_ms_per_step(&stdout).ok_or_else(|| Error::Peer {
        peer,
        reason: format!("no 'ms/step' in its output: {stdout}"),
        fix: "check the peer script version".into(),
    })
}

/// The number before "ms/step" in a peer's line.
pub fn parse_ms_per_step(text: &str) -> Option<f64> {
    let i = text.find(" ms/step")?;
    text[..i]
        .rsplit(|c: char| c.is_whitespace())
        .next()?
        .parse()
        .ok()
}

/// Measures every case on the CPU backend and its peer.
pub fn run_cpu(peer_dir: &Path, cases: &[Case]) -> Result<Vec<Measurement>> {
    let mut rows = Vec::new();
    for &case in cases {
        let problem = ch_problem(case.n, case.dim)?;
        let mut cpu = CpuBackend::new(&problem);
        let swellfield_ms = time_steps(&mut cpu, problem.time.dt_max, case.steps)?;
        drop(cpu);
        let (peer_ms, peer_note) = match run_numpy_peer(peer_dir, case) {
            Ok(ms) => (Some(ms), String::new()),
            Err(e) => (None, e.to_string()),
        };
        rows.push(Measurement {
            case,
            swellfield_ms,
            peer_ms,
            peer_note,
        });
    }
    Ok(rows)
}

/// The measurements as a Markdown table.
pub fn table(rows: &[Measurement]) -> String {
    let mut s = String::from(
        "| case | real FFTs/step | swellfield cpu (ms/step) | numpy+scipy peer (ms/step) | peer / swellfield |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let c = r.case;
        let grid = if c.dim == 2 {
            format!("CH {}^2", c.n)
        } else {
            format!("CH {}^3", c.n)
        };
        let (peer, ratio) = match r.peer_ms {
            Some(p) => (format!("{p:.2}"), format!("{:.2}", p / r.swellfield_ms)),
            None => ("n/a".into(), format!("n/a ({})", r.peer_note)),
        };
        s += &format!(
            "| {grid} | {} | {:.2} | {peer} | {ratio} |\n",
            4 + 2 * c.dim,
            r.swellfield_ms
        );
    }
    s
}

/// Default location of the team's peers: `../shared/peers` from the repository root.
pub fn default_peer_dir() -> PathBuf {
    PathBuf::from("../shared/peers")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_peer_timing() {
        let line = "numpy n=256 dim=2 K=0 chonly f64: 12.345 ms/step, 8 real FFTs/step, mean c=0.5";
        assert_eq!(super::parse_ms_per_step(line), Some(12.345));
    }
}

/// The full-step cases of issue 4: 256² and 64³.
pub const FULL_CASES: [Case; 2] = [
    Case {
        n: 256,
        dim: 2,
        steps: 10,
    },
    Case {
        n: 64,
        dim: 3,
        steps: 5,
    },
];

/// A two-phase elastic problem like the peer's: a disk (sphere) of radius 0.3 n of a host ten
/// times stiffer than the surrounding host, both expanding with c (ε* = 0.05 c), free boundary,
/// CG to a 1e-6 relative residual. `mechanics` false drops the elasticity (same step otherwise).
pub fn full_problem(n: usize, dim: usize, mechanics: bool) -> Result<Problem> {
    let (grid, center) = if dim == 2 {
        (
            format!("n = [{n}, {n}]\nlength_nm = [{n}.0, {n}.0]"),
            format!("[{h}.0, {h}.0]", h = n / 2),
        )
    } else {
        (
            format!("n = [{n}, {n}, {n}]\nlength_nm = [{n}.0, {n}.0, {n}.0]"),
            format!("[{h}.0, {h}.0, {h}.0]", h = n / 2),
        )
    };
    let r = 0.3 * n as f64;
    let host = |name: &str, e: f64| {
        format!(
            "[materials.{name}]\ndiffusivity_cm2_s = 1e-12\nsite_density_mol_m3 = 1e5\nu0_v = 0.3\nomega_ev = 0.1\n\
             young_modulus_gpa = {e}\npoisson_ratio = 0.3\neigenstrain = [0.05, 0.05, 0.05]\n"
        )
    };
    let mech = if mechanics {
        "[mechanics]\nboundary = \"free\"\ntolerance = 1e-6\n"
    } else {
        ""
    };
    let text = format!(
        "[grid]\n{grid}\n{}{}[microstructure]\nmatrix = \"soft\"\n[[microstructure.shapes]]\nkind = \"sphere\"\nmaterial = \"stiff\"\n\
         center_nm = {center}\nradius_nm = {r}\n{mech}[cahn_hilliard]\ninterface_width_nm = 4.0\n\
         [initial]\nkind = \"uniform\"\nc0 = 0.5\nnoise = 0.05\n[time]\nend = 1.0\ndt_max = 0.01\n",
        host("soft", 10.0),
        host("stiff", 100.0),
    );
    let config = parse(&text, Path::new("bench"), &[])?;
    config.validate()?;
    Problem::new(&config)
}

/// One full-step measurement: ms per step with and without mechanics, mean CG iterations, and
/// the peer's full step with K = 4 fixed-point iterations and its Cahn–Hilliard-only step.
#[derive(Debug, Clone)]
pub struct FullMeasurement {
    pub case: Case,
    pub full_ms: f64,
    pub ch_ms: f64,
    pub iterations: f64,
    pub peer_full_ms: Option<f64>,
    pub peer_ch_ms: Option<f64>,
    pub peer_note: String,
}

/// Runs the NumPy peer with `--K k` (full step) or `--chonly`.
pub fn run_numpy_peer_k(peer_dir: &Path, case: Case, k: Option<usize>) -> Result<f64> {
    let script = peer_dir.join("numpy_chel.py");
    let peer = script.display().to_string();
    if !script.exists() {
        return Err(Error::Peer {
            peer,
            reason: "not found".into(),
            fix: "pass --peers DIR (the team's shared/peers)".into(),
        });
    }
    let mut args = vec![
        "--n".to_string(),
        case.n.to_string(),
        "--dim".into(),
        case.dim.to_string(),
        "--steps".into(),
        case.steps.to_string(),
    ];
    match k {
        Some(k) => args.extend(["--K".to_string(), k.to_string()]),
        None => args.push("--chonly".into()),
    }
    let out = Command::new("python3")
        .arg(&script)
        .args(&args)
        .output()
        .map_err(|e| Error::Peer {
            peer: peer.clone(),
            reason: e.to_string(),
            fix: "install python3".into(),
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::Peer {
            peer,
            reason: String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
                .to_string(),
            fix: "pip install numpy scipy".into(),
        });
    }
    parse_ms_per_step(&stdout).ok_or_else(|| Error::Peer {
        peer,
        reason: format!("no 'ms/step' in: {stdout}"),
        fix: "check the peer script".into(),
    })
}

/// Measures the full step (CH + elasticity to tolerance) and the peer's.
pub fn run_full(peer_dir: &Path, cases: &[Case]) -> Result<Vec<FullMeasurement>> {
    let mut rows = Vec::new();
    for &case in cases {
        let problem = full_problem(case.n, case.dim, true)?;
        let mut cpu = CpuBackend::new(&problem);
        let dt = problem.time.dt_max;
        for _ in 0..3 {
            cpu.step(dt)?;
        }
        let t0 = Instant::now();
        let mut iterations = 0u64;
        for _ in 0..case.steps {
            iterations += cpu.step(dt)?.elastic_iterations;
        }
        let full_ms = t0.elapsed().as_secs_f64() * 1e3 / case.steps as f64;
        drop(cpu);
        let problem = full_problem(case.n, case.dim, false)?;
        let mut cpu = CpuBackend::new(&problem);
        let ch_ms = time_steps(&mut cpu, dt, case.steps)?;
        drop(cpu);
        let full = run_numpy_peer_k(peer_dir, case, Some(4));
        let ch = run_numpy_peer_k(peer_dir, case, None);
        let peer_note = match (&full, &ch) {
            (Err(e), _) | (_, Err(e)) => e.to_string(),
            _ => String::new(),
        };
        rows.push(FullMeasurement {
            case,
            full_ms,
            ch_ms,
            iterations: iterations as f64 / case.steps as f64,
            peer_full_ms: full.ok(),
            peer_ch_ms: ch.ok(),
            peer_note,
        });
    }
    Ok(rows)
}

/// The full-step measurements as a Markdown table.
pub fn full_table(rows: &[FullMeasurement]) -> String {
    let mut s = String::from(
        "| case | swellfield full step (ms) | CG iterations/step (warm) | swellfield ms per elastic iteration | peer full step, K = 4 (ms) | peer ms per fixed-point iteration |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let c = r.case;
        let grid = if c.dim == 2 {
            format!("{}^2", c.n)
        } else {
            format!("{}^3", c.n)
        };
        let per_it = if r.iterations > 0.0 {
            format!("{:.2}", (r.full_ms - r.ch_ms) / r.iterations)
        } else {
            "n/a".into()
        };
        let (peer, peer_it) = match (r.peer_full_ms, r.peer_ch_ms) {
            (Some(f), Some(ch)) => (format!("{f:.2}"), format!("{:.2}", (f - ch) / 4.0)),
            _ => ("n/a".into(), format!("n/a ({})", r.peer_note)),
        };
        s += &format!(
            "| {grid} | {:.2} | {:.1} | {per_it} | {peer} | {peer_it} |\n",
            r.full_ms, r.iterations
        );
    }
    s
}

/// One multi-material case: the Sn in hard carbon cell (configs/sn_hard_carbon.toml) with
/// overrides, its chemistry step alone (mechanics off), `steps` steps of [`MULTI_DT_S`].
#[derive(Debug, Clone, Copy)]
pub struct MultiCase {
    pub label: &'static str,
    pub sets: &'static [&'static str],
    pub steps: usize,
    /// The stabilised-groups step of commit 3ff9fbd (with that commit's
    /// `reaction_gradient = "spectral_radius"`) on the same case, ms per step, as recorded on the
    /// developer VM (2 cores of an AMD EPYC) by this benchmark in the same run as the
    /// convex-splitting step: this binary cannot run it (docs/benchmarks.md, CHANGELOG.md).
    pub groups_ms: f64,
}

/// The cells: the main job's buffered cell at 128² and 256², and a porous two-host cell
/// at 64³ (a 500 nm box, 12 % Sn so that its particles fit).
pub const MULTI_CASES: [MultiCase; 3] = [
    MultiCase {
        label: "Sn@HC 128^2",
        sets: &[],
        steps: 10,
        groups_ms: GROUPS_128,
    },
    MultiCase {
        label: "Sn@HC 256^2",
        sets: &["grid.n=[256, 256]"],
        steps: 5,
        groups_ms: GROUPS_256,
    },
    MultiCase {
        label: "Sn@HC 64^3",
        sets: &[
            "grid.n=[64, 64, 64]",
            "grid.length_nm=[500.0, 500.0, 500.0]",
            "microstructure.shapes[1].volume_fraction=0.12",
        ],
        steps: 3,
        groups_ms: GROUPS_64_3,
    },
];

/// The recorded stabilised-groups figures of [`MultiCase::groups_ms`], ms per step.
const GROUPS_128: f64 = 73.3;
const GROUPS_256: f64 = 564.7;
const GROUPS_64_3: f64 = 649.1;

/// The main job's config, which the multi-material cases start from.
pub const MULTI_CONFIG: &str = "configs/sn_hard_carbon.toml";
/// The step the multi-material cases take (s): the one the recorded figures were measured at,
/// whatever the config's dt_max.
pub const MULTI_DT_S: f64 = 20.0;

/// One multi-material line: each scheme's ms per step of [`MULTI_DT_S`] and the convex-splitting step's
/// solver counts.
#[derive(Debug, Clone)]
pub struct MultiMeasurement {
    pub label: &'static str,
    /// The step in seconds.
    pub dt_s: f64,
    pub convex_ms: f64,
    pub groups_ms: f64,
    /// Newton iterations per step and MINRES iterations per Newton iteration.
    pub newton: f64,
    pub minres: f64,
}

/// Times the convex-splitting step on each case: three warm-up steps, then `steps` steps, all
/// of [`MULTI_DT_S`]; the stabilised-groups step's figures come from the case (recorded).
pub fn run_multi(cases: &[MultiCase]) -> Result<Vec<MultiMeasurement>> {
    let mut rows = Vec::new();
    for case in cases {
        let mut sets: Vec<String> = case.sets.iter().map(|s| s.to_string()).collect();
        sets.push(format!("time.dt_max={MULTI_DT_S}"));
        let loaded = crate::config::load(Path::new(MULTI_CONFIG), &sets)?;
        let mut problem = Problem::new(&loaded.config)?;
        problem.mechanics = None;
        let mut backend = CpuBackend::new(&problem);
        let dt = problem.time.dt_max;
        for _ in 0..3 {
            backend.step(dt)?;
        }
        let (mut newton, mut linear) = (0, 0);
        let t0 = Instant::now();
        for _ in 0..case.steps {
            let r = backend.step(dt)?;
            newton += r.newton_iterations;
            linear += r.linear_iterations;
        }
        let ms = t0.elapsed().as_secs_f64() * 1e3 / case.steps as f64;
        rows.push(MultiMeasurement {
            label: case.label,
            dt_s: dt * problem.units.time,
            convex_ms: ms,
            groups_ms: case.groups_ms,
            newton: newton as f64 / case.steps as f64,
            minres: linear as f64 / newton.max(1) as f64,
        });
    }
    Ok(rows)
}

/// The multi-material measurements as a Markdown table.
pub fn multi_table(rows: &[MultiMeasurement]) -> String {
    let mut s = format!(
        "| cell (chemistry only, dt = {MULTI_DT_S} s) | convex splitting (ms/step) | (ms per simulated s) | Newton/step | MINRES/Newton | stabilised groups, 3ff9fbd (ms/step, recorded) | groups / convex |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s += &format!(
            "| {} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} |\n",
            r.label,
            r.convex_ms,
            r.convex_ms / r.dt_s,
            r.newton,
            r.minres,
            r.groups_ms,
            r.groups_ms / r.convex_ms
        );
    }
    s
}

/// One mechanics case: the main job's cell with stress acting on μ and Sn flowing at 0.15 GPa
/// (materials.md §11), with `sets` on top: the nonlinear elastic solve of each step on the
/// loading path the coupled run takes, beside a linear solve (Voigt, elastic) on the same path.
#[derive(Debug, Clone, Copy)]
pub struct MechanicsCase {
    pub label: &'static str,
    pub sets: &'static [&'static str],
    /// Steps before the timed ones, from the config's first step growing 1.5 times a step to
    /// [`MECHANICS_DT_S`] (the first solve starts from no strain at all).
    pub warm_up: usize,
    pub steps: usize,
}

/// The main job's cell at 64² and 128², its voxels mixed by Voigt and as laminates.
pub const MECHANICS_CASES: [MechanicsCase; 4] = [
    MechanicsCase {
        label: "Sn@HC 64^2, Voigt",
        sets: &["grid.n=[64, 64]"],
        warm_up: 40,
        steps: 10,
    },
    MechanicsCase {
        label: "Sn@HC 64^2, laminate",
        sets: &["grid.n=[64, 64]", "mechanics.mixing=\"laminate\""],
        warm_up: 40,
        steps: 10,
    },
    MechanicsCase {
        label: "Sn@HC 128^2, Voigt",
        sets: &[],
        warm_up: 40,
        steps: 10,
    },
    MechanicsCase {
        label: "Sn@HC 128^2, laminate",
        sets: &["mechanics.mixing=\"laminate\""],
        warm_up: 40,
        steps: 10,
    },
];

/// The coupling and the flow every mechanics case adds to the main job's config.
const MECHANICS_SETS: [&str; 2] = [
    "mechanics.stress_coupling=true",
    "materials.sn.yield_stress_gpa=0.15",
];
/// The step the mechanics cases take (s): the main job's steps settle near it.
pub const MECHANICS_DT_S: f64 = 130.0;

/// One mechanics line, per time step: the nonlinear solve's ms, CG and Newton iterations, and
/// the linear solve's ms and CG iterations on the same states.
#[derive(Debug, Clone)]
pub struct MechanicsMeasurement {
    pub label: &'static str,
    pub nonlinear_ms: f64,
    pub cg: f64,
    pub newton: f64,
    pub linear_ms: f64,
    pub linear_cg: f64,
}

/// Runs each case's coupled chemistry for its warm-up and timed steps, keeping c after each,
/// then replays that path through a fresh elastic solve of the case (its plastic history
/// advancing state by state as in the run) and through a linear one (no yield, Voigt), timing
/// the last `steps` solves of each.
pub fn run_mechanics(cases: &[MechanicsCase]) -> Result<Vec<MechanicsMeasurement>> {
    use crate::backend::cpu::elasticity::Elasticity;
    use crate::backend::cpu::fft::Fft;
    use crate::fields::FieldName;
    let mut rows = Vec::new();
    for case in cases {
        let mut sets: Vec<String> = MECHANICS_SETS.iter().map(|s| s.to_string()).collect();
        sets.extend(case.sets.iter().map(|s| s.to_string()));
        let loaded = crate::config::load(Path::new(MULTI_CONFIG), &sets)?;
        let problem = Problem::new(&loaded.config)?;
        let dt_max = MECHANICS_DT_S / problem.units.time;
        let mut backend = CpuBackend::new(&problem);
        let mut path = Vec::new();
        // From the config's first step, growing by half a step each, as a run's first steps do.
        let mut dt = problem.time.dt_initial;
        for _ in 0..case.warm_up + case.steps {
            backend.step(dt)?;
            path.push(backend.fields(&[FieldName::C])?.0.remove(0).1);
            dt = (1.5 * dt).min(dt_max);
        }
        let replay = |problem: &Problem| -> Result<(f64, u64, u64)> {
            let mech = problem.mechanics.as_ref().expect("mechanics");
            let mut el = Elasticity::new(problem, mech);
            let mut fft = Fft::new(problem.grid.n);
            let (mut seconds, mut cg, mut newton) = (0.0, 0, 0);
            for (k, c) in path.iter().enumerate() {
                let t0 = Instant::now();
                el.update_material(c);
                let (iterations, _) = el.solve(&mut fft)?;
                el.commit();
                if k >= case.warm_up {
                    seconds += t0.elapsed().as_secs_f64();
                    cg += iterations;
                    newton += el.newton_residuals.len().saturating_sub(1) as u64;
                }
            }
            Ok((seconds, cg, newton))
        };
        // On the threads the backend would give this grid.
        let pool = crate::backend::cpu::thread_pool(problem.grid.len());
        let (seconds, cg, newton) = pool.install(|| replay(&problem))?;
        let mut linear = problem.clone();
        if let Some(m) = linear.mechanics.as_mut() {
            m.mixing = crate::config::Mixing::Voigt;
            for mat in &mut m.materials {
                mat.plastic = None;
            }
        }
        let (linear_seconds, linear_cg, _) = pool.install(|| replay(&linear))?;
        let per = |v: f64| v / case.steps as f64;
        rows.push(MechanicsMeasurement {
            label: case.label,
            nonlinear_ms: per(seconds * 1e3),
            cg: per(cg as f64),
            newton: per(newton as f64),
            linear_ms: per(linear_seconds * 1e3),
            linear_cg: per(linear_cg as f64),
        });
    }
    Ok(rows)
}

/// The mechanics measurements as a Markdown table.
pub fn mechanics_table(rows: &[MechanicsMeasurement]) -> String {
    let mut s = format!(
        "| cell (stress coupled, Sn flowing at 0.15 GPa, dt = {MECHANICS_DT_S} s) | nonlinear solve (ms/step) | Newton/step | CG/Newton | ms/Newton | linear solve (ms/step) | CG/step, linear | nonlinear / linear |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s += &format!(
            "| {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.0} | {:.1} |\n",
            r.label,
            r.nonlinear_ms,
            r.newton,
            r.cg / r.newton.max(1e-9),
            r.nonlinear_ms / r.newton.max(1e-9),
            r.linear_ms,
            r.linear_cg,
            r.nonlinear_ms / r.linear_ms
        );
    }
    s
}
