//! model.md §7 case 7 for the one-host spectral step: the f32 GPU backend against the f64 CPU
//! reference, field by field and observable by observable, after N steps of the configs that
//! fill the cell with one host, without mechanics or drive. On the adapter CI has (lavapipe).
//! The multi-material step (pores, several hosts, drive, elasticity) has tests/gpu_system.rs.

mod common;

use common::Tolerance;
use swellfield::backend::gpu::GpuBackend;
use swellfield::backend::{Backend, cpu::CpuBackend};
use swellfield::fields::FieldName;

/// f32 carries 24 bits (6e-8 relative); one step runs ~8 transforms of 5e-7 relative error each
/// (tests/gpu_fft.rs) on fields of order one, and the increment of c per step is small, so c
/// itself carries ~1e-7 and μ (of order 1–10, from a Laplacian that amplifies high modes)
/// ~1e-6; the diffusive dynamics damp rather than grow the noise. Hence 1e-5 relative plus
/// 1e-5 absolute (μ crosses zero in the double well), ten times what is measured.
const FIELDS: Tolerance = Tolerance {
    relative: 1e-5,
    absolute: 1e-5,
};
/// Energies are sums of N terms each carrying f32 round-off: 1e-5 relative.
const SUMS: Tolerance = Tolerance {
    relative: 1e-5,
    absolute: 1e-9,
};

fn compare(name: &str, sets: &[&str], steps: usize) {
    let problem = common::problem(name, sets);
    let mut cpu = CpuBackend::new(&problem);
    let mut gpu =
        GpuBackend::new(&problem).unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"));
    let dt = problem.time.dt_max * 0.05;
    for _ in 0..steps {
        let (a, b) = (cpu.step(dt).unwrap(), gpu.step(dt).unwrap());
        assert!(
            FIELDS.holds(b.max_dc, a.max_dc) || (b.max_dc - a.max_dc).abs() < 1e-5,
            "{name}: max_dc {} vs {}",
            b.max_dc,
            a.max_dc
        );
    }
    for field in [FieldName::C, FieldName::Mu] {
        let a = cpu.fields(&[field]).unwrap().get(field).unwrap().to_vec();
        let b = gpu.fields(&[field]).unwrap().get(field).unwrap().to_vec();
        let (worst, at) = a
            .iter()
            .zip(&b)
            .enumerate()
            .map(|(i, (x, y))| ((x - y).abs() - FIELDS.relative * x.abs(), i))
            .fold((f64::NEG_INFINITY, 0), |m, v| if v.0 > m.0 { v } else { m });
        println!(
            "{name} {field:?}: worst excess over relative tolerance {worst:.2e} at voxel {at} ({} vs {})",
            a[at], b[at]
        );
        assert!(
            worst <= FIELDS.absolute,
            "{name} {field:?} at voxel {at}: cpu {} gpu {}",
            a[at],
            b[at]
        );
    }
    let (oa, ob) = (cpu.observe().unwrap(), gpu.observe().unwrap());
    for (what, x, y) in [
        ("mean_c", oa.mean_c, ob.mean_c),
        ("total_c", oa.total_c, ob.total_c),
        ("energy_chemical", oa.energy_chemical, ob.energy_chemical),
        ("energy_gradient", oa.energy_gradient, ob.energy_gradient),
    ] {
        println!("{name} {what}: cpu {x:.10e} gpu {y:.10e}");
        assert!(SUMS.holds(y, x), "{name} {what}: cpu {x:e} gpu {y:e}");
    }
    assert!(FIELDS.holds(ob.c_min, oa.c_min) && FIELDS.holds(ob.c_max, oa.c_max));
}

#[test]
fn pfhub_1a_agrees() {
    compare(
        "configs/verification/pfhub_1a.toml",
        &["grid.n=[64, 64]", "grid.length=[50.0, 50.0]"],
        40,
    );
}

#[test]
fn regular_solution_with_variable_mobility_agrees() {
    compare("configs/verification/conservation.toml", &[], 40);
}

#[test]
fn convergence_case_agrees() {
    compare("configs/verification/convergence.toml", &[], 40);
}

#[test]
fn three_dimensional_run_agrees() {
    compare(
        "configs/verification/conservation.toml",
        &["grid.n=[16, 16, 16]", "grid.length_nm=[32.0, 32.0, 32.0]"],
        20,
    );
}
