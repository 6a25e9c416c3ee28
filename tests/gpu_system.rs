//! model.md §7 case 7 for the multi-material GPU step: pores, several hosts, the drive and
//! elasticity, against the f64 CPU reference after N steps, on the adapter CI has (lavapipe).

mod common;

use swellfield::backend::gpu::GpuBackend;
use swellfield::backend::{Backend, cpu::CpuBackend};
use swellfield::fields::FieldName;

/// Worst |gpu − cpu| − relative·|cpu| over a field, with where.
fn worst(a: &[f64], b: &[f64], relative: f64) -> (f64, usize) {
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| ((x - y).abs() - relative * x.abs(), i))
        .fold((f64::NEG_INFINITY, 0), |m, v| if v.0 > m.0 { v } else { m })
}

fn run(name: &str, sets: &[&str], steps: usize, dt_fraction: f64) {
    let problem = common::problem(name, sets);
    let mut cpu = CpuBackend::new(&problem);
    let mut gpu =
        GpuBackend::new(&problem).unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"));
    let dt = problem.time.dt_max * dt_fraction;
    for s in 0..steps {
        let (a, b) = (cpu.step(dt).unwrap(), gpu.step(dt).unwrap());
        println!(
            "{name} step {s}: max_dc {:.4e} / {:.4e}, mu_e {:?} / {:?}, ions {:.4e} / {:.4e}, el it {} / {}",
            a.max_dc, b.max_dc, a.mu_e, b.mu_e, a.ions_added, b.ions_added, a.elastic_iterations, b.elastic_iterations
        );
    }
    let mut fields = vec![FieldName::C, FieldName::Mu];
    if problem.mechanics.is_some() {
        fields.extend([FieldName::Strain(0), FieldName::Strain(1), FieldName::VonMises]);
    }
    for field in fields {
        let a = cpu.fields(&[field]).unwrap().get(field).unwrap().to_vec();
        let b = gpu.fields(&[field]).unwrap().get(field).unwrap().to_vec();
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (w, at) = worst(&a, &b, 1e-4);
        println!("{name} {field:?}: scale {scale:.3e} worst excess {w:.3e} at {at}: cpu {} gpu {}", a[at], b[at]);
    }
    let (oa, ob) = (cpu.observe().unwrap(), gpu.observe().unwrap());
    println!("{name} mean_c {} / {}, total {} / {}", oa.mean_c, ob.mean_c, oa.total_c, ob.total_c);
}

#[test]
fn galvanostatic_sphere_agrees() {
    run("configs/verification/galvanostatic.toml", &["grid.n=[32, 32]", "grid.length_nm=[64.0, 64.0]"], 10, 0.05);
}

#[test]
fn eshelby_inclusion_agrees() {
    run("configs/verification/eshelby_2d.toml", &["grid.n=[32, 32]", "grid.length_nm=[128.0, 128.0]"], 3, 0.05);
}

#[test]
fn systems_probe() {
    for name in ["configs/sn_hard_carbon.toml", "configs/si_mose2_carbon.toml", "configs/p2_o3_cathode.toml"] {
        let t = std::time::Instant::now();
        run(name, &["grid.n=[64, 64]"], 5, 0.05);
        println!("{name}: {:.1} s", t.elapsed().as_secs_f64());
    }
}

#[test]
fn sn_debug() {
    let problem = common::problem("configs/sn_hard_carbon.toml", &["grid.n=[64, 64]"]);
    let mut cpu = CpuBackend::new(&problem);
    let mut gpu = GpuBackend::new(&problem).unwrap();
    let psi = problem.chemistry.psi.clone().unwrap();
    let flux = problem.chemistry.flux.clone().unwrap_or_default();
    let dt = problem.time.dt_max * 0.05;
    for s in 0..3 {
        for field in [FieldName::Mu, FieldName::C] {
            let a = cpu.fields(&[field]).unwrap().get(field).unwrap().to_vec();
            let b = gpu.fields(&[field]).unwrap().get(field).unwrap().to_vec();
            let mut idx: Vec<usize> = (0..a.len()).collect();
            idx.sort_by(|&i, &j| (a[j] - b[j]).abs().partial_cmp(&(a[i] - b[i]).abs()).unwrap());
            for &i in idx.iter().take(4) {
                println!("step {s} {field:?} voxel {i} ({}, {}): cpu {} gpu {} psi {} flux {} floor {}", i % 64, i / 64, a[i], b[i], psi[i], flux.get(i).copied().unwrap_or(1.0), problem.chemistry.psi_floor);
            }
        }
        cpu.step(dt).unwrap();
        gpu.step(dt).unwrap();
    }
}
