//! The convex-splitting step of cells with several hosts or pores (model.md §8, "The
//! convex-splitting step"): local conservation, bounds without a projection, energy stability,
//! the energy–work inequality, the order in dt and a cell at equilibrium staying put. CPU
//! backend: the GPU runs this step once its WGSL port lands (model.md §8).

mod common;

use swellfield::backend::Backend;
use swellfield::backend::cpu::CpuBackend;
use swellfield::problem::Problem;

/// Ion balance of the whole cell against the charge passed, per step, over the capacity (f64:
/// each voxel's c is formed from its face fluxes, so only the sums' round-off remains).
const BALANCE_CPU: f64 = 1e-12;

/// The Sn in hard carbon cell at 32² (contrast 1e5 between Sn's and hard carbon's
/// diffusivities, 30 % pores), without mechanics, with `sets` on top.
fn porous_two_host(sets: &[&str]) -> Problem {
    let mut all = vec!["grid.n=[32, 32]", "grid.length_nm=[250.0, 250.0]"];
    all.extend_from_slice(sets);
    let mut p = common::problem("configs/sn_hard_carbon.toml", &all);
    p.mechanics = None;
    assert!(
        p.chemistry.faces.is_some(),
        "the convex-splitting step runs here"
    );
    p
}

/// Free energy (chemical + gradient) as the backend reports it.
fn energy(b: &mut CpuBackend) -> f64 {
    let o = b.observe().unwrap();
    o.energy_chemical + o.energy_gradient
}

/// Every step of the galvanostatic Sn/HC charge adds exactly dt·I ions and the cell's count
/// follows the charge passed to [`BALANCE_CPU`] of the capacity; c stays inside (0, 1).
#[test]
fn ions_match_the_charge_every_step() {
    let problem = porous_two_host(&[]);
    let current = problem.drive.as_ref().unwrap().current;
    let mut b = CpuBackend::new(&problem);
    let start = b.observe().unwrap().total_c;
    let (mut passed, mut dt) = (0.0, problem.time.dt_initial);
    for n in 0..40 {
        let r = b.step(dt).unwrap();
        passed += dt * current;
        let o = b.observe().unwrap();
        let err = (o.total_c - start - passed).abs() / problem.capacity;
        assert!(
            err <= BALANCE_CPU,
            "step {n}: ions off the charge by {err:e} of the capacity"
        );
        assert!((r.ions_added - dt * current).abs() <= BALANCE_CPU * problem.capacity);
        assert!(
            o.c_min > 0.0 && o.c_max < 1.0,
            "step {n}: c in [{}, {}]",
            o.c_min,
            o.c_max
        );
        dt = (dt * 1.5).min(problem.time.dt_max);
    }
}

/// A nearly empty voxel (c = 1e-12) among full ones, stepped at 1000 × dt_max, stays inside
/// (0, 1), as does every voxel: the logarithm keeps the bounds, nothing is projected.
#[test]
fn bounds_hold_for_an_empty_voxel_among_full_ones_at_huge_steps() {
    let mut problem = porous_two_host(&[]);
    problem.drive = None;
    let faces = problem.chemistry.faces.as_ref().unwrap();
    let solid: Vec<usize> = (0..problem.grid.len())
        .filter(|&i| faces.solid[i])
        .collect();
    let empty = solid[solid.len() / 2];
    for &i in &solid {
        problem.initial_c[i] = 1.0 - 1e-6;
    }
    problem.initial_c[empty] = 1e-12;
    let mut b = CpuBackend::new(&problem);
    let dt = 1000.0 * problem.time.dt_max;
    for n in 0..5 {
        b.step(dt).unwrap();
        let o = b.observe().unwrap();
        assert!(
            o.c_min > 0.0 && o.c_max < 1.0,
            "step {n}: c in [{:e}, 1 − {:e}]",
            o.c_min,
            1.0 - o.c_max
        );
    }
}

/// Without current the discrete free energy never rises on the porous two-host cell at a
/// diffusivity contrast of 1e5, from a noisy half-filled start through Sn's spinodal
/// decomposition, at dt_max and at 1000 × dt_max (allowing round-off, 1e-12 of its size).
#[test]
fn free_energy_never_rises_without_current() {
    for factor in [1.0, 1000.0] {
        let mut problem = porous_two_host(&["initial.c0=0.5", "initial.noise=0.05"]);
        problem.drive = None;
        let mut b = CpuBackend::new(&problem);
        let dt = factor * problem.time.dt_max;
        let first = energy(&mut b);
        let mut last = first;
        for n in 0..20 {
            b.step(dt).unwrap();
            let e = energy(&mut b);
            assert!(
                e <= last + 1e-12 * last.abs(),
                "dt = {factor} dt_max, step {n}: F rose {last:.15e} -> {e:.15e}"
            );
            last = e;
        }
        assert!(
            last < first,
            "dt = {factor} dt_max: F must fall: {first} -> {last}"
        );
    }
}

