//! The host-memory estimate (src/memory.rs) against real runs, and the refusal of a grid that
//! does not fit, through the command line.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use swellfield::backend::BackendChoice;
use swellfield::memory;

/// How far the estimate's bytes per voxel may lie from the measured ones.
const ESTIMATE: f64 = 0.25;

/// The peak resident memory (VmHWM, bytes) of `swellfield args...`, read from /proc while it
/// runs (the high-water mark only grows, so the last reading is the run's peak to within its
/// last few milliseconds).
fn peak_resident(args: &[&str]) -> f64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swellfield"))
        .args(args)
        .current_dir(common::repo(""))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("swellfield starts");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0.0_f64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        {
            peak = peak.max(kb * 1024.0);
        }
        if let Some(done) = child.try_wait().unwrap() {
            assert!(done.success(), "swellfield {args:?} failed");
            return peak;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The main job's buffered cell at 128² and 256² (same voxel size), eight 1 ms steps with a
/// snapshot at each end: the growth of its peak memory per voxel (measured 1546 bytes) is the
/// estimate's (1338 bytes) within [`ESTIMATE`].
#[test]
fn estimate_follows_the_measured_memory() {
    let run = |n: usize| {
        let grid = format!("grid.n=[{n}, {n}]");
        let length = format!("grid.length_nm=[{0}.0, {0}.0]", n * 1000 / 128);
        let dir = common::temp_dir();
        let out = dir.path().join("run");
        let args = [
            "run",
            "configs/sn_hard_carbon.toml",
            "--backend",
            "cpu",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--set",
            &grid,
            "--set",
            &length,
            "--set",
            "time.end=0.01",
            "--set",
            "time.dt_max=0.01",
            "--set",
            "output.interval=0.01",
        ];
        (
            peak_resident(&args),
            common::load("configs/sn_hard_carbon.toml", &[&grid, &length]).config,
        )
    };
    let (small, config) = run(128);
    let (large, _) = run(256);
    let measured = (large - small) / (256.0 * 256.0 - 128.0 * 128.0);
    let estimated = memory::estimate(&config, BackendChoice::Cpu, 1.0).per_voxel;
    assert!(
        (estimated / measured - 1.0).abs() <= ESTIMATE,
        "estimated {estimated:.0} bytes per voxel, measured {measured:.0}"
    );
}

/// A grid far beyond the machine's memory is refused before anything is allocated, with one
/// line naming what the run needs, what is available and the largest grid of its shape that
/// fits: for `run` on the CPU and on the GPU backend (whose host copy of the problem would not
/// fit either), and for `compare`, whose two runs are counted together.
#[test]
fn a_grid_that_does_not_fit_is_refused() {
    let dir = common::temp_dir();
    let out = dir.path().join("big");
    for (verb, backend) in [("run", "cpu"), ("run", "gpu"), ("compare", "cpu")] {
        let (ok, _, err) = common::swellfield(&[
            verb,
            "configs/sn_hard_carbon.toml",
            "--backend",
            backend,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--set",
            "grid.n=[1048576, 1048576]",
        ]);
        assert!(!ok, "{verb} on {backend} must refuse");
        assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
        for part in [
            "error: grid.n = [1048576, 1048576]",
            "of memory on the",
            "are available",
            "largest grid of this shape that fits is [",
        ] {
            assert!(err.contains(part), "{part:?} missing from {err}");
        }
        assert!(!out.exists(), "nothing is written");
    }
}
