//! Outputs (docs/outputs.md): the HDF5 layout round-trips, images and the time series are
//! written, the resolved config reloads, and a NaN mid-run stops the run without touching what
//! was written before it.

mod common;

use ndarray::{Array1, Array4};
use swellfield::backend::BackendChoice;
use swellfield::error::Error;
use swellfield::output::timeseries::COLUMNS;
use swellfield::simulation::{RunOptions, run};

fn options(dir: &std::path::Path) -> RunOptions {
    RunOptions {
        out_dir: dir.to_path_buf(),
        backend: BackendChoice::Cpu,
        quiet: true,
        pristine: false,
    }
}

fn text_attr(file: &hdf5::File, name: &str) -> String {
    file.attr(name)
        .unwrap()
        .read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .to_string()
}

/// snapshots.h5 holds /time, /step, /dt and /fields/{c,mu} shaped (write, nz, ny, nx), the first
/// write equal to the initial field, with the run's attributes; CSV, images and config agree.
#[test]
fn hdf5_csv_png_and_config_round_trip() {
    let loaded = common::load(
        "configs/verification/conservation.toml",
        &[
            "grid.n=[32, 16]",
            "grid.length_nm=[64.0, 32.0]",
            "time.end=400",
            "output.snapshot_every=2",
        ],
    );
    let problem = swellfield::problem::Problem::new(&loaded.config).unwrap();
    let dir = common::temp_dir();
    let summary = run(&loaded, &options(dir.path())).unwrap();

    let (header, rows) = common::read_csv(&dir.path().join("timeseries.csv"));
    assert_eq!(header[..COLUMNS.len()], COLUMNS.map(String::from));
    let expected_extra = swellfield::diagnostics::columns(&problem);
    assert_eq!(header[COLUMNS.len()..], expected_extra[..]);
    assert!(expected_extra.contains(&"mean_c_sn".to_string()));
    let times = common::column(&header, &rows, "time");
    assert_eq!(times.first(), Some(&0.0));
    assert_eq!(times.last(), Some(&400.0));
    assert_eq!(summary.time, 400.0);

    let file = hdf5::File::open(dir.path().join("snapshots.h5")).unwrap();
    let t: Array1<f64> = file.dataset("time").unwrap().read_1d().unwrap();
    let steps: Array1<u64> = file.dataset("step").unwrap().read_1d().unwrap();
    // Outputs 0, 2, 4, ... write snapshots, and the last one always does.
    let expected: Vec<f64> = times
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0 || *i == times.len() - 1)
        .map(|(_, &t)| t)
        .collect();
    assert_eq!(t.to_vec(), expected);
    assert_eq!(steps.len(), t.len());
    let c: Array4<f64> = file.dataset("fields/c").unwrap().read().unwrap();
    assert_eq!(c.shape(), &[t.len(), 1, 16, 32]);
    let first: Vec<f64> = c.index_axis(ndarray::Axis(0), 0).iter().copied().collect();
    assert_eq!(
        first, problem.initial_c,
        "the first snapshot is the initial field, in grid order"
    );
    let mu: Array4<f64> = file.dataset("fields/mu").unwrap().read().unwrap();
    assert_eq!(mu.shape(), c.shape());
    assert_eq!(text_attr(&file, "backend"), "cpu");
    assert_eq!(text_attr(&file, "precision"), "f64");
    assert_eq!(text_attr(&file, "stop_reason"), "end_time");
    let units = file
        .dataset("fields/mu")
        .unwrap()
        .attr("units")
        .unwrap()
        .read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap();
    assert_eq!(units.as_str(), "kT");
    let spacing: Array1<f64> = file.attr("spacing").unwrap().read_1d().unwrap();
    assert_eq!(spacing.to_vec()[..2], [2.0, 2.0]);
    let config_attr = text_attr(&file, "config");
    let config_file = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert_eq!(config_attr, config_file);
    // The resolved config is a complete config: it reloads to the same problem.
    let again = swellfield::config::load(&dir.path().join("config.toml"), &[]).unwrap();
    assert_eq!(
        swellfield::problem::Problem::new(&again.config)
            .unwrap()
            .initial_c,
        problem.initial_c
    );

    for step in steps.iter() {
        let png = dir.path().join(format!("images/c_{step:08}.png"));
        let img = image::open(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(img.width() > 200 && img.height() > 100);
    }
    assert!(dir.path().join("images/free_energy.png").exists());
}

/// A run that goes unstable stops at the first non-finite c with an error naming the field,
/// step and time; every snapshot written before it stays readable and finite.
#[test]
fn nan_mid_run_stops_and_keeps_earlier_snapshots() {
    // A = 0 makes the scheme fully explicit; dt = 1 is ~5000x its stability limit.
    let loaded = common::load(
        "configs/verification/pfhub_1a.toml",
        &[
            "grid.n=[32, 32]",
            "cahn_hilliard.stabilization=0.0",
            "time.adaptive=false",
            "time.dt_max=1.0",
            "time.end=1000",
            "output.every_steps=1",
            "output.snapshot_every=1",
            "output.times=[]",
            "output.log_start=2000.0",
            "output.images=false",
        ],
    );
    let dir = common::temp_dir();
    let err = run(&loaded, &options(dir.path())).expect_err("the run must blow up");
    let Error::NonFinite { field, step, time } = &err else {
        panic!("wrong error: {err}")
    };
    assert_eq!(field, "c");
    assert!(
        *step > 1 && (*time - *step as f64).abs() < 1e-9 * *time,
        "step {step}, time {time}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("step {step}")) && message.contains("Outputs written before"),
        "{message}"
    );

    let file = hdf5::File::open(dir.path().join("snapshots.h5")).expect("snapshots stay readable");
    let c: Array4<f64> = file.dataset("fields/c").unwrap().read().unwrap();
    assert_eq!(
        c.shape()[0] as u64,
        *step,
        "one snapshot per completed step before the NaN (and t = 0)"
    );
    assert!(c.iter().all(|v| v.is_finite()), "no NaN is ever written");
    assert!(text_attr(&file, "stop_reason").starts_with("non_finite c at step"));
    let (_, rows) = common::read_csv(&dir.path().join("timeseries.csv"));
    assert_eq!(rows.len() as u64, *step);
}

/// A 3-D run writes (write, nz, ny, nx) fields and maps of the mid-plane slice.
#[test]
fn three_dimensional_run_writes_volumes_and_mid_plane_maps() {
    let loaded = common::load(
        "configs/verification/conservation.toml",
        &[
            "grid.n=[16, 8, 4]",
            "grid.length_nm=[32.0, 16.0, 8.0]",
            "time.end=20",
            "output.per_decade=1",
        ],
    );
    let dir = common::temp_dir();
    run(&loaded, &options(dir.path())).unwrap();
    let file = hdf5::File::open(dir.path().join("snapshots.h5")).unwrap();
    let c: Array4<f64> = file.dataset("fields/c").unwrap().read().unwrap();
    assert_eq!(&c.shape()[1..], &[4, 8, 16]);
    let grid_n: Array1<u64> = file.attr("grid_n").unwrap().read_1d().unwrap();
    assert_eq!(grid_n.to_vec(), vec![16, 8, 4]);
    let png = image::open(dir.path().join("images/c_00000000.png")).unwrap();
    assert!(
        png.width() > png.height(),
        "a 16 x 8 slice is wider than tall"
    );
}
