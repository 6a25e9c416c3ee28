//! model.md §7 case 6: the observed order of the scheme in dt and in h.

mod common;

use swellfield::backend::{Backend, cpu::CpuBackend};
use swellfield::fields::FieldName;

const CONFIG: &str = "configs/verification/convergence.toml";

/// c after `steps` fixed steps spanning `seconds` of simulated time, on the config's grid with
/// overrides (model time depends on the voxel size, so the span is given in seconds).
fn evolve(sets: &[&str], seconds: f64, steps: usize) -> (Vec<f64>, [usize; 3]) {
    let problem = common::problem(CONFIG, sets);
    let mut b = CpuBackend::new(&problem);
    let dt = seconds / problem.units.time / steps as f64;
    for _ in 0..steps {
        b.step(dt).unwrap();
    }
    let c = b
        .fields(&[FieldName::C])
        .unwrap()
        .get(FieldName::C)
        .unwrap()
        .to_vec();
    (c, problem.grid.n)
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The semi-implicit Euler step is first order: errors against a 64× finer dt fall by 2 per
/// halving (observed order within 0.85..1.15).
#[test]
fn first_order_in_time() {
    let total = 200.0; // seconds: 5 tau on the config's 2 nm voxels
    let (reference, _) = evolve(&[], total, 1280);
    let errors: Vec<f64> = [20, 40, 80]
        .iter()
        .map(|&s| max_diff(&evolve(&[], total, s).0, &reference))
        .collect();
    println!("dt errors (dt, dt/2, dt/4 against dt/64): {errors:?}");
    for w in errors.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!(
            (0.85..=1.15).contains(&order),
            "errors {errors:?}: observed order {order}"
        );
    }
    assert!(
        errors[0] > 1e-6,
        "the test must resolve a time error: {errors:?}"
    );
}

/// The Fourier-spectral discretisation converges faster than any power of h for this smooth
/// solution: from 16² to 32² the error against 64² falls by more than 2⁶ (what a sixth-order
/// method would give), and 32² is already within 1e-6 of 64².
#[test]
fn spectral_in_space() {
    let total = 80.0; // seconds
    let steps = 200;
    let grid = |n: usize| -> (Vec<f64>, [usize; 3]) {
        let sets = [format!("grid.n=[{n}, {n}]")];
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        evolve(&sets, total, steps)
    };
    let (fine, nf) = grid(64);
    let error = |n: usize| {
        let (c, nc) = grid(n);
        let stride = nf[0] / nc[0];
        (0..nc[1])
            .flat_map(|y| (0..nc[0]).map(move |x| (x, y)))
            .map(|(x, y)| (c[y * nc[0] + x] - fine[(y * stride) * nf[0] + x * stride]).abs())
            .fold(0.0, f64::max)
    };
    let (e16, e32) = (error(16), error(32));
    println!("h errors against 64^2: 16^2 {e16:e}, 32^2 {e32:e}");
    assert!(
        e16 / e32 > 64.0,
        "e16 = {e16:e}, e32 = {e32:e}: ratio {}",
        e16 / e32
    );
    assert!(e32 < 1e-6, "e32 = {e32:e}");
}
