//! Reductions for the time series on the CPU (rayon sums; the GPU's `reduce.wgsl` must agree
//! to f32 round-off). Model units throughout.

use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use super::cahn_hilliard::Wavenumbers;
use super::fft::Spectrum;
use crate::backend::Observables;
use crate::free_energy::FreeEnergy;

/// Mean, extremes, total, chemical energy and non-finite count of c; the gradient energy from
/// its spectrum by Parseval, `Σ_x |∇c|² = (1/N) Σ_k |k|² |ĉ_k|²`, with the full |k|² so that μ
/// is exactly this discrete energy's variation.
pub fn observe(
    c: &[f64],
    c_hat: &[Complex64],
    spectrum: &Spectrum,
    k: &Wavenumbers,
    free_energy: &FreeEnergy,
    kappa: f64,
    voxel_volume: f64,
) -> Observables {
    let (sum, min, max, chem, bad) = c
        .par_iter()
        .map(|&c| {
            if c.is_finite() {
                (c, c, c, free_energy.f(c), 0u64)
            } else {
                (0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0, 1)
            }
        })
        .reduce(
            || (0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0, 0),
            |a, b| (a.0 + b.0, a.1.min(b.1), a.2.max(b.2), a.3 + b.3, a.4 + b.4),
        );
    let [_, ny, nz] = spectrum.n;
    let grad2: f64 = c_hat
        .par_chunks(ny * nz)
        .enumerate()
        .map(|(kx, plane)| {
            let mut s = 0.0;
            for ky in 0..ny {
                for kz in 0..nz {
                    s += k.k2(kx, ky, kz) * plane[ky * nz + kz].norm_sqr();
                }
            }
            s * spectrum.multiplicity(kx)
        })
        .sum();
    let n = c.len() as f64;
    Observables {
        mean_c: sum / n,
        c_min: min,
        c_max: max,
        total_c: sum * voxel_volume,
        energy_chemical: chem * voxel_volume,
        energy_gradient: 0.5 * kappa * grad2 / n * voxel_volume,
        non_finite: bad,
    }
}
