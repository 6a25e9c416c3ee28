//! `swellfield compare` (issue 6): both runs under the same drive, the comparison table on a
//! common SOC grid, the summary and plots; and the configs it refuses before running anything.

mod common;

use swellfield::backend::BackendChoice;
use swellfield::compare::{self, CompareOptions};

const EXAMPLE: &str = "configs/examples/p2_o3_particle.toml";

/// The worked P2/O3 particle, small and short, against a single-phase P2 particle of the same
/// shape (O3 replaced by P2).
fn small(extra: &[&str]) -> Vec<String> {
    let mut sets = vec![
        "grid.n=[64, 64]",
        "pristine.replace.o3=\"p2\"",
        "time.end=3600",
        "drive.soc_target=0.9",
        "output.interval=600",
        "output.images=false",
    ];
    sets.extend_from_slice(extra);
    sets.into_iter().map(String::from).collect()
}

/// A quiet CPU comparison into `out`.
fn quiet_cpu(out: &std::path::Path) -> CompareOptions {
    CompareOptions {
        out_dir: out.to_path_buf(),
        backend: BackendChoice::Cpu,
        quiet: true,
    }
}

fn load(sets: &[String]) -> swellfield::config::LoadedConfig {
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    common::load(EXAMPLE, &sets)
}

