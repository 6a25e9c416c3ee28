//! Stress acting back on the chemistry (model.md §8, "Stress coupling"): the free energy with
//! its stored elastic part never rises without current, and with plastic flow it falls by at
//! least the plastic work; the observed order in dt of a coupled run. CPU backend: the GPU
//! refuses configs that flow until the WGSL J2 port.

mod common;

use swellfield::backend::Backend;
use swellfield::backend::cpu::CpuBackend;
use swellfield::problem::Problem;

/// The Sn in hard carbon cell at 32² (30 % pores, diffusivity contrast 1e5), stress coupled, Sn
/// flowing at 0.15 GPa (materials.md §11), without current, from a noisy start.
fn coupled_cell(sets: &[&str]) -> Problem {
    let mut all = vec![
        "grid.n=[32, 32]",
        "grid.length_nm=[250.0, 250.0]",
        "time.dt_max=20.0",
        "mechanics.stress_coupling=true",
        "mechanics.tolerance=1e-10",
        "materials.sn.yield_stress_gpa=0.15",
    ];
    all.extend_from_slice(sets);
    let mut p = common::problem("configs/sn_hard_carbon.toml", &all);
    p.drive = None;
    p
}

/// F (chemical + gradient + elastic with hardening's store) and the plastic work so far.
fn energy_and_work(b: &mut CpuBackend) -> (f64, f64) {
    let o = b.observe().unwrap();
    let work: f64 = o.materials.iter().map(|m| m.plastic_work).sum();
    (
        o.energy_chemical + o.energy_gradient + o.energy_elastic,
        work,
    )
}

/// Round-off and solve tolerance of one step's energy balance, relative to |F|: the elastic
/// solve stops at 1e-10 of its load (`mechanics.tolerance`), and the energy's error is of the
/// order of that residual.
const BALANCE: f64 = 1e-10;

/// Without current, with Sn flowing perfectly plastically, each step lowers F by at least the
/// plastic work it does: `F(n+1) − F(n) + ΔW_p ≤ 0` (the chemistry's splitting is stable
/// at fixed plastic strain, and the return mapping minimises the stored energy plus the
/// dissipation `σ_y Δα`, which is the plastic work without hardening), at dt_max and at
/// 1000 × dt_max, from a noisy start whose misfit between Sn and hard carbon makes Sn flow at
/// every step; and with laminate voxels where solid meets the pores (their μ is the variation
/// of the laminate's energy, its solid part's stress on the voxel's A).
#[test]
fn free_energy_falls_by_at_least_the_plastic_work() {
    for (factor, mixing) in [(1.0, "voigt"), (1000.0, "voigt"), (1.0, "laminate")] {
        let mixing = format!("mechanics.mixing=\"{mixing}\"");
        let problem = coupled_cell(&["initial.c0=0.3", "initial.noise=0.05", &mixing]);
        let mut b = CpuBackend::new(&problem);
        let dt = factor * problem.time.dt_max;
        let (first, w0) = energy_and_work(&mut b);
        let (mut last, mut last_w) = (first, w0);
        for n in 0..20 {
            b.step(dt).unwrap();
            let (e, w) = energy_and_work(&mut b);
            let slack = (e - last) + (w - last_w);
            assert!(
                slack <= BALANCE * e.abs(),
                "{mixing}, dt = {factor} dt_max, step {n}: F changed by {:e} while the plastic \
                 work grew by {:e}",
                e - last,
                w - last_w
            );
            assert!(
                w > last_w,
                "{mixing}, dt = {factor} dt_max, step {n}: Sn must flow"
            );
            last = e;
            last_w = w;
        }
        assert!(last < first, "{mixing}, dt = {factor} dt_max: F must fall");
    }
}
