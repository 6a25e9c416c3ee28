//! The convex-splitting step of cells with several hosts or pores (model.md §8, "The
//! convex-splitting step"): local conservation, bounds without a projection, energy stability,
//! the energy–work inequality, the order in dt and a cell at equilibrium staying put. CPU
//! backend; tests/gpu_convex_split.rs checks the device's step against it.

mod common;

use swellfield::backend::Backend;
use swellfield::backend::cpu::CpuBackend;
use swellfield::fields::FieldName;
use swellfield::finite_volume::Faces;
use swellfield::free_energy::FreeEnergy;
use swellfield::problem::Problem;

/// Ion balance of the whole cell against the charge passed, per step, over the capacity (f64:
/// each voxel's c is formed from its face fluxes, so only the sums' round-off remains).
const BALANCE_CPU: f64 = 1e-12;

/// The Sn in hard carbon cell at 32² (contrast 1e5 between Sn's and hard carbon's
/// diffusivities, 30 % pores), without mechanics, with `sets` on top. Its dt_max, 20 s, is the
/// scale these tests step at (the shipped config's own controls may differ).
fn porous_two_host(sets: &[&str]) -> Problem {
    let mut all = vec![
        "grid.n=[32, 32]",
        "grid.length_nm=[250.0, 250.0]",
        "time.dt_max=20.0",
    ];
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

/// A single-phase P2 particle, extracted at 1C from c = 0.36, crosses its segment junction
/// (c = 0.35, where the sublattices' μ(c) climbs 35 kT within a few 1e-8 of c) in 20 s steps:
/// every step converges at its full length (no halving: each halving adds MAX_NEWTON to the
/// count), the ions follow the charge, and the electrode's potential moves from the Na-rich
/// segment's plateau to the Na-poor one's (0.9 V, 35 kT, apart; 31 kT between their μ at the
/// compositions of the first and last step).
#[test]
fn p2_crosses_its_segment_junction_at_full_steps() {
    let sets = [
        "grid.n=[32, 32]",
        "cahn_hilliard.interface_width_nm=80.0",
        "initial.c0=0.36",
        "drive.c_rate=1.0",
    ];
    let problem = common::load("configs/p2_o3_cathode.toml", &sets)
        .problem(true)
        .unwrap();
    assert!(problem.chemistry.faces.is_some());
    let current = problem.drive.as_ref().unwrap().current;
    let mut b = CpuBackend::new(&problem);
    let start = b.observe().unwrap().total_c;
    let dt = problem.time.dt_max;
    let (mut first, mut last, mut passed) = (None, (f64::NAN, f64::NAN), 0.0);
    for n in 0..8 {
        let r = b.step(dt).unwrap();
        assert!(
            r.newton_iterations < swellfield::backend::cpu::convex_split::MAX_NEWTON as u64,
            "step {n} was halved ({} Newton iterations)",
            r.newton_iterations
        );
        passed += dt * current;
        let o = b.observe().unwrap();
        let err = (o.total_c - start - passed).abs() / problem.capacity;
        assert!(err <= BALANCE_CPU, "step {n}: ions off by {err:e}");
        first.get_or_insert((r.mu_e.unwrap(), o.mean_c));
        last = (r.mu_e.unwrap(), o.mean_c);
    }
    let ((mu_first, c_first), (mu_last, c_last)) = (first.unwrap(), last);
    assert!(c_last < 0.33, "mean c {c_last} should be past the junction");
    // The particle is nearly uniform (D = 1e-10 cm²/s over 250 nm in 20 s steps), so μ_e
    // follows the host's μ at its mean c, less the overpotential, which changes by about a kT
    // as the exchange factor j(c) does across the junction.
    let p2 = problem
        .chemistry
        .components
        .iter()
        .find(|comp| {
            matches!(&comp.free_energy, FreeEnergy::RegularSolution { segments } if segments.len() == 2)
        })
        .unwrap();
    let plateaus = p2.free_energy.mu(c_first) - p2.free_energy.mu(c_last);
    let drop = mu_first - mu_last;
    assert!(
        (drop - plateaus).abs() < 0.1 * plateaus,
        "μ_e fell {drop} kT across the junction, the plateaus at the mean c {plateaus} kT"
    );
}

/// The smooth periodic cell of configs/verification/convergence.toml (one host filling it, two
/// cosine modes) at n².
fn one_host(n: usize) -> Problem {
    common::problem(
        "configs/verification/convergence.toml",
        &[&format!("grid.n=[{n}, {n}]")],
    )
}

/// `p` stepped by the convex-splitting step on its finite volumes, with the face mobility's
/// prefactor ψd = `flux` (`None`: uniform), where the cell alone would take the spectral step.
fn on_faces(p: &Problem, flux: Option<&[f64]>) -> Problem {
    let mut p = p.clone();
    let n = p.grid.len();
    p.chemistry.faces = Some(Faces::new(
        &p.grid,
        &vec![1.0; n],
        p.chemistry.psi_floor,
        flux,
    ));
    p
}

/// c after `steps` fixed steps of `dt`.
fn c_after(p: &Problem, dt: f64, steps: usize) -> Vec<f64> {
    let mut b = CpuBackend::new(p);
    for _ in 0..steps {
        b.step(dt).unwrap();
    }
    b.fields(&[FieldName::C]).unwrap().0.remove(0).1
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The observed order of `errors` (each from a grid twice as fine as the last's) at each
/// halving of h.
fn orders(errors: &[f64]) -> Vec<f64> {
    errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect()
}

/// On a cell one host fills, the convex-splitting step and the spectral step (which such a cell
/// takes) solve the same problem: on convergence.toml's smooth spinodal start, each run
/// Richardson-extrapolated in dt (2 c(dt/2) − c(dt), so that the two steps' different first-order
/// time errors drop out), they differ by the finite volumes' second-order spatial error (the
/// spectral step is spectrally accurate): observed order within 0.3 of 2 from 16² to 64²
/// (measured 1.99 and 2.09).
#[test]
fn agrees_with_the_spectral_step_at_second_order_in_h() {
    let steps = 80;
    let extrapolated = |p: &Problem| -> Vec<f64> {
        let coarse = c_after(p, p.time.end / steps as f64, steps);
        let fine = c_after(p, p.time.end / (2 * steps) as f64, 2 * steps);
        fine.iter().zip(&coarse).map(|(f, c)| 2.0 * f - c).collect()
    };
    let differences: Vec<f64> = [16, 32, 64]
        .into_iter()
        .map(|n| {
            let spectral = one_host(n);
            let fv = on_faces(&spectral, None);
            max_difference(&extrapolated(&spectral), &extrapolated(&fv))
        })
        .collect();
    for order in orders(&differences) {
        assert!(
            (1.7..=2.3).contains(&order),
            "observed order {order:.3} from differences {differences:?}"
        );
    }
}

/// Second order in h where the mobility varies a hundredfold: convergence.toml's start with
/// ψd falling smoothly from 1 to 0.01 across the cell (`10^(−(1 − cos 2πx/L))`, harmonic face
/// means). At a fixed dt, so that the time error, the same on every grid, cancels in the
/// differences between successive grids, each compared on the coarser grid's points (the
/// fields are sampled at x_k = k h). Observed order within 0.3 of 2 at each halving of h
/// (measured 1.95 and 1.99 from 16² to 128²). (A
/// sharp host boundary on the voxel grid converges at first order: it is staircased, and moves
/// by up to h/2 as h changes.)
#[test]
fn second_order_in_h_with_a_hundredfold_mobility_contrast() {
    let run = |n: usize| {
        let p = one_host(n);
        let flux: Vec<f64> = (0..p.grid.len())
            .map(|i| {
                let x = (i % n) as f64 / n as f64;
                10f64.powf(-(1.0 - (2.0 * std::f64::consts::PI * x).cos()))
            })
            .collect();
        let fv = on_faces(&p, Some(&flux));
        c_after(&fv, fv.time.end / 10.0, 10)
    };
    let grids: Vec<(usize, Vec<f64>)> =
        [16, 32, 64, 128].into_iter().map(|n| (n, run(n))).collect();
    let errors: Vec<f64> = grids
        .windows(2)
        .map(|w| {
            let ((n, coarse), (_, fine)) = (&w[0], &w[1]);
            (0..n * n)
                .map(|k| {
                    let (x, y) = (k % n, k / n);
                    (coarse[k] - fine[2 * x + 2 * n * 2 * y]).abs()
                })
                .fold(0.0, f64::max)
        })
        .collect();
    for order in orders(&errors) {
        assert!(
            (1.7..=2.3).contains(&order),
            "observed order {order:.3} in h from differences {errors:?}"
        );
    }
}
