//! Keeping the site fraction inside [0, 1] without losing an ion (model.md §8), CPU mirror of
//! shaders/bounds.wgsl.
//!
//! Neither the stabilised implicit step nor the explicit flux has a maximum principle, and in
//! voxels with few sites (a surface voxel that is mostly pore) c drifts out of [0, 1] step after
//! step. The step's last act is therefore a projection: the ψ-weighted nearest field to the
//! step's ĉ that lies in [`LOWER`, `UPPER`] and holds the ions the step must hold,
//! `c = clamp(ĉ + ξ)` with one scalar ξ (the Karush–Kuhn–Tucker form of that nearest field; the
//! cut-off with a Lagrange multiplier of Cheng & Shen, SIAM J. Numer. Anal. 60 (2022) 970).
//! Where ĉ is inside the bounds it is the uniform shift the step always ended with. ξ is the
//! root of the piecewise-linear, non-decreasing Σ ψ clamp(ĉ + ξ) − T, found by [`NEWTON`]
//! Newton steps from the uniform shift; the last correction δ goes to the voxels inside the
//! bounds only, so Σ ψ c = T holds to round-off even if Newton has not settled (then an inside
//! voxel may end up to δ past a bound). The ions the cut moves are reported: they are what the
//! step would have put outside [0, 1].

use rayon::prelude::*;

use super::cahn_hilliard::SANE_C;

/// The bounds c is kept within. The lower one is the logarithm's floor (1e-30, 69 kT below the
/// plateau): a host held at a higher floor keeps a μ that far from its plateau and no further,
/// and a neighbour whose plateau lies beyond it draws ions from it that the projection then
/// refills out of the whole solid (at 1e-6, 14 kT, an emptied O3 at 3.3 V looked like 3.66 V,
/// below P2's 4.2 V segment, and carried a P2/O3 charge; model.md §8). f32 holds 1e-30 as a
/// normal number. The upper one stays 1e-6 from 1, where f32 still resolves 1 − c.
pub const LOWER: f64 = 1e-30;
pub const UPPER: f64 = 1.0 - 1e-6;
/// Newton steps for ξ. The active set is settled after one or two where only a few voxels
/// are cut; the GPU runs this fixed count, without reading anything back, and the CPU stops
/// early where nothing is cut.
pub const NEWTON: usize = 6;

/// The projection's sums over the solid at shift ξ: (Σ ψ over voxels strictly inside the
/// bounds, Σ ψ |clamp(y) − y|, the count of voxels whose y is outside [`SANE_C`] or not finite,
/// Σ ψ clamp(y)), y = ĉ + ξ (WGSL `bound_partial`). The count keeps a diverged step from
/// passing as a cut one.
pub fn bound_sums(c: &[f64], psi: impl Fn(usize) -> Option<f64> + Sync, xi: f64) -> [f64; 4] {
    c.par_iter()
        .enumerate()
        .filter_map(|(i, &c)| {
            let p = psi(i)?;
            let y = c + xi;
            let k = y.clamp(LOWER, UPPER);
            let inside = if y > LOWER && y < UPPER { p } else { 0.0 };
            let insane = if SANE_C.contains(&y) { 0.0 } else { 1.0 };
            Some([inside, p * (k - y).abs(), insane, p * k])
        })
        .reduce(
            || [0.0; 4],
            |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]],
        )
}

/// The Newton correction from the sums at ξ: δ = (T − Σ ψ clamp)/Σ_inside ψ, 0 when every
/// voxel is cut (WGSL scalar program `PROJECT`).
pub fn correction(sums: [f64; 4], target: f64) -> f64 {
    if sums[0] > 0.0 {
        (target - sums[3]) / sums[0]
    } else {
        0.0
    }
}

/// c ← clamp(c + ξ), then + δ where c + ξ is inside the bounds (WGSL `bound_apply`), on the
/// voxels where `solid`.
pub fn bound_apply(c: &mut [f64], solid: impl Fn(usize) -> bool + Sync, xi: f64, delta: f64) {
    c.par_iter_mut().enumerate().for_each(|(i, c)| {
        if !solid(i) {
            return;
        }
        let y = *c + xi;
        *c = if y > LOWER && y < UPPER {
            y + delta
        } else {
            y.clamp(LOWER, UPPER)
        };
    });
}

