//! Pointwise chemistry on the CPU: the diffusion potential (model.md §4). Mirror of
//! `shaders/chemistry.wgsl` once the GPU backend exists: one voxel per invocation.

use rayon::prelude::*;

use super::elasticity::Elasticity;
use crate::config::{Exchange, ReactionGradient};
use crate::grid::Grid;
use crate::problem::{CURVATURE_CAP, Chemistry};

/// `mu = Σ_m (ψ_m/ψ) g_m'(c) − κ lap_c + μ_el` on solid voxels, with `lap_c` the (smoothed-
/// boundary) Laplacian; other voxels are left for the caller to fill.
pub fn chemical_potential(
    c: &[f64],
    lap_c: &[f64],
    mu: &mut [f64],
    chem: &Chemistry,
    elastic: Option<&Elasticity>,
) {
    let kappa = chem.kappa;
    mu.par_iter_mut().enumerate().for_each(|(i, mu)| {
        if !chem.is_solid(i) {
            return;
        }
        let mut v = chem.mu_chemical(i, c[i]) - kappa * lap_c[i];
        if let Some(el) = elastic {
            v += super::elastic_potential(el, i, chem.psi_at(i).max(chem.psi_floor));
        }
        *mu = v;
    });
}

/// `m[i]` ← the site-blocking mobility factor of voxel i ([`Chemistry::mobility_at`]): per
/// segment and per host, so that m f'' stays bounded at a segment's ends (model.md §8).
/// Mirror of `site_mobility` in chemistry.wgsl.
pub fn site_mobility(c: &[f64], chem: &Chemistry, m: &mut [f64]) {
    m.par_iter_mut()
        .enumerate()
        .for_each(|(i, m)| *m = chem.mobility_at(i, c[i]));
}

/// `carriers[i]` ← a and `carriers[n + i]` ← v of voxel i ([`Chemistry::carriers_vacancies_at`]),
/// the two halves of the site-blocking factor that the upwind finite-volume face takes from
/// either side (model.md §8). Mirror of `site_carriers` in chemistry.wgsl.
pub fn site_carriers(c: &[f64], chem: &Chemistry, carriers: &mut [f64]) {
    let (a, v) = carriers.split_at_mut(c.len());
    a.par_iter_mut()
        .zip(v.par_iter_mut())
        .enumerate()
        .for_each(|(i, (a, v))| (*a, *v) = chem.carriers_vacancies_at(i, c[i]));
}

/// The exchange factor j(c) of the insertion (model.md §8): 2 √(c (1 − c)) with c clamped to
/// [0, 1] for [`Exchange::SiteLimited`], so that the rate is the small-overpotential limit of
/// symmetric Butler–Volmer kinetics with an exchange current ∝ √(c (1 − c)), 1 at half filling
/// and 0 at an empty or full host; 1 for [`Exchange::Constant`] (the team model's law).
#[inline]
pub fn exchange_factor(exchange: Exchange, c: f64) -> f64 {
    match exchange {
        Exchange::Constant => 1.0,
        Exchange::SiteLimited => {
            let c = c.clamp(0.0, 1.0);
            2.0 * (c * (1.0 - c)).sqrt()
        }
    }
}

/// `rate[i]` ← r j(c) on solid voxels, 0 elsewhere: this step's insertion coefficient. Mirror
/// of `exchange_rate` in chemistry.wgsl.
pub fn exchange_rate(c: &[f64], chem: &Chemistry, r: &[f64], exchange: Exchange, rate: &mut [f64]) {
    rate.par_iter_mut().enumerate().for_each(|(i, rate)| {
        *rate = if chem.is_solid(i) && r[i] > 0.0 {
            r[i] * exchange_factor(exchange, c[i])
        } else {
            0.0
        };
    });
}

/// The smallest c (or 1 − c) the reaction's bound divides by.
pub const BOUND_FLOOR: f64 = 1e-6;

