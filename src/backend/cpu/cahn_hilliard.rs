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

/// `out = ∇·(ψ d m ∇μ)` by finite volumes on the voxel faces: the face coefficient is the
/// harmonic mean of the neighbours' ψ d (a sharp fast/slow or solid/pore contrast passes the
/// slower side's value, as resistances in series do, and a pore face passes nothing) times the
/// upwind site-blocking factor: the carriers of the voxel the ions leave (the higher μ) times
/// the vacancies of the voxel they enter (Bailo, Carrillo & Hu's bound-preserving face
/// mobility for m(c) = a(c) v(c)). A face so carries nothing out of an empty voxel and nothing
/// into a full one, where the arithmetic mean of m kept draining a voxel whose own m was 0
/// (model.md §8); and unlike the harmonic mean it still refills a drained voxel from a neighbour
/// with carriers. Unlike the spectral divergence it cannot ring across a 10⁵ mobility contrast,
/// and each face's flux leaves one voxel and enters the other bit for bit, so Σ out = 0 to
/// round-off. `carriers` stacks a then v per voxel ([`super::chemistry::site_carriers`]);
/// `flux` = ψ d, or 1 when uniform (as in [`mobility_flux`]).
pub fn finite_volume_divergence(
    grid: &Grid,
    carriers: &[f64],
    mu: &[f64],
    flux: Option<&[f64]>,
    out: &mut [f64],
) {
    let [nx, ny, nz] = grid.n;
    let dim = grid.dim();
    let (a, v) = carriers.split_at(grid.len());
    let face = |i: usize, j: usize| -> f64 {
        let (fi, fj) = flux.map_or((1.0, 1.0), |f| (f[i], f[j]));
        let h = if fi + fj > 0.0 {
            2.0 * fi * fj / (fi + fj)
        } else {
            0.0
        };
        let m = if mu[i] > mu[j] {
            a[i] * v[j]
        } else {
            a[j] * v[i]
        };
        h * m * (mu[j] - mu[i])
    };
    out.par_chunks_mut(nx).enumerate().for_each(|(row, o)| {
        let (y, z) = (row % ny, row / ny);
        for (x, o) in o.iter_mut().enumerate() {
            let i = grid.index(x, y, z);
            let mut d = 0.0;
            for axis in 0..dim {
                let (n_a, pos) = match axis {
                    0 => (nx, x),
                    1 => (ny, y),
                    _ => (nz, z),
                };
                let shift = |p: usize| match axis {
                    0 => grid.index(p, y, z),
                    1 => grid.index(x, p, z),
                    _ => grid.index(x, y, p),
                };
                let up = shift((pos + 1) % n_a);
                let down = shift((pos + n_a - 1) % n_a);
                let h2 = grid.spacing[axis] * grid.spacing[axis];
                d += (face(i, up) - face(down, i)) / h2;
            }
            *o = d;
        }
    });
}
