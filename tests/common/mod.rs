//! Shared test helpers: load a shipped config with overrides, build backends, compare with a
//! named tolerance.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};

use swellfield::backend::cpu::CpuBackend;
use swellfield::config::{self, LoadedConfig};
use swellfield::materials::lame;
use swellfield::problem::Problem;

/// Path of a file in the repository.
/// `SWELLFIELD_REPO` overrides the build's checkout, for test binaries carried to another
/// machine (scripts/device-check).
pub fn repo(path: &str) -> PathBuf {
    std::env::var_os("SWELLFIELD_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf())
        .join(path)
}

/// A shipped config with `--set` overrides, validated.
pub fn load(path: &str, sets: &[&str]) -> LoadedConfig {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    config::load(&repo(path), &sets).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The scaled problem of a shipped config with overrides.
pub fn problem(path: &str, sets: &[&str]) -> Problem {
    Problem::new(&load(path, sets).config).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The f64 CPU reference backend.
pub fn cpu_backend(problem: &Problem) -> CpuBackend {
    CpuBackend::new(problem)
}

/// The largest |gpu − cpu| over the voxels, where, and the field's largest |cpu|.
pub fn worst(cpu: &[f64], gpu: &[f64]) -> (f64, usize, f64) {
    let scale = cpu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (d, at) = cpu
        .iter()
        .zip(gpu)
        .enumerate()
        .map(|(i, (x, y))| ((x - y).abs(), i))
        .fold((0.0, 0), |m, v| if v.0 > m.0 { v } else { m });
    (d, at, scale)
}

/// `|actual − expected| ≤ absolute + relative·|expected|`.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub relative: f64,
    pub absolute: f64,
}

impl Tolerance {
    pub fn holds(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= self.absolute + self.relative * expected.abs()
    }
}

/// Reads a CSV written by swellfield: header and rows of numbers.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.parse::<f64>().unwrap_or_else(|e| panic!("{v}: {e}")))
                .collect()
        })
        .collect();
    (header, rows)
}

/// Column `name` of a CSV read by [`read_csv`].
pub fn column(header: &[String], rows: &[Vec<f64>], name: &str) -> Vec<f64> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    rows.iter().map(|r| r[i]).collect()
}

/// A fresh temporary folder.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}

/// Runs the `swellfield` binary from the repository root: (success, stdout, stderr).
pub fn swellfield(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_swellfield"))
        .args(args)
        .current_dir(repo("."))
        .output()
        .expect("run swellfield");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Interface pressure p = σ_rr(a) of a core (radius a, eigenstrain β in all three directions)
/// bonded in a shell (outer radius b, free outer surface), plane strain (ε_zz = 0). With
/// u = A r in the core and u = A₂ r + B₂/r in the shell, σ_rr = 2(λ+μ)A − 2μB/r² − (3λ+2μ)β.
pub fn lame_pressure(a: f64, b: f64, core: (f64, f64), shell: (f64, f64), beta: f64) -> f64 {
    let (l1, m1) = lame(core.0, core.1);
    let (l2, m2) = lame(shell.0, shell.1);
    // Unknowns A1, A2, B2: continuity of u and σ_rr at a, σ_rr(b) = 0.
    let m = [
        [1.0, -1.0, -1.0 / (a * a)],
        [2.0 * (l1 + m1), -2.0 * (l2 + m2), 2.0 * m2 / (a * a)],
        [0.0, 2.0 * (l2 + m2), -2.0 * m2 / (b * b)],
    ];
    let rhs = [0.0, (3.0 * l1 + 2.0 * m1) * beta, 0.0];
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let mut m1_ = m;
    for r in 0..3 {
        m1_[r][0] = rhs[r];
    }
    let a1 = det(m1_) / det(m);
    2.0 * (l1 + m1) * a1 - (3.0 * l1 + 2.0 * m1) * beta
}

/// A run of a loaded config on the CPU backend into a temporary folder, with its time series.
pub struct CpuRun {
    /// The run's output folder (removed when this is dropped).
    pub dir: tempfile::TempDir,
    pub summary: swellfield::simulation::RunSummary,
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl CpuRun {
    /// Column `name` of the run's `timeseries.csv`.
    pub fn column(&self, name: &str) -> Vec<f64> {
        column(&self.header, &self.rows, name)
    }
}

/// Runs `loaded` (its buffered cell) on the CPU, quietly; panics naming `what` if it fails.
pub fn run_cpu(loaded: &LoadedConfig, what: &str) -> CpuRun {
    let dir = temp_dir();
    let opts = swellfield::simulation::RunOptions {
        out_dir: dir.path().to_path_buf(),
        backend: swellfield::backend::BackendChoice::Cpu,
        quiet: true,
        pristine: false,
    };
    let summary =
        swellfield::simulation::run(loaded, &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    let (header, rows) = read_csv(&dir.path().join("timeseries.csv"));
    CpuRun {
        dir,
        summary,
        header,
        rows,
    }
}