/// Both runs write full outputs; comparison.csv has the columns in its order, one row
/// per SOC on a grid running in the drive's direction, and its values are the runs' own time
/// series interpolated in SOC; the summary's ratio is the table's; the plots exist.
#[test]
fn compare_writes_table_summary_and_plots() {
    let dir = common::temp_dir();
    let out = dir.path().join("cmp");
    let loaded = load(&small(&[]));
    let result = compare::run(&loaded, &quiet_cpu(&out)).expect("compare runs");
    for run in ["buffered", "pristine"] {
        for f in ["timeseries.csv", "snapshots.h5", "config.toml"] {
            assert!(out.join(run).join(f).is_file(), "{run}/{f} missing");
        }
    }
    for f in [
        "swelling_vs_soc.png",
        "voltage_vs_soc.png",
        "material_swelling_vs_soc.png",
        "end_state_maps.png",
    ] {
        let len = std::fs::metadata(out.join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .len();
        assert!(len > 5_000, "{f} is only {len} bytes");
    }

    let (h, rows) = common::read_csv(&out.join("comparison.csv"));
    let mut expected = vec![
        "soc",
        "swelling_buffered",
        "swelling_pristine",
        "voltage_buffered",
        "voltage_pristine",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    // Config order is alphabetical: o3 (absent from the pristine particle), then p2.
    for m in ["o3", "p2"] {
        for run in ["buffered", "pristine"] {
            expected.push(format!("swelling_{m}_{run}"));
            expected.push(format!("max_von_mises_{m}_{run}_gpa"));
            expected.push(format!("max_hydrostatic_{m}_{run}_gpa"));
        }
    }
    expected.push("overstressed_fraction_buffered".into());
    expected.push("overstressed_fraction_pristine".into());
    assert_eq!(h, expected);
    assert_eq!(rows.len(), 101);
    let col = |n: &str| common::column(&h, &rows, n);
    let soc = col("soc");
    assert!(
        soc.windows(2).all(|w| w[1] < w[0]),
        "extraction: the SOC grid falls"
    );
    // O3 is replaced by P2 in the pristine particle: it has no swelling and no stress there.
    assert!(col("swelling_o3_pristine").iter().all(|v| v.is_nan()));
    assert!(
        col("max_von_mises_o3_pristine_gpa")
            .iter()
            .all(|v| v.is_nan())
    );
    for run in ["buffered", "pristine"] {
        assert!(
            col(&format!("overstressed_fraction_{run}"))
                .iter()
                .all(|v| v.is_nan() || (0.0..=1.0).contains(v)),
            "{run}: a fraction"
        );
    }

    // The first grid point is the shared start (c0 = 0.98): both runs' first rows, exactly.
    for run in ["buffered", "pristine"] {
        let (th, trows) = common::read_csv(&out.join(run).join("timeseries.csv"));
        let tcol = |n: &str| common::column(&th, &trows, n);
        assert!((soc[0] - tcol("soc")[0]).abs() < 1e-9, "{run}: start soc");
        let sw = col(&format!("swelling_{run}"))[0];
        assert!(
            (sw - tcol("swelling")[0]).abs() <= 1e-6 * sw.abs().max(1e-9),
            "{run}: swelling at the start {sw} vs {}",
            tcol("swelling")[0]
        );
        // Every finite grid value lies within the run's own range (linear interpolation; the
        // table prints 7 significant digits).
        let s = tcol("swelling");
        let (lo, hi) = s
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        for v in col(&format!("swelling_{run}"))
            .into_iter()
            .filter(|v| v.is_finite())
        {
            let tol = 1e-6 * v.abs();
            assert!(
                v >= lo - tol && v <= hi + tol,
                "{run}: {v} outside [{lo}, {hi}]"
            );
        }
    }

    // Both runs move the same SOC in the same time (same C-rate of their own capacity), so
    // they end at the same SOC, and the P2/O3 particle contracts less than pure P2.
    assert!(result.common_soc < 0.98 - 0.05, "{result}");
    let [b, p] = result.swelling;
    assert!(b < 0.0 && p < 0.0, "Na extraction contracts: {b}, {p}");
    assert!(
        result.ratio() > 0.0 && result.ratio() < 1.0,
        "the O3 buffer contracts less than P2: ratio {}",
        result.ratio()
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(
        summary.contains(&format!("{:.3}", result.ratio())),
        "summary states the ratio {:.3}:\n{summary}",
        result.ratio()
    );
    assert!(
        summary.contains("## Reading") && summary.contains("cpu"),
        "{summary}"
    );
}

/// Where a material flows (P2 given a yield stress and hardening here, to exercise the outputs),
/// the table
/// gains its peak equivalent plastic strain and plastic work per run, the summary their rows,
/// and the plastic work never falls along a run's time series.
#[test]
fn compare_reports_plastic_flow_where_a_material_flows() {
    let dir = common::temp_dir();
    let out = dir.path().join("cmp");
    let loaded = load(&small(&[
        "materials.p2.yield_stress_gpa=0.05",
        "materials.p2.hardening_gpa=5.0",
    ]));
    compare::run(&loaded, &quiet_cpu(&out)).expect("compare runs");
    let (h, rows) = common::read_csv(&out.join("comparison.csv"));
    let tail: Vec<&str> = h.iter().rev().take(6).rev().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "max_plastic_strain_p2_buffered",
            "plastic_work_p2_buffered",
            "max_plastic_strain_p2_pristine",
            "plastic_work_p2_pristine",
            "overstressed_fraction_buffered",
            "overstressed_fraction_pristine",
        ]
    );
    assert!(
        !h.iter().any(|c| c.contains("plastic_work_o3")),
        "O3 stays elastic"
    );
    for run in ["buffered", "pristine"] {
        let (th, trows) = common::read_csv(&out.join(run).join("timeseries.csv"));
        let work = common::column(&th, &trows, "plastic_work_p2");
        assert!(
            work.windows(2).all(|w| w[1] >= w[0]),
            "{run}: plastic work falls: {work:?}"
        );
        assert!(work.last().unwrap() > &0.0, "{run}: P2 must flow");
        let alpha = common::column(&th, &trows, "max_plastic_strain_p2");
        assert!(alpha.iter().any(|&a| a > 0.0), "{run}: no plastic strain");
        assert!(
            common::column(&th, &trows, "plastic_work_o3")
                .iter()
                .all(|&w| w == 0.0)
        );
    }
    assert_eq!(rows.len(), 101);
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    for row in [
        "peak equivalent plastic strain in p2",
        "plastic work in p2 over the run (eV per nm of depth)",
    ] {
        assert!(summary.contains(row), "summary lacks '{row}':\n{summary}");
    }
}

/// Refusals happen before any run starts, name the key and say what to do.
#[test]
fn compare_refuses_what_it_cannot_compare() {
    let dir = common::temp_dir();
    let refuse = |sets: Vec<String>, key: &str, fix: &str| {
        let out = dir.path().join(key);
        let err = compare::run(&load(&sets), &quiet_cpu(&out)).expect_err("must be refused");
        let msg = err.to_string();
        assert!(
            msg.starts_with(key) && msg.to_lowercase().contains(&fix.to_lowercase()),
            "{msg}"
        );
        assert!(
            !out.exists(),
            "nothing is written for a refused config: {msg}"
        );
    };
    // No [pristine] twin.
    let no_twin: Vec<String> = small(&[])
        .into_iter()
        .filter(|s| !s.starts_with("pristine"))
        .collect();
    refuse(no_twin, "pristine = (missing)", "add a [pristine] section");
    // A pristine twin without active material.
    refuse(
        small(&[
            "pristine.replace.p2=\"electrolyte\"",
            "pristine.replace.o3=\"electrolyte\"",
        ]),
        "pristine",
        "keep the active material",
    );
    // A SOC target the end time cuts off: C/10 from 0.98 to 0.5 takes 17280 s.
    refuse(
        small(&["drive.soc_target=0.5"]),
        "time.end",
        "raise time.end to at least",
    );
    // A SOC target behind the start.
    refuse(
        small(&["drive.soc_target=0.99"]),
        "drive.soc_target = 0.99",
        "below the initial SOC",
    );
}

/// `--sweep`: one comparison per value, each in its own folder, and a table of the ratio;
/// a stiffer O3 holds the P2 lenses' collapse more, so the ratio changes with it.
#[test]
fn sweep_writes_one_comparison_per_value_and_a_table() {
    let dir = common::temp_dir();
    let out = dir.path().join("sweep");
    let sets = small(&["output.interval=900"]);
    let sweep = compare::Sweep::parse("materials.o3.young_modulus_gpa=60,240").expect("parses");
    let results = compare::sweep(&common::repo(EXAMPLE), &sets, &sweep, &quiet_cpu(&out))
        .expect("the sweep runs");
    assert_eq!(results.len(), 2);
    for v in ["60", "240"] {
        let folder = out.join(format!("materials.o3.young_modulus_gpa={v}"));
        assert!(folder.join("summary.md").is_file(), "{v}: no summary");
        let resolved =
            std::fs::read_to_string(folder.join("buffered").join("config.toml")).expect("config");
        assert!(
            resolved.contains(&format!("young_modulus_gpa = {v}")),
            "{v} reached the run"
        );
    }
    let text = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("value,common_soc,swelling_buffered,swelling_pristine,ratio,folder")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    for (row, (v, r)) in rows.iter().zip(&results) {
        assert_eq!(&row[0], v);
        let ratio: f64 = row[4].parse().expect("a number");
        assert!(
            (ratio - r.ratio()).abs() <= 1e-6 * r.ratio().abs(),
            "table ratio {row:?}"
        );
        assert_eq!(row[5], format!("materials.o3.young_modulus_gpa={v}"));
    }
    assert_ne!(
        format!("{:.4}", results[0].1.ratio()),
        format!("{:.4}", results[1].1.ratio()),
        "the swept stiffness must change the ratio"
    );
    assert!(
        out.join("ratio_vs_materials.o3.young_modulus_gpa.png")
            .is_file()
    );
}

/// A sweep over a key the config does not have, or without values, is refused up front.
#[test]
fn sweep_refuses_unknown_keys_and_bad_syntax() {
    let dir = common::temp_dir();
    let out = dir.path().join("bad");
    let err = compare::sweep(
        &common::repo(EXAMPLE),
        &small(&[]),
        &compare::Sweep::parse("materials.o3.stiffness=1,2").expect("parses"),
        &quiet_cpu(&out),
    )
    .expect_err("unknown key");
    let msg = err.to_string();
    assert!(
        msg.starts_with("--sweep materials.o3.stiffness = 1")
            && msg.contains("unknown field `stiffness`")
            && msg.contains("docs/config.md"),
        "{msg}"
    );
    assert!(!out.exists(), "nothing written: {msg}");
    for bad in [
        "materials.o3.young_modulus_gpa",
        "x=1,2",
        "a.b=1",
        "a.b=1,,2",
    ] {
        let msg = compare::Sweep::parse(bad).expect_err(bad).to_string();
        assert!(msg.starts_with("--sweep = "), "{bad}: {msg}");
    }
    let grids = compare::Sweep::parse("grid.n=[64, 64],[128,128]").expect("brackets");
    assert_eq!(grids.values, ["[64, 64]", "[128,128]"]);
}

/// On a machine with two cores or more the CPU runs go side by side, one thread each; each
/// run's time series is then the one a run of its own writes, row for row (but its wall time).
#[test]
fn side_by_side_runs_match_runs_of_their_own() {
    let dir = common::temp_dir();
    let out = dir.path().join("cmp");
    let loaded = load(&small(&[]));
    compare::run(&loaded, &quiet_cpu(&out)).expect("compare runs");
    for (label, pristine) in [("buffered", false), ("pristine", true)] {
        let alone = dir.path().join(label);
        swellfield::simulation::run(
            &loaded,
            &swellfield::simulation::RunOptions {
                out_dir: alone.clone(),
                backend: BackendChoice::Cpu,
                quiet: true,
                pristine,
            },
        )
        .expect("run");
        let (ha, ra) = common::read_csv(&out.join(label).join("timeseries.csv"));
        let (hb, rb) = common::read_csv(&alone.join("timeseries.csv"));
        assert_eq!(ha, hb);
        assert_eq!(ra.len(), rb.len(), "{label}: rows");
        for (i, (a, b)) in ra.iter().zip(&rb).enumerate() {
            for (k, (x, y)) in a.iter().zip(b).enumerate() {
                if ha[k] == "wall_s" {
                    continue;
                }
                assert!(
                    x == y || (x.is_nan() && y.is_nan()),
                    "{label} row {i} column {}: {x} against {y}",
                    ha[k]
                );
            }
        }
    }
}
