//! Bad input gives a one-line error naming the problem, the value given and the fix
//! (issue 3 §9), through the real command line.

mod common;

use std::path::Path;

const GOOD: &str = "configs/verification/conservation.toml";

/// Runs `swellfield args...` and returns (success, stderr).
fn swellfield(args: &[&str]) -> (bool, String) {
    let (ok, _, err) = common::swellfield(args);
    (ok, err)
}

/// The error for `check` on a config whose text is `good` with `from` replaced by `to`.
fn check_edited(from: &str, to: &str) -> String {
    let good = std::fs::read_to_string(common::repo(GOOD)).unwrap();
    assert!(good.contains(from), "{from:?} not in {GOOD}");
    let dir = common::temp_dir();
    let path = dir.path().join("edited.toml");
    std::fs::write(&path, good.replacen(from, to, 1)).unwrap();
    let (ok, err) = swellfield(&["check", path.to_str().unwrap()]);
    assert!(!ok, "an edited config {to:?} must be refused");
    err
}

/// One line, starting with `error:`, containing every fragment.
fn assert_one_line(err: &str, fragments: &[&str]) {
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for f in fragments {
        assert!(err.contains(f), "{f:?} missing from: {err}");
    }
}

#[test]
fn missing_config_file() {
    let (ok, err) = swellfield(&["run", "configs/no_such_file.toml"]);
    assert!(!ok);
    assert_one_line(&err, &["configs/no_such_file.toml", "Check the path"]);
}

#[test]
fn toml_syntax_error_names_line() {
    let err = check_edited("[grid]", "[grid");
    assert_one_line(&err, &["edited.toml:", "Fix the TOML there"]);
}

#[test]
fn unknown_key_names_key_and_expected_ones() {
    let err = check_edited("length_nm =", "lenght_nm =");
    assert_one_line(
        &err,
        &["unknown field `lenght_nm`", "length_nm", "edited.toml:"],
    );
}

#[test]
fn zero_grid_size() {
    let err = check_edited("n = [64, 64]", "n = [0, 64]");
    assert_one_line(&err, &["grid.n[0] = 0", "must be positive", "power of two"]);
}

#[test]
fn negative_grid_size() {
    let err = check_edited("n = [64, 64]", "n = [64, -64]");
    assert_one_line(&err, &["grid.n[1] = -64", "must be positive"]);
}

#[test]
fn non_power_of_two_grid_names_nearest_sizes() {
    let err = check_edited("n = [64, 64]", "n = [200, 64]");
    assert_one_line(&err, &["grid.n[0] = 200", "power of two", "Use 128 or 256"]);
}

#[test]
fn non_positive_dt_max() {
    for bad in ["0.0", "-1.0"] {
        let err = check_edited("dt_max = 20.0", &format!("dt_max = {bad}"));
        assert_one_line(&err, &["time.dt_max", "greater than zero"]);
    }
}

#[test]
fn nan_and_infinite_parameters() {
    let err = check_edited("diffusivity_cm2_s = 1e-15", "diffusivity_cm2_s = nan");
    assert_one_line(
        &err,
        &[
            "materials.sn.diffusivity_cm2_s = NaN",
            "not a finite number",
        ],
    );
    let err = check_edited("omega_ev = 0.10", "omega_ev = inf");
    assert_one_line(
        &err,
        &["materials.sn.omega_ev = inf", "not a finite number"],
    );
}

#[test]
fn bad_set_override() {
    let (ok, err) = swellfield(&["check", GOOD, "--set", "time.end"]);
    assert!(!ok);
    assert_one_line(&err, &["--set time.end", "section.key=value"]);
    // Overrides pass the same checks as the file.
    let (ok, err) = swellfield(&["check", GOOD, "--set", "time.ennd=3"]);
    assert!(!ok);
    assert_one_line(&err, &["unknown field `ennd`"]);
}

