//! The P2/O3 extraction's surface checkerboard under the stabilised-groups step (docs/model.md
//! §8, "The reaction's checkerboard"): with the gradient term's diagonal in the reaction's G,
//! neighbouring surface
//! voxels of the lens particle take turns overshooting each other's equilibrium once the
//! extraction is under way, and dt collapses from its 20 s maximum to 0.1–1 s (measured at
//! t ≈ 700 s, step ≈ 105, 2026-12-02); with the spectral radius the same run keeps dt at its
//! maximum. Both halves are asserted, so the test would notice if the collapse went away by
//! itself (then `spectral_radius` no longer buys anything) as well as if it came back. The
//! convex-splitting step solves the reaction with the diffusion, so it has no such sweep: the
//! same extraction keeps its 20 s steps there too.

mod common;

/// (time, dt) per output row of the lens particle's extraction to `end` s, under the
/// stabilised-groups step with `gradient`, or the convex-splitting step (`None`).
fn extract(gradient: Option<&str>, end: f64) -> (Vec<f64>, Vec<f64>) {
    let end = format!("time.end={end}");
    let mut sets = vec![
        end,
        "output.every_steps=5".to_string(),
        "output.snapshot_every=1000000".to_string(),
        "output.images=false".to_string(),
    ];
    if let Some(g) = gradient {
        sets.push(format!("drive.reaction_gradient=\"{g}\""));
        sets.push(common::GPU_SCHEME.to_string());
    }
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let loaded = common::load("configs/p2_o3_cathode.toml", &sets);
    let run = common::run_cpu(&loaded, "P2/O3 extraction");
    (run.column("time"), run.column("dt"))
}

#[test]
fn spectral_radius_keeps_the_extraction_at_dt_max() {
    let (t, dt) = extract(Some("spectral_radius"), 1500.0);
    let late: Vec<f64> = t
        .iter()
        .zip(&dt)
        .filter(|(t, _)| **t >= 500.0)
        .map(|(_, d)| *d)
        .collect();
    assert!(late.len() >= 5, "{t:?}");
    let low = late.iter().cloned().fold(f64::INFINITY, f64::min);
    println!("spectral_radius: dt from t = 500 s on at least {low:.3} s");
    // Output times shorten a step to land on them, so a row may show a shorter dt; none of
    // them is a collapse.
    assert!(low >= 5.0, "dt fell to {low} s: {dt:?}");
}

#[test]
fn the_diagonal_lets_neighbouring_surface_voxels_chatter() {
    let (t, dt) = extract(Some("diagonal"), 760.0);
    let reached = dt.iter().zip(&t).any(|(d, t)| *d >= 19.0 && *t < 700.0);
    let collapsed = dt.iter().zip(&t).any(|(d, t)| *d < 1.0 && *t > 650.0);
    println!("diagonal: dt {dt:?}");
    assert!(reached, "dt never reached its maximum before the collapse");
    assert!(collapsed, "dt no longer collapses with the diagonal");
}

/// The convex-splitting step keeps the same extraction at dt_max (no output row below 5 s from
/// t = 500 s on; output times shorten some steps to land on them).
#[test]
fn convex_splitting_keeps_the_extraction_at_dt_max() {
    let (t, dt) = extract(None, 1500.0);
    let low = t
        .iter()
        .zip(&dt)
        .filter(|(t, _)| **t >= 500.0)
        .map(|(_, d)| *d)
        .fold(f64::INFINITY, f64::min);
    println!("convex splitting: dt {dt:?}");
    assert!(low >= 5.0, "dt fell to {low} s: {dt:?}");
}
