//! model.md §7 case 2: an Eshelby inclusion with uniform eigenstrain in a matrix of the same
//! stiffness, in 2-D plane strain and in 3-D (configs/verification/eshelby_*.toml).

mod common;

use swellfield::backend::Backend;
use swellfield::fields::FieldName;

const EPS_STAR: f64 = 0.01;
const NU: f64 = 0.3;

/// Solves the config's elastic problem and returns (strain components xx yy zz, θ, grid n).
fn solve(path: &str, sets: &[&str]) -> ([Vec<f64>; 3], Vec<f64>, [usize; 3]) {
    let problem = common::problem(path, sets);
    let mut b = common::cpu_backend(&problem);
    let f = b
        .fields(&[
            FieldName::Strain(0),
            FieldName::Strain(1),
            FieldName::Strain(2),
        ])
        .unwrap();
    let e = [0, 1, 2].map(|k| f.get(FieldName::Strain(k)).unwrap().to_vec());
    let micro = problem.microstructure.as_ref().unwrap();
    let theta = micro.phi[problem
        .material_names()
        .iter()
        .position(|n| *n == "inclusion")
        .unwrap()]
    .clone();
    (e, theta, problem.grid.n)
}

/// The exact periodic identity `tr ε − ⟨tr ε⟩ = (1+ν)/(1−ν) ε* (θ − f)` holds voxel by voxel to
/// round-off (the spectral Green operator solves the homogeneous problem exactly), in 3-D and
/// in plane strain (where tr is the in-plane trace and ε_zz = 0, docs/verification.md).
#[test]
fn trace_identity_holds_to_round_off() {
    for path in [
        "configs/verification/eshelby_2d.toml",
        "configs/verification/eshelby_3d.toml",
    ] {
        let (e, theta, _) = solve(path, &[]);
        let n = theta.len() as f64;
        let f = theta.iter().sum::<f64>() / n;
        let tr: Vec<f64> = (0..theta.len())
            .map(|i| e[0][i] + e[1][i] + e[2][i])
            .collect();
        let mean_tr = tr.iter().sum::<f64>() / n;
        let k = (1.0 + NU) / (1.0 - NU) * EPS_STAR;
        let worst = (0..theta.len())
            .map(|i| (tr[i] - mean_tr - k * (theta[i] - f)).abs())
            .fold(0.0, f64::max);
        println!("{path}: worst |identity residual| = {worst:e} (scale {k:e})");
        assert!(worst < 1e-12 * k / EPS_STAR, "{path}: residual {worst:e}");
    }
}

/// Interior strain against Eshelby's closed form for an isolated inclusion: the cylinder in
/// plane strain, ε_xx = (1+ν)/(2(1−ν)) ε*, and the sphere, ε_xx = (1+ν)/(3(1−ν)) ε*. Under
/// `fixed` the periodic cell lowers it by exactly (1 − f) at the centre, so the error against
/// the isolated inclusion falls in proportion to the volume fraction f: halving the radius
/// divides it by 4 (2-D) or 8 (3-D).
#[test]
fn interior_strain_matches_eshelby_and_error_falls_with_f() {
    let cases = [
        (
            "configs/verification/eshelby_2d.toml",
            2.0,
            [
                "microstructure.shapes[0].radius_nm=12.8",
                "microstructure.shapes[0].radius_nm=6.4",
            ],
        ),
        (
            "configs/verification/eshelby_3d.toml",
            3.0,
            [
                "microstructure.shapes[0].radius_nm=12.8",
                "microstructure.shapes[0].radius_nm=6.4",
            ],
        ),
    ];
    for (path, dim, radii) in cases {
        let closed = (1.0 + NU) / (dim * (1.0 - NU)) * EPS_STAR;
        let mut errors = Vec::new();
        for set in radii {
            let (e, theta, n) = solve(path, &[set]);
            let f = theta.iter().sum::<f64>() / theta.len() as f64;
            // The voxel next to the centre, on the diagonal: ε_xx = ε_yy (= ε_zz) by symmetry.
            let (x, y, z) = (
                n[0] / 2 - 1,
                n[1] / 2 - 1,
                if n[2] > 1 { n[2] / 2 - 1 } else { 0 },
            );
            let i = (z * n[1] + y) * n[0] + x;
            let exx = e[0][i];
            let periodic = closed * (theta[i] - f);
            let err = (exx - closed).abs() / closed;
            println!(
                "{path} {set}: f = {f:.5}, eps_xx = {exx:.8e}, isolated {closed:.8e}, relative error {err:.5e}"
            );
            assert!(
                (exx - periodic).abs() < 1e-10 * closed,
                "{path}: centre {exx:e} vs periodic closed form {periodic:e}"
            );
            assert!(err < 1.2 * f, "{path}: error {err:e} at f = {f}");
            errors.push((err, f));
        }
        let ratio = errors[0].0 / errors[1].0;
        let f_ratio = errors[0].1 / errors[1].1;
        assert!(
            (ratio / f_ratio - 1.0).abs() < 0.1,
            "{path}: error ratio {ratio} vs volume-fraction ratio {f_ratio}"
        );
    }
}
