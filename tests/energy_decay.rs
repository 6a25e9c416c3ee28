//! model.md §7 case 5: without current the total free energy never rises.

mod common;

use swellfield::backend::Backend;
use swellfield::time_step::TimeStepper;

/// Step by step with the adaptive dt, F(n+1) ≤ F(n) (allowing round-off of 1e-12 relative), for
/// the constant-mobility double well (PFHub 1a, on 128²) and the variable-mobility regular
/// solution through its spinodal decomposition.
#[test]
fn free_energy_never_rises_without_current() {
    let cases = [
        (
            "configs/verification/pfhub_1a.toml",
            vec!["grid.n=[128, 128]"],
            600,
        ),
        ("configs/verification/conservation.toml", vec![], 300),
    ];
    for (path, sets, steps) in cases {
        let problem = common::problem(path, &sets);
        let mut backend = common::cpu_backend(&problem);
        let mut stepper = TimeStepper::new(&problem.time);
        let energy = |b: &mut swellfield::backend::cpu::CpuBackend| {
            let o = b.observe().unwrap();
            o.energy_chemical + o.energy_gradient
        };
        let first = energy(&mut backend);
        let mut last = first;
        for n in 0..steps {
            let dt = stepper.dt();
            let r = backend.step(dt).unwrap();
            stepper.adapt(dt, r.max_dc);
            let f = energy(&mut backend);
            assert!(
                f <= last + 1e-12 * last.abs(),
                "{path}: F rose at step {n}: {last:.15e} -> {f:.15e}"
            );
            last = f;
        }
        assert!(
            last < first - 1e-3 * first.abs(),
            "{path}: F must fall noticeably: {first} -> {last}"
        );
    }
}
