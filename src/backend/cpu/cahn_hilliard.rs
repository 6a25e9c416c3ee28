//! The semi-implicit Fourier-spectral Cahn–Hilliard step with variable mobility
//! (Zhu, Chen, Shen & Tikare 1999; model.md §6), CPU kernels.
//!
//! In model units `∂c/∂t = ∇·(m(c) ∇μ)`. The flux `m ∇μ` is formed in real space, its
//! divergence in Fourier space, and the stiff linear part `L(k) = A m_max (κ k⁴ + S k²)` is
//! taken implicitly:
//! `ĉ⁺ = (ĉ + dt ik·(m∇μ)^ + dt L ĉ) / (1 + dt L)`.
//! The k = 0 mode is never changed, so the amount of ions is conserved to round-off.

use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use super::fft::Spectrum;
use crate::grid::Grid;

/// Wavenumbers along each axis in spectrum order, full (`k`) and for first derivatives (`kd`,
/// Nyquist zeroed).
pub struct Wavenumbers {
    pub k: [Vec<f64>; 3],
    pub kd: [Vec<f64>; 3],
}

impl Wavenumbers {
    pub fn new(grid: &Grid, spectrum: &Spectrum) -> Self {
        let count = [spectrum.nxh, grid.n[1], grid.n[2]];
        let k = [0, 1, 2].map(|a| (0..count[a]).map(|i| grid.wavenumber(a, i)).collect());
        let kd = [0, 1, 2].map(|a| {
            (0..count[a])
                .map(|i| grid.derivative_wavenumber(a, i))
                .collect()
        });
        Wavenumbers { k, kd }
    }

    /// |k|² of mode (kx, ky, kz).
    #[inline]
    pub fn k2(&self, kx: usize, ky: usize, kz: usize) -> f64 {
        self.k[0][kx].powi(2) + self.k[1][ky].powi(2) + self.k[2][kz].powi(2)
    }
}

/// Runs `f(kx, ky, kz, value)` over every mode of a half spectrum, in parallel over kx planes.
pub fn for_each_mode(
    spectrum: &Spectrum,
    data: &mut [Complex64],
    f: impl Fn(usize, usize, usize, &mut Complex64) + Sync,
) {
    let [_, ny, nz] = spectrum.n;
    data.par_chunks_mut(ny * nz)
        .enumerate()
        .for_each(|(kx, plane)| {
            for ky in 0..ny {
                for kz in 0..nz {
                    f(kx, ky, kz, &mut plane[ky * nz + kz]);
                }
            }
        });
}

/// `out = −|k|² c_hat`: the spectral Laplacian.
pub fn laplacian(spectrum: &Spectrum, k: &Wavenumbers, c_hat: &[Complex64], out: &mut [Complex64]) {
    out.copy_from_slice(c_hat);
    for_each_mode(spectrum, out, |kx, ky, kz, v| *v *= -k.k2(kx, ky, kz));
}

/// `out = i k_axis mu_hat`: one component of the gradient.
pub fn gradient_component(
    spectrum: &Spectrum,
    k: &Wavenumbers,
    axis: usize,
    mu_hat: &[Complex64],
    out: &mut [Complex64],
) {
    out.copy_from_slice(mu_hat);
    for_each_mode(spectrum, out, |kx, ky, kz, v| {
        let ka = k.kd[axis][[kx, ky, kz][axis]];
        *v = Complex64::new(-ka * v.im, ka * v.re);
    });
}

/// `g ← ψ d(x) m g`: the flux component in real space (`m` from
/// [`super::chemistry::site_mobility`], `flux` = ψ d, or 1 when uniform).
pub fn mobility_flux(m: &[f64], g: &mut [f64], flux: Option<&[f64]>) {
    match flux {
        None => g
            .par_iter_mut()
            .zip(m.par_iter())
            .for_each(|(g, &m)| *g *= m),
        Some(f) => g
            .par_iter_mut()
            .zip(m.par_iter().zip(f.par_iter()))
            .for_each(|(g, (&m, &f))| *g *= f * m),
    }
}

/// `div_hat += i k_axis flux_hat` (or `=` when `first`).
pub fn accumulate_divergence(
    spectrum: &Spectrum,
    k: &Wavenumbers,
    axis: usize,
    flux_hat: &[Complex64],
    div_hat: &mut [Complex64],
    first: bool,
) {
    let [_, ny, nz] = spectrum.n;
    div_hat
        .par_chunks_mut(ny * nz)
        .zip(flux_hat.par_chunks(ny * nz))
        .enumerate()
        .for_each(|(kx, (d, f))| {
            for ky in 0..ny {
                for kz in 0..nz {
                    let i = ky * nz + kz;
                    let ka = k.kd[axis][[kx, ky, kz][axis]];
                    let term = Complex64::new(-ka * f[i].im, ka * f[i].re);
                    d[i] = if first { term } else { d[i] + term };
                }
            }
        });
}

/// The semi-implicit increment, in place: `rhs ← dt rhs / (1 + dt L)` with
/// `L = stab (κ k⁴ + S k²)`, `stab = A m_max`. This is Zhu et al.'s
/// `ĉ⁺ = (ĉ + dt rhs + dt L ĉ)/(1 + dt L)` written as the increment `ĉ⁺ − ĉ`.
pub fn filter_increment(
    spectrum: &Spectrum,
    k: &Wavenumbers,
    rhs: &mut [Complex64],
    dt: f64,
    stab: f64,
    kappa: f64,
    s: f64,
) {
    for_each_mode(spectrum, rhs, |kx, ky, kz, v| {
        let k2 = k.k2(kx, ky, kz);
        let l = stab * (kappa * k2 * k2 + s * k2);
        *v *= dt / (1.0 + dt * l);
    });
}

/// Site fractions outside this range cannot come from round-off: the step has diverged.
pub const SANE_C: std::ops::Range<f64> = -1.0..2.0;

/// `c ← c_new`, returning (max |Δc| over voxels where `counts`, the count of voxels that are
/// non-finite or, where `counts`, have left [`SANE_C`]).
pub fn commit(c: &mut [f64], c_new: &[f64], counts: impl Fn(usize) -> bool + Sync) -> (f64, u64) {
    c.par_iter_mut()
        .zip(c_new.par_iter())
        .enumerate()
        .map(|(i, (c, &n))| {
            let counted = counts(i);
            let d = if counted { (n - *c).abs() } else { 0.0 };
            *c = n;
            if n.is_finite() && (!counted || SANE_C.contains(&n)) {
                (d, 0)
            } else {
                (0.0, 1)
            }
        })
        .reduce(|| (0.0, 0), |a, b| (a.0.max(b.0), a.1 + b.1))
}
