//! model.md §6: the elastic solver converges at the stiffness contrast pores bring, and
//! conjugate gradients need far fewer iterations than the basic fixed-point scheme.

mod common;

use swellfield::backend::Backend;

/// Cold-start iterations to a 1e-6 relative residual for an inclusion in a matrix `contrast`
/// times softer (configs/verification/eshelby_2d.toml, free boundary).
fn iterations(solver: &str, contrast: f64) -> (u64, f64) {
    let e = format!("materials.matrix.young_modulus_gpa={}", 100.0 / contrast);
    let s = format!("mechanics.solver=\"{solver}\"");
    let problem = common::problem(
        "configs/verification/eshelby_2d.toml",
        &[
            &e,
            &s,
            "mechanics.tolerance=1e-6",
            "mechanics.boundary=\"free\"",
            "mechanics.max_iterations=20000",
        ],
    );
    let mut b = common::cpu_backend(&problem);
    let r = b.step(1e-6).unwrap();
    (r.elastic_iterations, r.elastic_residual)
}

/// The table of docs/verification.md: CG grows like the square root of the contrast (about
/// 3.2× per decade), the fixed point like the contrast (about 10× per decade); both reach the
/// tolerance, CG at 1e3 (the pores' contrast) in a tenth of the fixed point's iterations.
#[test]
fn cg_beats_the_fixed_point_and_handles_pore_contrast() {
    let mut rows = Vec::new();
    for contrast in [10.0, 100.0, 1000.0] {
        let (cg, rc) = iterations("cg", contrast);
        let (fp, rf) = iterations("fixed_point", contrast);
        println!("| {contrast:>6} | {cg:>4} | {rc:.1e} | {fp:>6} | {rf:.1e} |");
        assert!(rc <= 1e-6 && rf <= 1e-6);
        rows.push((cg as f64, fp as f64));
    }
    assert!(
        rows[2].0 * 10.0 < rows[2].1,
        "CG {} vs fixed point {} at 1e3",
        rows[2].0,
        rows[2].1
    );
    for w in rows.windows(2) {
        assert!(
            w[1].0 / w[0].0 < 3.5,
            "CG grows about as sqrt(contrast): {rows:?}"
        );
        assert!(
            w[1].1 / w[0].1 > 5.0,
            "the fixed point grows about as the contrast: {rows:?}"
        );
    }
}