/// The local stiffness of μ against c that the reaction's implicit step takes: the curvature
/// g'' floored at 0, plus the largest eigenvalue of the gradient term −κ∇² ([`gradient_stiffness`]),
/// raised to `|μ_e − μ|/c` where the drive extracts and
/// `|μ_e − μ|/(1 − c)` where it inserts, and capped at [`CURVATURE_CAP`]. With g'' = 1/c alone
/// the linearised step tended to c (μ_e − μ) as dt grew and took a nearly empty surface voxel
/// far below 0; with the bound it tends to −c (or 1 − c) at most.
#[inline]
pub fn reaction_stiffness(chem: &Chemistry, gradient: f64, i: usize, c: f64, eta: f64) -> f64 {
    let bound = if eta < 0.0 {
        -eta / c.max(BOUND_FLOOR)
    } else {
        eta / (1.0 - c).max(BOUND_FLOOR)
    };
    (chem.mixture_curvature(i, c) + gradient)
        .max(bound)
        .min(CURVATURE_CAP)
}

/// The gradient term's stiffness in the reaction's G: the diagonal of −κ∇² on the spectral
/// grid, κ Σ_axes π²/(3h²), a voxel's own response; or its largest eigenvalue, κ Σ_axes π²/h²
/// (the Nyquist mode), the most μ can move per unit change of c around it. Each surface
/// voxel's reaction reads its neighbours' c of the step before (a Jacobi sweep over the
/// gradient term's coupling), and with the diagonal that sweep has no margin against the
/// checkerboard of neighbouring surface voxels: where κ/h² is large they take turns
/// overshooting each other's equilibrium (up to 0.1 a step on P2/O3, which held dt at
/// 0.1–1 s). With the spectral radius it is a contraction for every mode, at a larger
/// overpotential error, ∝ dt r j G (docs/model.md §8).
pub fn gradient_stiffness(grid: &Grid, kappa: f64, kind: ReactionGradient) -> f64 {
    let pi2 = std::f64::consts::PI.powi(2);
    let per_axis = match kind {
        ReactionGradient::Diagonal => pi2 / 3.0,
        ReactionGradient::SpectralRadius => pi2,
    };
    kappa
        * grid.spacing[..grid.dim()]
            .iter()
            .map(|h| per_axis / (h * h))
            .sum::<f64>()
}

/// The step's scalars the reaction's weight needs.
#[derive(Debug, Clone, Copy)]
pub struct ReactionStep {
    /// The last step's μ_e (the galvanostat's new one is not known yet).
    pub mu_e: f64,
    pub dt: f64,
    /// [`gradient_stiffness`].
    pub gradient: f64,
}

/// `w[i]` ← dt r j/(1 + dt r j G) where the insertion acts, 0 elsewhere: the linearised-
/// implicit response of voxel i's c to μ_e − μ over one step (G: [`reaction_stiffness`]).
/// Mirror of `reaction_weight` in chemistry.wgsl.
pub fn reaction_weight(
    c: &[f64],
    mu: &[f64],
    chem: &Chemistry,
    rate: &[f64],
    step: ReactionStep,
    w: &mut [f64],
) {
    w.par_iter_mut().enumerate().for_each(|(i, w)| {
        *w = if rate[i] > 0.0 {
            let g = reaction_stiffness(chem, step.gradient, i, c[i], step.mu_e - mu[i]);
            let k = step.dt * rate[i];
            k / (1.0 + k * g)
        } else {
            0.0
        };
    });
}

/// `x[i]` += w[i] (μ_e − μ[i]) where w > 0: the reaction's increment. Mirror of
/// `insertion_increment` in chemistry.wgsl.
pub fn insertion_increment(w: &[f64], mu: &[f64], mu_e: f64, x: &mut [f64]) {
    x.par_iter_mut().enumerate().for_each(|(i, x)| {
        if w[i] > 0.0 {
            *x += w[i] * (mu_e - mu[i]);
        }
    });
}
