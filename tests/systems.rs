//! The shipped material-system configs (issue 6): each passes `compare`'s checks as shipped,
//! every material names its source, and both microstructures take their first steps under the
//! drive with the ion balance held. The full comparisons take minutes each; docs/validation.md
//! has their results.

mod common;

use swellfield::backend::BackendChoice;
use swellfield::compare;
use swellfield::simulation::{RunOptions, run};

const SYSTEMS: [&str; 5] = [
    "configs/sn_hard_carbon.toml",
    "configs/sn_hard_carbon_1_2.toml",
    "configs/si_mose2_carbon.toml",
    "configs/p2_o3_cathode.toml",
    "configs/p2_o3_lamellae.toml",
];

#[test]
fn system_configs_are_comparable_and_sourced() {
    for path in SYSTEMS {
        let loaded = common::load(path, &[]);
        let [buffered, pristine] =
            compare::precheck(&loaded).unwrap_or_else(|e| panic!("{path}: {e}"));
        for m in &loaded.config.materials {
            assert!(
                m.1.source.as_deref().is_some_and(|s| !s.trim().is_empty()),
                "{path}: material {} has no source note",
                m.0
            );
        }
        // The pristine twin differs from the buffered cell and keeps an active host.
        let (mb, mp) = (
            buffered.microstructure.as_ref().expect("materials"),
            pristine.microstructure.as_ref().expect("materials"),
        );
        assert_ne!(mb.labels, mp.labels, "{path}: the twin is the same cell");
        assert!(pristine.capacity > 0.0, "{path}");
    }
}

/// Twenty steps of each microstructure of each system: finite, charging in the drive's
/// direction, ions conserved.
#[test]
fn system_configs_take_their_first_steps() {
    for path in SYSTEMS {
        let loaded = common::load(
            path,
            &[
                "time.adaptive=false",
                "time.dt_max=1.0",
                "time.end=20",
                "output.interval=20",
                "output.images=false",
            ],
        );
        for pristine in [false, true] {
            let dir = common::temp_dir();
            let summary = run(
                &loaded,
                &RunOptions {
                    out_dir: dir.path().to_path_buf(),
                    backend: BackendChoice::Cpu,
                    quiet: true,
                    pristine,
                },
            )
            .unwrap_or_else(|e| panic!("{path} (pristine {pristine}): {e}"));
            assert_eq!(summary.steps, 20, "{path}");
            let (h, rows) = common::read_csv(&dir.path().join("timeseries.csv"));
            let col = |n: &str| common::column(&h, &rows, n);
            let (soc, balance) = (col("soc"), col("ion_balance_error"));
            let last = rows.len() - 1;
            let inserting = loaded
                .config
                .drive
                .as_ref()
                .is_some_and(|d| d.direction == swellfield::config::Direction::Insertion);
            assert!(
                if inserting {
                    soc[last] > soc[0]
                } else {
                    soc[last] < soc[0]
                },
                "{path} (pristine {pristine}): soc {} -> {}",
                soc[0],
                soc[last]
            );
            assert!(
                balance.iter().all(|b| b.abs() < 1e-10),
                "{path}: ion balance {balance:?}"
            );
            assert!(
                col("swelling")[last].is_finite() && col("voltage")[last].is_finite(),
                "{path}"
            );
        }
    }
}