/// With current the step obeys the discrete energy–work inequality
/// `F(n+1) − F(n) ≤ μ_e ΔN` (ΔN the ions added): the reaction and diffusion only dissipate.
#[test]
fn energy_work_inequality_holds_with_current() {
    let problem = porous_two_host(&[]);
    let mut b = CpuBackend::new(&problem);
    let mut dt = problem.time.dt_initial;
    let mut last = energy(&mut b);
    for n in 0..40 {
        let r = b.step(dt).unwrap();
        let e = energy(&mut b);
        let work = r.mu_e.unwrap() * r.ions_added;
        assert!(
            e - last <= work + 1e-10 * last.abs(),
            "step {n}: F rose by {:e}, more than the work {work:e}",
            e - last
        );
        last = e;
        dt = (dt * 1.5).min(problem.time.dt_max);
    }
}

/// Two hosts of one free energy (hard carbon's made Sn's) but different site densities and a
/// diffusivity contrast of 1e5, with pores, at a uniform c outside the spinodal: μ is uniform,
/// so nothing moves. "Nothing" is the round-off of the flux terms: μ (about 14 kT here) is
/// exact to ε|μ|, and each step multiplies that by dt Σ_faces g/ψ; ten steps at dt_max may
/// move c by at most 64 ε |μ| dt max Σ g/ψ.
#[test]
fn a_two_host_cell_at_uniform_mu_stays_put() {
    let mut problem = porous_two_host(&[
        "materials.hc.omega_ev=0.1",
        "initial.c0=0.1",
        "initial.noise=0.0",
    ]);
    problem.drive = None;
    let dt = problem.time.dt_max;
    let faces = problem.chemistry.faces.as_ref().unwrap();
    let n = problem.grid.len();
    let mut around = vec![0.0; n];
    swellfield::finite_volume::add_face_sums(problem.grid.n, &faces.flux, &mut around);
    let stiffest = (0..n)
        .filter(|&i| faces.solid[i])
        .map(|i| around[i] / problem.chemistry.psi_at(i))
        .fold(0.0, f64::max);
    let mut b = CpuBackend::new(&problem);
    let mu = b
        .fields(&[swellfield::fields::FieldName::Mu])
        .unwrap()
        .0
        .remove(0)
        .1;
    let mu_max = mu.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let bound = 64.0 * f64::EPSILON * mu_max * dt * stiffest;
    for _ in 0..10 {
        let r = b.step(dt).unwrap();
        assert!(
            r.max_dc <= bound,
            "max |Δc| = {:e} against {bound:e}",
            r.max_dc
        );
    }
}

/// The step is first order in dt (backward Euler): on the porous two-host cell (one free
/// energy, contrast 1e5) charged at C/10 from a uniform start, the error in c after 10 dt_max
/// against a run of 80 steps falls with dt at an observed order between 0.8 and 1.4 at each
/// halving (Richardson: e ∝ dt − dt_ref gives 1.10 and 1.22 for 5, 10 and 20 steps).
#[test]
fn first_order_in_dt() {
    let problem = porous_two_host(&["materials.hc.omega_ev=0.1", "initial.c0=0.1"]);
    let end = 10.0 * problem.time.dt_max;
    let faces = problem.chemistry.faces.as_ref().unwrap();
    let run = |steps: usize| -> Vec<f64> {
        let mut b = CpuBackend::new(&problem);
        for _ in 0..steps {
            b.step(end / steps as f64).unwrap();
        }
        let c = b
            .fields(&[swellfield::fields::FieldName::C])
            .unwrap()
            .0
            .remove(0)
            .1;
        c.into_iter()
            .enumerate()
            .filter(|&(i, _)| faces.solid[i])
            .map(|(_, v)| v)
            .collect()
    };
    let reference = run(80);
    let error = |c: &[f64]| {
        c.iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let errors: Vec<f64> = [5, 10, 20].iter().map(|&s| error(&run(s))).collect();
    for w in errors.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!(
            (0.8..=1.4).contains(&order),
            "observed order {order:.3} from errors {errors:?}"
        );
    }
}
