//! model.md §7 case 4 (without current): a closed periodic cell keeps its ions.

mod common;

use common::Tolerance;
use swellfield::backend::Backend;

/// Total ions are constant to round-off over 200 adaptive-size steps, with variable mobility,
/// in 2-D and 3-D. Round-off: each step's FFT round trip perturbs every voxel by ~1e-16
/// relative and the k = 0 mode is never updated, so drift stays near 1e-14 of the total.
#[test]
fn total_ions_constant_without_current() {
    const ROUND_OFF: Tolerance = Tolerance {
        relative: 1e-12,
        absolute: 0.0,
    };
    for sets in [
        vec![],
        vec!["grid.n=[32, 32, 32]", "grid.length_nm=[64.0, 64.0, 64.0]"],
    ] {
        let problem = common::problem("configs/verification/conservation.toml", &sets);
        let mut backend = common::cpu_backend(&problem);
        let before = backend.observe().unwrap().total_c;
        let mut dt = problem.time.dt_initial;
        for _ in 0..200 {
            let r = backend.step(dt).unwrap();
            dt = (dt * 1.1).min(problem.time.dt_max);
            assert_eq!(r.non_finite, 0);
        }
        let obs = backend.observe().unwrap();
        assert!(
            obs.c_max - obs.c_min > 0.05,
            "the field must evolve: {obs:?}"
        );
        assert!(
            ROUND_OFF.holds(obs.total_c, before),
            "{:?}: {before:e} -> {:e}",
            problem.grid.n,
            obs.total_c
        );
    }
}
