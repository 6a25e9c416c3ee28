//! The command line as a user meets it: `check` reports derived numbers, `run` honours
//! `--set`, `--out` and `--backend`, and prints a one-line summary.

mod common;

use common::swellfield;

/// `check` prints the grid, spacing, κ, Ω, the interface width in voxels and a stable dt.
#[test]
fn check_reports_derived_numbers() {
    let (ok, out, err) = swellfield(&["check", "configs/verification/conservation.toml"]);
    assert!(ok, "{err}");
    for fragment in [
        "64 x 64 (2-D)",
        "voxel 2.00000 x 2.00000 nm",
        "kappa = ",
        "J/m",
        "Omega = 0.1000 eV = 3.894 kT",
        "4.00 voxels",
        "explicit-Euler stable dt",
    ] {
        assert!(out.contains(fragment), "{fragment:?} missing from:\n{out}");
    }
    let (ok, out, _) = swellfield(&["check", "configs/verification/pfhub_1a.toml"]);
    assert!(ok);
    assert!(
        out.contains("256 x 256 (2-D)") && out.contains("5.72 voxels"),
        "{out}"
    );
}

/// `--set` reaches the run and its resolved config; `auto` says in one line that it runs the
/// CPU; the summary names steps, time and the output folder.
#[test]
fn run_with_overrides_auto_notice_and_summary() {
    let dir = common::temp_dir();
    let out_dir = dir.path().join("r");
    let (ok, out, err) = swellfield(&[
        "run",
        "configs/verification/conservation.toml",
        "--out",
        out_dir.to_str().unwrap(),
        "--set",
        "time.end=50",
        "--set",
        "output.images=false",
    ]);
    assert!(ok, "{err}");
    assert_eq!(err.lines().count(), 1, "one notice line: {err}");
    assert!(
        err.contains("CPU backend") && err.contains("--backend"),
        "{err}"
    );
    assert!(
        out.starts_with("done: ")
            && out.contains("t = 5.000000e1 s")
            && out.contains(out_dir.to_str().unwrap()),
        "{out}"
    );
    let resolved = std::fs::read_to_string(out_dir.join("config.toml")).unwrap();
    assert!(resolved.contains("end = 50.0"), "{resolved}");
    assert!(!out_dir.join("images").join("c_00000000.png").exists());
}

/// `--backend gpu` runs the configs the GPU backend supports (on the software adapter in CI: a
/// one-host cell and a porous two-host cell under the convex-splitting step) and refuses,
/// clearly and without falling back, one it does not support (a host with five
/// regular-solution segments: the device's material table holds four per component).
#[test]
fn gpu_backend_runs_or_refuses_clearly() {
    let dir = common::temp_dir();
    let out = dir.path().join("g");
    let (ok, stdout, err) = swellfield(&[
        "run",
        "configs/verification/conservation.toml",
        "--backend",
        "gpu",
        "--quiet",
        "--set",
        "time.end=20",
        "--set",
        "output.images=false",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("(gpu backend)"), "{stdout}");
    let (ok, _, err) = swellfield(&[
        "run",
        "configs/p2_o3_cathode.toml",
        "--backend",
        "gpu",
        "--quiet",
        "--set",
        "materials.p2.segments=[\
         {c_min = 0.0, c_max = 0.2, u0_v = 4.2, omega_ev = 0.1}, \
         {c_min = 0.2, c_max = 0.4, u0_v = 4.0, omega_ev = 0.0}, \
         {c_min = 0.4, c_max = 0.6, u0_v = 3.8, omega_ev = 0.0}, \
         {c_min = 0.6, c_max = 0.8, u0_v = 3.5, omega_ev = 0.0}, \
         {c_min = 0.8, c_max = 1.0, u0_v = 3.3, omega_ev = 0.0}]",
    ]);
    assert!(!ok);
    assert!(
        err.starts_with("error: --backend gpu:")
            && err.contains("more than four segments")
            && err.contains("--backend cpu"),
        "{err}"
    );
    // A cell with pores and two hosts runs the convex-splitting step on the device.
    let out = dir.path().join("p2");
    let (ok, stdout, err) = swellfield(&[
        "run",
        "configs/p2_o3_cathode.toml",
        "--backend",
        "gpu",
        "--quiet",
        "--set",
        "grid.n=[32, 32]",
        "--set",
        "time.end=5",
        "--set",
        "time.dt_max=1.0",
        "--set",
        "output.images=false",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("(gpu backend)"), "{stdout}");
}

/// `compare` is a subcommand; a config without a pristine twin is refused with the fix, exit 1.
#[test]
fn compare_without_pristine_is_refused() {
    let dir = common::temp_dir();
    let (ok, _out, err) = swellfield(&[
        "compare",
        "configs/verification/conservation.toml",
        "--out",
        dir.path().join("c").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.starts_with("error: pristine = (missing)") && err.contains("[pristine]"),
        "{err}"
    );
}
