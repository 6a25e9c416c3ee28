//! model.md §7 case 3: a swelling core in a stiffer shell with soft pores outside; the radial
//! stress at the interface against the Lamé closed form of a composite cylinder in plane strain.

mod common;

use swellfield::backend::Backend;
use swellfield::fields::FieldName;

const PATH: &str = "configs/verification/lame_core_shell.toml";

/// σ_xx at the voxel next to the core's centre (on the diagonal, where σ_xx = σ_yy = σ_rr), GPa.
fn core_stress(sets: &[&str]) -> f64 {
    let problem = common::problem(PATH, sets);
    let mut b = common::cpu_backend(&problem);
    let f = b.fields(&[FieldName::Stress(0)]).unwrap();
    let s = f.get(FieldName::Stress(0)).unwrap();
    let n = problem.grid.n;
    let i = (n[1] / 2 - 1) * n[0] + n[0] / 2 - 1;
    s[i] * problem.units.stress_pa / 1e9
}

/// The core's radial stress matches the closed form within 3 % with boundaries smoothed over
/// σ = 0.5 nm and pores at 1e-3 of the softest solid. The two error sources behave as they
/// should: the diffuse boundaries give an error of first order in their width (halving σ
/// roughly halves it), and the pores' own stiffness adds a part that falls tenfold per decade
/// of softening (docs/verification.md has the table, and the cell-size check).
#[test]
fn interface_radial_stress_matches_lame() {
    let p = common::lame_pressure(20.0, 28.0, (50e9, 0.3), (150e9, 0.25), 0.01) / 1e9;
    assert!(p < 0.0, "a swelling core is compressed: p = {p}");
    let err = |s: f64| (s - p).abs() / p.abs();
    let base = core_stress(&[]);
    println!(
        "default: sigma_rr(core) = {base:.6} GPa, Lamé {p:.6} GPa, relative error {:.4e}",
        err(base)
    );
    assert!(err(base) < 0.03, "relative error {}", err(base));

    let sharper = core_stress(&["microstructure.smoothing_voxels=0.5"]);
    let ratio = err(sharper) / err(base);
    println!(
        "half the boundary width: {sharper:.6} GPa, error {:.4e} (ratio {ratio:.3})",
        err(sharper)
    );
    assert!(
        (0.4..0.7).contains(&ratio),
        "first order in the width: ratio {ratio}"
    );

    let pores: Vec<f64> = ["0.5", "0.05", "0.005"]
        .iter()
        .map(|e| core_stress(&[&format!("materials.pore.young_modulus_gpa={e}")]))
        .collect();
    let (d1, d2) = ((pores[0] - pores[1]).abs(), (pores[1] - pores[2]).abs());
    println!("pore E 0.5 / 0.05 / 0.005 GPa: {pores:?}; changes {d1:.3e}, {d2:.3e}");
    assert!(
        d1 / d2 > 5.0,
        "the pores' contribution must fall about tenfold per decade: {d1:e} then {d2:e}"
    );
}
