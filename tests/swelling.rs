//! A free particle swells by exactly its eigenstrain (configs/verification/free_swelling.toml):
//! the reported per-material swelling det(I + ε) − 1 against its closed forms.

mod common;

use swellfield::backend::Backend;

const C: f64 = 0.5;
const NU: f64 = 0.33;

fn swelling_sn(sets: &[&str]) -> f64 {
    let problem = common::problem("configs/verification/free_swelling.toml", sets);
    let mut b = common::cpu_backend(&problem);
    let obs = b.observe().unwrap();
    let i = problem
        .material_names()
        .iter()
        .position(|n| *n == "sn")
        .unwrap();
    obs.materials[i].swelling
}

/// 3-D, 2-D plane strain and 2-D generalised plane strain, within 4 % at an 8-voxel (3-D) or
/// 16-voxel (2-D) radius. What error there is comes from the diffuse boundary and is of first
/// order in its width over the radius: halving the width cuts it (docs/verification.md).
#[test]
fn free_particle_swells_by_its_eigenstrain() {
    // β = (1 + ΔV/V)^(1/3) − 1 with ΔV/V = 4.20 (model.md §3).
    let beta = 5.2f64.cbrt() - 1.0;
    let cases = [
        (
            "3-D",
            vec!["grid.n=[32, 32, 32]", "grid.length_nm=[64.0, 64.0, 64.0]"],
            (1.0 + beta * C).powi(3) - 1.0,
        ),
        (
            "plane strain",
            vec![],
            (1.0 + (1.0 + NU) * beta * C).powi(2) - 1.0,
        ),
        (
            "generalised plane strain",
            vec!["mechanics.out_of_plane=\"generalized\""],
            (1.0 + beta * C).powi(3) - 1.0,
        ),
    ];
    for (name, sets, expected) in cases {
        let got = swelling_sn(&sets);
        let err = (got / expected - 1.0).abs();
        println!(
            "{name}: swelling_sn {got:.5}, closed form {expected:.5}, relative error {err:.4}"
        );
        assert!(err < 0.04, "{name}: {got} vs {expected}");
        let mut sharper = sets.clone();
        sharper.push("microstructure.smoothing_voxels=0.5");
        let err2 = (swelling_sn(&sharper) / expected - 1.0).abs();
        println!("{name}, half the width: relative error {err2:.4}");
        assert!(
            err2 < 0.75 * err,
            "{name}: the error must fall with the width: {err} then {err2}"
        );
    }
}
