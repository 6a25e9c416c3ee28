//! Pointwise chemistry on the CPU: the diffusion potential (model.md §4 without stress yet).
//! Mirror of `shaders/chemistry.wgsl` once the GPU backend exists: one voxel per invocation.

use rayon::prelude::*;

use crate::free_energy::FreeEnergy;

/// `mu = f'(c) − κ ∇²c`, with `lap_c` the spectral Laplacian of c.
pub fn chemical_potential(
    c: &[f64],
    lap_c: &[f64],
    mu: &mut [f64],
    free_energy: &FreeEnergy,
    kappa: f64,
) {
    mu.par_iter_mut()
        .zip(c.par_iter().zip(lap_c.par_iter()))
        .for_each(|(mu, (&c, &lap))| *mu = free_energy.mu(c) - kappa * lap);
}
