//! model.md §7 case 3: a swelling core in a stiffer shell with soft pores outside; the radial
//! stress at the interface against the Lamé closed form of a composite cylinder in plane strain.

mod common;

use swellfield::backend::Backend;
use swellfield::fields::FieldName;
use swellfield::materials::lame;

const PATH: &str = "configs/verification/lame_core_shell.toml";

/// Interface pressure p = σ_rr(a) of a core (radius a, eigenstrain β in all three directions)
/// bonded in a shell (outer radius b, free outer surface), plane strain (ε_zz = 0). With
/// u = A r in the core and u = A₂ r + B₂/r in the shell, σ_rr = 2(λ+μ)A − 2μB/r² − (3λ+2μ)β.
pub fn lame_pressure(a: f64, b: f64, core: (f64, f64), shell: (f64, f64), beta: f64) -> f64 {
    let (l1, m1) = lame(core.0, core.1);
    let (l2, m2) = lame(shell.0, shell.1);
    // Unknowns A1, A2, B2: continuity of u and σ_rr at a, σ_rr(b) = 0.
    let m = [
        [1.0, -1.0, -1.0 / (a * a)],
        [2.0 * (l1 + m1), -2.0 * (l2 + m2), 2.0 * m2 / (a * a)],
        [0.0, 2.0 * (l2 + m2), -2.0 * m2 / (b * b)],
    ];
    let rhs = [0.0, (3.0 * l1 + 2.0 * m1) * beta, 0.0];
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let mut m1_ = m;
    for r in 0..3 {
        m1_[r][0] = rhs[r];
    }
    let a1 = det(m1_) / det(m);
    2.0 * (l1 + m1) * a1 - (3.0 * l1 + 2.0 * m1) * beta
}

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
    let p = lame_pressure(20.0, 28.0, (50e9, 0.3), (150e9, 0.25), 0.01) / 1e9;
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
