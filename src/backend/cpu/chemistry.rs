//! Pointwise chemistry on the CPU: the diffusion potential (model.md §4). Mirror of
//! `shaders/chemistry.wgsl` once the GPU backend exists: one voxel per invocation.

use rayon::prelude::*;

use super::elasticity::Elasticity;
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
