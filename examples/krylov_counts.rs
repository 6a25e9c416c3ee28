//! The convex-splitting step's solver counts against the diffusivity contrast and the grid
//! (docs/verification.md): Newton iterations per step and MINRES iterations per linear solve on
//! the Sn in hard carbon cell, charged at C/10 from its config's start for 40 steps with the
//! adaptive dt (max_dc 0.05, dt_max 20 s).
//!
//! Run: `cargo run --release --example krylov_counts`

use swellfield::backend::Backend;
use swellfield::backend::cpu::CpuBackend;
use swellfield::config;
use swellfield::problem::Problem;
use swellfield::time_step::TimeStepper;

const CONFIG: &str = "configs/sn_hard_carbon.toml";
const STEPS: usize = 40;

/// The step controls the counts are measured with (docs/verification.md's table), whatever the
/// config ships.
const CONTROLS: [&str; 2] = ["time.dt_max=20.0", "time.max_dc=0.05"];

fn measure(sets: &[String]) -> (f64, f64, f64) {
    let sets: Vec<String> = CONTROLS
        .iter()
        .map(|s| s.to_string())
        .chain(sets.iter().cloned())
        .collect();
    let loaded = config::load(std::path::Path::new(CONFIG), &sets).expect("the shipped config");
    let mut problem = Problem::new(&loaded.config).expect("a valid problem");
    problem.mechanics = None;
    let mut backend = CpuBackend::new(&problem);
    let mut stepper = TimeStepper::new(&problem.time);
    let (mut newton, mut linear) = (0u64, 0u64);
    let start = std::time::Instant::now();
    for _ in 0..STEPS {
        let dt = stepper.dt();
        let r = backend.step(dt).expect("a converging step");
        stepper.adapt(dt, r.max_dc);
        newton += r.newton_iterations;
        linear += r.linear_iterations;
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / STEPS as f64;
    // Two solves per Newton iteration under a galvanostat: the residual and μ_e's column.
    (
        newton as f64 / STEPS as f64,
        linear as f64 / (2 * newton) as f64,
        ms,
    )
}

fn main() {
    println!("| cell | Newton per step | MINRES per solve | ms per step |");
    println!("|---|---|---|---|");
    for exponent in 0..=5 {
        let sn = 1e-10 / 10f64.powi(exponent);
        let sets = vec![
            "grid.n=[64, 64]".to_string(),
            format!("materials.sn.diffusivity_cm2_s={sn:e}"),
            format!("interface_band.diffusivity_cm2_s={sn:e}"),
        ];
        let (n, l, ms) = measure(&sets);
        println!("| 64², contrast 1e{exponent} | {n:.1} | {l:.1} | {ms:.1} |");
    }
    for n in [32, 64, 128, 256] {
        let sets = vec![format!("grid.n=[{n}, {n}]")];
        let (k, l, ms) = measure(&sets);
        println!("| {n}², contrast 1e5 (band 1e-12) | {k:.1} | {l:.1} | {ms:.1} |");
    }
}
