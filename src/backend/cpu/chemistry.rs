//! Pointwise chemistry on the CPU: the diffusion potential (model.md §4). Mirror of
//! `shaders/chemistry.wgsl` once the GPU backend exists: one voxel per invocation.

use rayon::prelude::*;

use super::elasticity::Elasticity;
use crate::config::Exchange;
use crate::problem::Chemistry;

/// `mu = Σ_m (ψ_m/ψ) g_m'(c) − κ lap_c + μ_el` on solid voxels, with `lap_c` the Laplacian
/// (the spectral step's μ); other voxels are left as they are.
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

/// `rate[i]` ← r j(c) on solid voxels, 0 elsewhere: this step's insertion coefficient (the
/// convex-splitting step's reaction conductance is ψ times it).
pub fn exchange_rate(c: &[f64], chem: &Chemistry, r: &[f64], exchange: Exchange, rate: &mut [f64]) {
    rate.par_iter_mut().enumerate().for_each(|(i, rate)| {
        *rate = if chem.is_solid(i) && r[i] > 0.0 {
            r[i] * exchange_factor(exchange, c[i])
        } else {
            0.0
        };
    });
}
