//! Multi-dimensional real FFTs for the CPU backend: realfft along x, rustfft along y and z,
//! rayon across lines.
//!
//! Each axis is transformed on contiguous lines: the spectrum is kept transposed, in the
//! order `(kx, ky, kz)` with kz fastest, so every pass runs on contiguous memory and only one
//! transpose separates two axes. `Spectrum::index` is the one place that order is written.
//! Forward transforms are unnormalised; inverse ones divide by the voxel count.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex64;
use rustfft::{Fft as ComplexFft, FftPlanner};

/// Lines handed to one rayon task: large enough to amortise the task, small enough to balance.
const LINES_PER_TASK: usize = 16;

/// The layout of a half spectrum on an `nx × ny × nz` grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spectrum {
    pub n: [usize; 3],
    /// nx / 2 + 1 modes along x.
    pub nxh: usize,
}

impl Spectrum {
    pub fn new(n: [usize; 3]) -> Self {
        Spectrum {
            n,
            nxh: n[0] / 2 + 1,
        }
    }

    /// Number of complex modes.
    pub fn len(&self) -> usize {
        self.nxh * self.n[1] * self.n[2]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Linear index of mode (kx, ky, kz): kz fastest, then ky, then kx.
    #[inline]
    pub fn index(&self, kx: usize, ky: usize, kz: usize) -> usize {
        (kx * self.n[1] + ky) * self.n[2] + kz
    }

    /// How many times the mode with x-index `kx` stands for itself in the full spectrum (1 or 2):
    /// the half spectrum omits the conjugates of 0 < kx < nx/2.
    #[inline]
    pub fn multiplicity(&self, kx: usize) -> f64 {
        if kx == 0 || 2 * kx == self.n[0] {
            1.0
        } else {
            2.0
        }
    }
}

/// Plans and scratch for forward (real → half spectrum) and inverse transforms.
pub struct Fft {
    pub spectrum: Spectrum,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    fy: Arc<dyn ComplexFft<f64>>,
    iy: Arc<dyn ComplexFft<f64>>,
    fz: Arc<dyn ComplexFft<f64>>,
    iz: Arc<dyn ComplexFft<f64>>,
    a: Vec<Complex64>,
    b: Vec<Complex64>,
}

impl Fft {
    pub fn new(n: [usize; 3]) -> Self {
        let spectrum = Spectrum::new(n);
        let mut real = RealFftPlanner::<f64>::new();
        let mut cplx = FftPlanner::<f64>::new();
        Fft {
            spectrum,
            r2c: real.plan_fft_forward(n[0]),
            c2r: real.plan_fft_inverse(n[0]),
            fy: cplx.plan_fft_forward(n[1]),
            iy: cplx.plan_fft_inverse(n[1]),
            fz: cplx.plan_fft_forward(n[2]),
            iz: cplx.plan_fft_inverse(n[2]),
            a: vec![Complex64::default(); spectrum.len()],
            b: if n[2] > 1 {
                vec![Complex64::default(); spectrum.len()]
            } else {
                Vec::new()
            },
        }
    }

    /// `out = F(input)`, unnormalised, in [`Spectrum`] order.
    pub fn forward(&mut self, input: &[f64], out: &mut [Complex64]) {
        let [nx, ny, nz] = self.spectrum.n;
        let nxh = self.spectrum.nxh;
        assert_eq!(input.len(), nx * ny * nz);
        assert_eq!(out.len(), self.spectrum.len());
        // x: real rows → half-spectrum rows, layout [z][y][kx].
        let r2c = &self.r2c;
        self.a
            .par_chunks_mut(nxh * LINES_PER_TASK)
            .zip(input.par_chunks(nx * LINES_PER_TASK))
            .for_each_init(
                || (vec![0.0; nx], r2c.make_scratch_vec()),
                |(row, scratch), (dst, src)| {
                    for (d, s) in dst.chunks_mut(nxh).zip(src.chunks(nx)) {
                        row.copy_from_slice(s);
                        r2c.process_with_scratch(row, d, scratch)
                            .expect("realfft r2c: lengths fixed at plan time");
                    }
                },
            );
        if nz == 1 {
            // y: [y][kx] → [kx][y], then contiguous FFTs.
            transpose(&self.a, out, ny, nxh);
            lines(&self.fy, out, ny);
        } else {
            let plane = ny * nxh;
            self.a
                .par_chunks(plane)
                .zip(self.b.par_chunks_mut(plane))
                .for_each(|(s, d)| transpose_serial(s, d, ny, nxh));
            lines(&self.fy, &mut self.b, ny);
            // z: [z][kx·ky] → [kx·ky][z].
            transpose(&self.b, out, nz, plane);
            lines(&self.fz, out, nz);
        }
    }

