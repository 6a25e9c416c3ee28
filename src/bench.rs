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