#[test]
fn output_folder_that_cannot_be_written() {
    let dir = common::temp_dir();
    let blocker = dir.path().join("a_file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = blocker.join("run");
    let (ok, err) = swellfield(&[
        "run",
        GOOD,
        "--backend",
        "cpu",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_one_line(
        &err,
        &["cannot write output folder", "a_file/run", "--out DIR"],
    );
}

#[test]
fn several_problems_are_reported_together() {
    let good = std::fs::read_to_string(common::repo(GOOD)).unwrap();
    let bad = good.replacen("dt_max = 20.0", "dt_max = -1.0", 1).replacen(
        "n = [64, 64]",
        "n = [60, 64]",
        1,
    );
    let dir = common::temp_dir();
    let path = dir.path().join("two.toml");
    std::fs::write(&path, bad).unwrap();
    let (ok, err) = swellfield(&["check", path.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("grid.n[0] = 60") && err.contains("time.dt_max = -1.0"),
        "{err}"
    );
    assert!(Path::new(&path).exists());
}

/// A config with two solids, pores and mechanics, for the issue-4 bad inputs.
const SHELL: &str = "configs/verification/lame_core_shell.toml";

fn check_edited_in(path: &str, from: &str, to: &str) -> String {
    let good = std::fs::read_to_string(common::repo(path)).unwrap();
    assert!(good.contains(from), "{from:?} not in {path}");
    let dir = common::temp_dir();
    let edited = dir.path().join("edited.toml");
    std::fs::write(&edited, good.replacen(from, to, 1)).unwrap();
    let (ok, err) = swellfield(&["check", edited.to_str().unwrap()]);
    assert!(!ok, "an edited config {to:?} must be refused");
    err
}

#[test]
fn material_referenced_but_not_defined() {
    let err = check_edited_in(
        SHELL,
        "{ material = \"shell\", thickness_nm = 8.0 }",
        "{ material = \"shel\", thickness_nm = 8.0 }",
    );
    assert!(
        err.contains("\"shel\": names a material that is not defined")
            && err.contains("Define [materials.shel]"),
        "{err}"
    );
}

#[test]
fn zero_or_negative_modulus() {
    for bad in ["0.0", "-150.0"] {
        let err = check_edited_in(
            SHELL,
            "young_modulus_gpa = 150.0",
            &format!("young_modulus_gpa = {bad}"),
        );
        assert_one_line(
            &err,
            &[
                "materials.shell.young_modulus_gpa",
                "greater than zero",
                "GPa",
            ],
        );
    }
}

#[test]
fn poisson_ratio_outside_its_range() {
    for bad in ["0.5", "-1.0", "0.7"] {
        let err = check_edited_in(
            SHELL,
            "poisson_ratio = 0.25",
            &format!("poisson_ratio = {bad}"),
        );
        assert_one_line(&err, &["materials.shell.poisson_ratio", "(-1, 0.5)"]);
    }
}

#[test]
fn eigenstrain_beyond_linear_elasticity() {
    let err = check_edited_in(
        SHELL,
        "eigenstrain = [0.02, 0.02, 0.02]",
        "eigenstrain = [0.02, 0.02, 1.5]",
    );
    assert_one_line(
        &err,
        &[
            "materials.core.eigenstrain",
            "below 100 %",
            "elasticity cannot carry",
        ],
    );
    let err = check_edited_in(
        SHELL,
        "eigenstrain = [0.02, 0.02, 0.02]",
        "volume_change = 9.0",
    );
    assert_one_line(
        &err,
        &["materials.core.volume_change", "beta", "linear elasticity"],
    );
}

/// A run that goes unstable mid-way (the spectral step made fully explicit, A = 0, at 5000
/// times its stability limit) stops with one line naming the step, time and field.
#[test]
fn unstable_run_stops_with_one_line() {
    let dir = common::temp_dir();
    let (ok, _, err) = common::swellfield(&[
        "run",
        "configs/verification/pfhub_1a.toml",
        "--backend",
        "cpu",
        "--quiet",
        "--out",
        dir.path().join("r").to_str().unwrap(),
        "--set",
        "grid.n=[32, 32]",
        "--set",
        "cahn_hilliard.stabilization=0.0",
        "--set",
        "time.adaptive=false",
        "--set",
        "time.dt_max=1.0",
        "--set",
        "time.end=1000",
        "--set",
        "output.images=false",
    ]);
    assert!(!ok);
    assert_one_line(
        &err,
        &[
            "non-finite c at step",
            "Outputs written before it are intact",
        ],
    );
}

#[test]
fn particles_that_cannot_be_placed() {
    let good = std::fs::read_to_string(common::repo(SHELL)).unwrap();
    let bad = good.replacen(
        "[[microstructure.shapes]]\nkind = \"sphere\"",
        "[[microstructure.shapes]]\nkind = \"particles\"\nvolume_fraction = 0.9\nmin_gap_nm = 2.0",
        1,
    );
    let dir = common::temp_dir();
    let path = dir.path().join("crowded.toml");
    std::fs::write(&path, bad).unwrap();
    let (ok, _, err) = common::swellfield(&["check", path.to_str().unwrap()]);
    assert!(!ok);
    assert_one_line(
        &err,
        &[
            "microstructure.shapes[0]",
            "cannot place the particles without overlap",
            "Lower volume_fraction",
        ],
    );
}

#[test]
fn drive_without_an_electrolyte() {
    let err = check_edited_in(
        "configs/verification/galvanostatic.toml",
        "electrolyte = true",
        "site_density_mol_m3 = 0.0",
    );
    assert!(
        err.contains("drive") && err.contains("solid-electrolyte surface"),
        "{err}"
    );
}

/// Keys of the stabilised-groups step (gone) are refused, in the file or through --set, with
/// what replaced them and the fix.
#[test]
fn removed_keys_are_refused_with_what_replaced_them() {
    for (set, key, words) in [
        (
            "drive.max_bound_transfer=0.05",
            "drive.max_bound_transfer",
            "projects nothing",
        ),
        (
            "drive.reaction_gradient=\"spectral_radius\"",
            "drive.reaction_gradient",
            "surface reaction inside its implicit step",
        ),
        (
            "cahn_hilliard.scheme=\"stabilised_groups\"",
            "cahn_hilliard.scheme",
            "always run the convex-splitting step",
        ),
    ] {
        let (ok, err) = swellfield(&[
            "check",
            "configs/verification/galvanostatic.toml",
            "--set",
            set,
        ]);
        assert!(!ok, "{set} must be refused");
        assert_one_line(&err, &[key, "was removed", words, "Delete the key"]);
    }
}

/// The J2 keys: a hardening modulus without a yield stress, a yield stress on the electrolyte,
/// and plasticity with the fixed-point elastic solver are each refused with the fix; the GPU
/// backend refuses a config that flows, naming the CPU-only plastic solve.
#[test]
fn plasticity_keys_are_checked() {
    let film = "configs/verification/plastic_film.toml";
    let (ok, err) = swellfield(&["check", film, "--set", "materials.sn.yield_stress_gpa=-1"]);
    assert!(!ok);
    assert_one_line(&err, &["materials.sn.yield_stress_gpa = -1", "GPa"]);
    let dir = common::temp_dir();
    let path = dir.path().join("hardening_only.toml");
    let text = std::fs::read_to_string(common::repo(film)).unwrap();
    std::fs::write(
        &path,
        text.replacen("yield_stress_gpa = 0.15", "hardening_gpa = 1.0", 1),
    )
    .unwrap();
    let (ok, err) = swellfield(&["check", path.to_str().unwrap()]);
    assert!(!ok);
    assert_one_line(
        &err,
        &["materials.sn.yield_stress_gpa = \"(missing)\"", "elastic"],
    );
    let (ok, err) = swellfield(&[
        "check",
        "configs/verification/free_swelling.toml",
        "--set",
        "materials.electrolyte.yield_stress_gpa=1.0",
    ]);
    assert!(!ok);
    assert_one_line(
        &err,
        &[
            "materials.electrolyte.yield_stress_gpa = 1",
            "does not flow",
        ],
    );
    let (ok, err) = swellfield(&["check", film, "--set", "mechanics.solver=\"fixed_point\""]);
    assert!(!ok);
    assert_one_line(&err, &["mechanics.solver = \"fixed_point\"", "cg"]);
    let err = refused_on_the_gpu(film, &[]);
    assert_one_line(&err, &["J2 plasticity", "CPU-only"]);
}

/// What `swellfield run CONFIG --set … --backend gpu` prints on refusing the config.
fn refused_on_the_gpu(config: &str, sets: &[&str]) -> String {
    let dir = common::temp_dir();
    let out = dir.path().join("gpu");
    let mut args = vec!["run", config];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.extend([
        "--backend",
        "gpu",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (ok, err) = swellfield(&args);
    assert!(!ok, "{config} {sets:?} must be refused on the GPU");
    err
}

/// Laminate voxels (`mechanics.mixing = "laminate"`) with the fixed-point elastic solver are
/// refused with the fix; the GPU backend refuses them, naming the CPU-only mixing.
#[test]
fn laminate_mixing_is_checked() {
    let free = "configs/verification/free_swelling.toml";
    let laminate = "mechanics.mixing=\"laminate\"";
    let (ok, err) = swellfield(&[
        "check",
        free,
        "--set",
        laminate,
        "--set",
        "mechanics.solver=\"fixed_point\"",
    ]);
    assert!(!ok);
    assert_one_line(
        &err,
        &["mechanics.solver = \"fixed_point\"", "laminate", "cg"],
    );
    let err = refused_on_the_gpu(free, &[laminate]);
    assert_one_line(&err, &["mechanics.mixing", "CPU-only"]);
}