    /// `out = F⁻¹(spec) / N`. Destroys `spec` (it is the first pass's workspace).
    pub fn inverse(&mut self, spec: &mut [Complex64], out: &mut [f64]) {
        let [nx, ny, nz] = self.spectrum.n;
        let nxh = self.spectrum.nxh;
        assert_eq!(out.len(), nx * ny * nz);
        assert_eq!(spec.len(), self.spectrum.len());
        if nz == 1 {
            lines(&self.iy, spec, ny);
            transpose(spec, &mut self.a, nxh, ny);
        } else {
            let plane = ny * nxh;
            lines(&self.iz, spec, nz);
            transpose(spec, &mut self.b, plane, nz);
            lines(&self.iy, &mut self.b, ny);
            self.b
                .par_chunks(plane)
                .zip(self.a.par_chunks_mut(plane))
                .for_each(|(s, d)| transpose_serial(s, d, nxh, ny));
        }
        let scale = 1.0 / (nx * ny * nz) as f64;
        let c2r = &self.c2r;
        self.a
            .par_chunks_mut(nxh * LINES_PER_TASK)
            .zip(out.par_chunks_mut(nx * LINES_PER_TASK))
            .for_each_init(
                || c2r.make_scratch_vec(),
                |scratch, (src, dst)| {
                    for (s, d) in src.chunks_mut(nxh).zip(dst.chunks_mut(nx)) {
                        // A real signal's DC and Nyquist modes are real; round-off from the
                        // other axes may leave an imaginary part that c2r would reject.
                        s[0].im = 0.0;
                        s[nxh - 1].im = 0.0;
                        c2r.process_with_scratch(s, d, scratch)
                            .expect("realfft c2r: lengths fixed at plan time");
                        for v in d.iter_mut() {
                            *v *= scale;
                        }
                    }
                },
            );
    }
}

/// In-place FFTs of every contiguous line of length `len` in `data`.
fn lines(fft: &Arc<dyn ComplexFft<f64>>, data: &mut [Complex64], len: usize) {
    if len == 1 {
        return;
    }
    data.par_chunks_mut(len * LINES_PER_TASK).for_each_init(
        || vec![Complex64::default(); fft.get_inplace_scratch_len()],
        |scratch, chunk| fft.process_with_scratch(chunk, scratch),
    );
}

/// `dst (cols × rows) = srcᵀ`, `src` being `rows × cols` row-major; parallel over output rows.
fn transpose(src: &[Complex64], dst: &mut [Complex64], rows: usize, cols: usize) {
    const B: usize = 16;
    dst.par_chunks_mut(B * rows)
        .enumerate()
        .for_each(|(jb, chunk)| {
            let j0 = jb * B;
            let jn = chunk.len() / rows;
            for i0 in (0..rows).step_by(B) {
                let i1 = (i0 + B).min(rows);
                for j in 0..jn {
                    let d = &mut chunk[j * rows..(j + 1) * rows];
                    for i in i0..i1 {
                        d[i] = src[i * cols + j0 + j];
                    }
                }
            }
        });
}

/// As [`transpose`], on one thread (each rayon task already owns a plane).
fn transpose_serial(src: &[Complex64], dst: &mut [Complex64], rows: usize, cols: usize) {
    const B: usize = 16;
    for i0 in (0..rows).step_by(B) {
        for j0 in (0..cols).step_by(B) {
            for i in i0..(i0 + B).min(rows) {
                for j in j0..(j0 + B).min(cols) {
                    dst[j * rows + i] = src[i * cols + j];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initial::SplitMix64;

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut r = SplitMix64(seed);
        (0..n).map(|_| r.next_f64() - 0.5).collect()
    }

    /// A direct DFT of one mode agrees with the fast transform (2-D and 3-D layouts).
    #[test]
    fn forward_matches_direct_dft() {
        for n in [[8, 4, 1], [4, 8, 4], [8, 8, 8]] {
            let len = n[0] * n[1] * n[2];
            let x = random(len, 7);
            let mut fft = Fft::new(n);
            let mut spec = vec![Complex64::default(); fft.spectrum.len()];
            fft.forward(&x, &mut spec);
            for (kx, ky, kz) in [
                (0, 0, 0),
                (1, 2, 0),
                (n[0] / 2, 1, n[2] - 1),
                (2, n[1] - 1, n[2] / 2),
            ] {
                let mut direct = Complex64::default();
                for z in 0..n[2] {
                    for y in 0..n[1] {
                        for xx in 0..n[0] {
                            let phase = -2.0
                                * std::f64::consts::PI
                                * (kx as f64 * xx as f64 / n[0] as f64
                                    + ky as f64 * y as f64 / n[1] as f64
                                    + kz as f64 * z as f64 / n[2] as f64);
                            direct += Complex64::from_polar(x[(z * n[1] + y) * n[0] + xx], phase);
                        }
                    }
                }
                let got = spec[fft.spectrum.index(kx, ky, kz)];
                assert!(
                    (got - direct).norm() < 1e-12 * len as f64,
                    "{n:?} ({kx},{ky},{kz}): {got} vs {direct}"
                );
            }
        }
    }

    /// Forward then inverse returns the input to round-off.
    #[test]
    fn round_trip() {
        for n in [[16, 8, 1], [8, 16, 4], [16, 16, 16]] {
            let len = n[0] * n[1] * n[2];
            let x = random(len, 3);
            let mut fft = Fft::new(n);
            let mut spec = vec![Complex64::default(); fft.spectrum.len()];
            let mut back = vec![0.0; len];
            fft.forward(&x, &mut spec);
            fft.inverse(&mut spec, &mut back);
            let err = x
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-14, "{n:?}: {err}");
        }
    }
}
