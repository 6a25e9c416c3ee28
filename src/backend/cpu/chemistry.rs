//! Pointwise chemistry on the CPU: the diffusion potential (model.md §4). Mirror of
//! `shaders/chemistry.wgsl` once the GPU backend exists: one voxel per invocation.

use rayon::prelude::*;

use super::elasticity::Elasticity;
use crate::config::Exchange;
use crate::problem::Chemistry;

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

/// Each pore voxel's value handed to its nearest solid voxel (`near[i] == i` on the solid),
/// leaving 0 on the pores: Σ v is unchanged. Mirror of `hand_over_pores` in chemistry.wgsl.
pub fn hand_over_pores(near: &[u32], v: &mut [f64]) {
    for (i, &j) in near.iter().enumerate() {
        let j = j as usize;
        if j != i {
            let share = v[i];
            v[j] += share;
            v[i] = 0.0;
        }
    }
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

/// `rate[i]` ← r j(c) and `sqrt[i]` ← √(ψ r j) on solid voxels, 0 elsewhere: this step's
/// insertion coefficient and its root for the implicit gradient term. Mirror of
/// `exchange_rate` in chemistry.wgsl.
pub fn exchange_rate(
    c: &[f64],
    chem: &Chemistry,
    r: &[f64],
    exchange: Exchange,
    rate: &mut [f64],
    sqrt: &mut [f64],
) {
    rate.par_iter_mut()
        .zip(sqrt.par_iter_mut())
        .enumerate()
        .for_each(|(i, (rate, sqrt))| {
            if chem.is_solid(i) && r[i] > 0.0 {
                *rate = r[i] * exchange_factor(exchange, c[i]);
                *sqrt = (chem.psi_at(i) * *rate).sqrt();
            } else {
                *rate = 0.0;
                *sqrt = 0.0;
            }
        });
}