/// Projects ĉ (in place) onto the bounds with Σ ψ c = `target` (Σ ψ c in site units, no voxel
/// volume), starting from the uniform shift ξ₀. Returns (Σ ψ |cut|: the ions moved, in the same
/// units; the count of voxels the step had put far outside [0, 1], as [`bound_sums`]).
pub fn project(
    c: &mut [f64],
    psi: impl Fn(usize) -> Option<f64> + Sync + Copy,
    target: f64,
    xi0: f64,
) -> (f64, u64) {
    let mut xi = xi0;
    let mut sums = bound_sums(c, psi, xi);
    // Where nothing is cut every voxel takes the last correction, which then settles Σ ψ c as
    // it stands: one pass instead of NEWTON + 1 in the common case (the GPU, which reads
    // nothing back, always runs all of them; the two differ by round-off there).
    for _ in 0..NEWTON {
        if sums[1] == 0.0 {
            break;
        }
        xi += correction(sums, target);
        sums = bound_sums(c, psi, xi);
    }
    bound_apply(c, |i| psi(i).is_some(), xi, correction(sums, target));
    (sums[1], sums[2] as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(c: &[f64], psi: &[f64]) -> f64 {
        c.iter().zip(psi).map(|(c, p)| c * p).sum()
    }

    #[test]
    fn inside_the_bounds_it_is_the_uniform_shift() {
        let psi = [1.0, 0.5, 0.25, 2.0];
        let mut c = vec![0.2, 0.4, 0.6, 0.8];
        let target = total(&c, &psi) + 0.1;
        let xi0 = 0.1 / psi.iter().sum::<f64>();
        let (moved, _) = project(&mut c, |i| Some(psi[i]), target, xi0);
        assert_eq!(moved, 0.0);
        for (c, c0) in c.iter().zip([0.2, 0.4, 0.6, 0.8]) {
            assert!((c - c0 - xi0).abs() < 1e-15);
        }
    }

    #[test]
    fn a_voxel_below_zero_is_cut_and_its_deficit_taken_from_the_rest() {
        // ĉ = (−0.3, 0.5, 0.5) with ψ = (0.2, 1, 1): the KKT point clamps the first to LOWER
        // and lowers the others by the same ξ, ξ = −(0.2 (LOWER + 0.3))/2 after the cut.
        let psi = [0.2, 1.0, 1.0];
        let mut c = vec![-0.3, 0.5, 0.5];
        let target = total(&c, &psi);
        let (moved, insane) = project(&mut c, |i| Some(psi[i]), target, 0.0);
        assert_eq!(insane, 0);
        assert_eq!(c[0], LOWER);
        let xi = -0.2 * (LOWER + 0.3) / 2.0;
        assert!((c[1] - 0.5 - xi).abs() < 1e-15, "{c:?}");
        assert!((c[2] - c[1]).abs() < 1e-15);
        assert!((total(&c, &psi) - target).abs() < 1e-15);
        // The cut is measured from the shifted field ĉ + ξ.
        assert!((moved - 0.2 * (LOWER + 0.3 - xi)).abs() < 1e-15, "{moved}");
    }

    #[test]
    fn it_is_the_nearest_bounded_field_with_the_same_ions() {
        // Against a brute-force minimum of Σ ψ (c − ĉ)² over bounded fields with the same
        // Σ ψ c, searched along the one free direction a two-voxel cut leaves.
        let psi = [0.3, 1.0, 0.7, 1.0];
        let hat = [1.2, 0.9, -0.1, 0.4];
        let target = total(&hat, &psi);
        let mut c = hat.to_vec();
        project(&mut c, |i| Some(psi[i]), target, 0.0);
        assert!(c.iter().all(|&v| (LOWER..=UPPER).contains(&v)), "{c:?}");
        assert!((total(&c, &psi) - target).abs() < 1e-14);
        let cost = |c: &[f64]| -> f64 {
            c.iter()
                .zip(&hat)
                .zip(&psi)
                .map(|((c, h), p)| p * (c - h).powi(2))
                .sum()
        };
        let best = cost(&c);
        // Moving ions between the two uncut voxels (1 and 3) keeps the total and the bounds.
        for k in -100..=100 {
            let e = k as f64 * 1e-3;
            let mut d = c.clone();
            d[1] += e / psi[1];
            d[3] -= e / psi[3];
            assert!(cost(&d) >= best - 1e-15, "shift {e} lowers the cost");
        }
    }

    #[test]
    fn a_diverged_step_is_counted_not_cut() {
        let psi = [1.0, 1.0, 1.0];
        let mut c = vec![0.5, -3.0, 5.0];
        let (_, insane) = project(&mut c, |i| Some(psi[i]), 2.5, 0.0);
        assert_eq!(insane, 2);
        // A NaN poisons ξ and with it every voxel.
        let mut c = vec![0.5, 0.5, f64::NAN];
        assert_eq!(project(&mut c, |i| Some(psi[i]), 1.0, 0.0).1, 3);
    }

    #[test]
    fn pores_are_left_alone() {
        let psi = [Some(1.0), None, Some(1.0)];
        let mut c = vec![1.5, -7.0, 0.2];
        project(&mut c, |i| psi[i], 1.7, 0.0);
        assert_eq!(c[1], -7.0);
        assert_eq!(c[0], UPPER);
        assert!((c[0] + c[2] - 1.7).abs() < 1e-15);
    }
}
