//! Shared test helpers: load a shipped config with overrides, build backends, compare with a
//! named tolerance.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};

use swellfield::backend::cpu::CpuBackend;
use swellfield::config::{self, LoadedConfig};
use swellfield::problem::Problem;

/// Path of a file in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
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
