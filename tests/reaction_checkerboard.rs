//! The P2/O3 lens particle's extraction keeps its 20 s steps. Where κ/h² is large (P2/O3's 20 nm
//! interfaces on 5 nm voxels), a surface reaction stepped apart from the diffusion lets
//! neighbouring surface voxels take turns overshooting each other's equilibrium, a checkerboard
//! that holds dt at 0.1–1 s; the convex-splitting step solves the reaction inside the same
//! implicit solve as the diffusion and the gradient term, so no such sweep exists (docs/model.md
//! §8).

mod common;

/// From t = 500 s on no output row's dt is below 5 s (output times shorten some steps to land on
/// them; none of them is a collapse).
#[test]
fn convex_splitting_keeps_the_extraction_at_dt_max() {
    let loaded = common::load(
        "configs/p2_o3_cathode.toml",
        &[
            "time.end=1500.0",
            "output.every_steps=5",
            "output.snapshot_every=1000000",
            "output.images=false",
        ],
    );
    let run = common::run_cpu(&loaded, "P2/O3 extraction");
    let (t, dt) = (run.column("time"), run.column("dt"));
    let low = t
        .iter()
        .zip(&dt)
        .filter(|(t, _)| **t >= 500.0)
        .map(|(_, d)| *d)
        .fold(f64::INFINITY, f64::min);
    println!("convex splitting: dt {dt:?}");
    assert!(low >= 5.0, "dt fell to {low} s: {dt:?}");
}
