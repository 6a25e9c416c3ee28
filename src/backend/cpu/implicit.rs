//! The implicit half of the Cahn–Hilliard step where the site density varies (model.md §8):
//! solve `(M + dt L) Δc = dt ∇·(ψ m ∇μ)` for the diffusion's increment Δc, with
//! `M = diag(ψ)` the sites per voxel and `L = Σ_g W_g L_g W_g` the stabilising operator
//! `A m_g (κk⁴ + Sk²)` of each mobility group g (W_g its voxels). The surface reaction is not
//! in it: it is each voxel's own (chemistry::reaction_weight), because `W_g L_g W_g` does not
//! conserve what it smooths across a group's edge, which is where the reaction's increment
//! sits. The operator is symmetric positive definite, so
//! preconditioned conjugate gradients solve it; the preconditioner inverts each group's
//! constant-coefficient part `(ψ̄_g + dt L_g)` in Fourier space. Only with one group is
//! `Σ ψ Δc = dt Σ ∇·(…) = 0` exact up to the solver tolerance (L has no k = 0 component);
//! with several, `W_g` cuts what `L_g` spreads past the group's edge, and the caller's final
//! shift restores the ion count (its size: model.md §8). Unlike filtering the
//! increment of c or of ψc directly, nothing is divided by a small ψ.

use rayon::prelude::*;

use super::CpuBackend;
use super::cahn_hilliard;
use crate::error::{Error, Result};

/// Relative residual of the increment solve.
const TOLERANCE: f64 = 1e-8;
/// Far more than the 20–700 iterations porous, multi-host cells have needed.
const MAX_ITERATIONS: usize = 3000;

impl CpuBackend {
    /// Solves `A x = b` for the increment, x into `out`.
    pub(super) fn implicit_increment(
        &mut self,
        b: &[f64],
        out: &mut [f64],
        dt: f64,
    ) -> Result<usize> {
        self.ensure_workspace();
        let mut cg = std::mem::take(&mut self.cg);
        let [x, r, z, p, q] = &mut cg[..] else {
            unreachable!("five CG vectors")
        };
        let bnorm = b.par_iter().map(|v| v * v).sum::<f64>().sqrt();
        if bnorm == 0.0 {
            self.cg = cg;
            out.iter_mut().for_each(|v| *v = 0.0);
            return Ok(0);
        }
        r.copy_from_slice(b);
        self.precondition(r, z, dt);
        x.copy_from_slice(z);
        self.operator(x, q, dt);
        r.par_iter_mut()
            .zip(q.par_iter())
            .for_each(|(r, q)| *r -= q);
        self.precondition(r, z, dt);
        p.copy_from_slice(z);
        let mut rz: f64 = r.par_iter().zip(z.par_iter()).map(|(a, b)| a * b).sum();
        let mut it = 0;
        loop {
            let rnorm = r.par_iter().map(|v| v * v).sum::<f64>().sqrt();
            if rnorm <= TOLERANCE * bnorm {
                break;
            }
            if it >= MAX_ITERATIONS || !rnorm.is_finite() {
                self.cg = cg;
                return Err(Error::NonFinite {
                    field: "c (implicit increment did not converge)".into(),
                    step: 0,
                    time: f64::NAN,
                });
            }
            it += 1;
            self.operator(p, q, dt);
            let pq: f64 = p.par_iter().zip(q.par_iter()).map(|(a, b)| a * b).sum();
            let alpha = rz / pq;
            x.par_iter_mut()
                .zip(p.par_iter())
                .for_each(|(x, p)| *x += alpha * p);
            r.par_iter_mut()
                .zip(q.par_iter())
                .for_each(|(r, q)| *r -= alpha * q);
            self.precondition(r, z, dt);
            let rz_new: f64 = r.par_iter().zip(z.par_iter()).map(|(a, b)| a * b).sum();
            let beta = rz_new / rz;
            rz = rz_new;
            p.par_iter_mut()
                .zip(z.par_iter())
                .for_each(|(p, z)| *p = z + beta * *p);
        }
        out.copy_from_slice(x);
        self.cg = cg;
        if std::env::var_os("SWELLFIELD_DEBUG_CG").is_some() {
            eprintln!("implicit increment: {it} iterations");
        }
        Ok(it)
    }

    /// The CG vectors, the mass and the groups' masses, allocated on first use.
    fn ensure_workspace(&mut self) {
        if self.cg.len() == 5 {
            return;
        }
        let n = self.c.len();
        self.cg = (0..5).map(|_| vec![0.0; n]).collect();
        self.mass = (0..n).map(|i| self.chem.mass_at(i)).collect();
        self.group_mass = self.chem.group_masses(n);
    }

    /// out = M x + dt Σ_g W_g L_g (W_g x).
    fn operator(&mut self, x: &[f64], out: &mut [f64], dt: f64) {
        out.par_iter_mut()
            .zip(x.par_iter().zip(self.mass.par_iter()))
            .for_each(|(o, (x, m))| *o = m * x);
        self.group_pass(x, out, dt, None);
    }

    /// z ≈ (M + dt L)⁻¹ r, group by group with ψ̄_g for M.
    fn precondition(&mut self, r: &[f64], z: &mut [f64], dt: f64) {
        z.par_iter_mut().for_each(|v| *v = 0.0);
        let shifts = self.group_mass.clone();
        self.group_pass(r, z, dt, Some(&shifts));
    }

    /// out += Σ_g W_g F⁻¹[ s_g(k) F(W_g x) ] with s_g = dt L_g (operator) or 1/(ψ̄_g + dt L_g).
    fn group_pass(&mut self, x: &[f64], out: &mut [f64], dt: f64, inverse_shift: Option<&[f64]>) {
        let spectrum = self.fft.spectrum;
        let stab = self.chem.stabilization;
        let (kappa, s) = (self.chem.kappa, self.chem.stabilization_s);
        for g in 0..self.chem.groups.len() {
            let mobility = self.chem.groups[g].mobility;
            match &self.chem.groups[g].weight {
                None => self.work2.copy_from_slice(x),
                Some(w) => self
                    .work2
                    .par_iter_mut()
                    .zip(x.par_iter().zip(w.par_iter()))
                    .for_each(|(o, (x, w))| *o = x * w),
            }
            self.fft.forward(&self.work2, &mut self.work_hat);
            let l_of = |k2: f64| dt * stab * mobility * (kappa * k2 * k2 + s * k2);
            match inverse_shift {
                None => {
                    cahn_hilliard::for_each_mode(&spectrum, &mut self.work_hat, |kx, ky, kz, v| {
                        *v *= l_of(self.k.k2(kx, ky, kz))
                    })
                }
                Some(m) => {
                    let m = m[g];
                    cahn_hilliard::for_each_mode(&spectrum, &mut self.work_hat, |kx, ky, kz, v| {
                        *v /= m + l_of(self.k.k2(kx, ky, kz))
                    })
                }
            }
            self.fft.inverse(&mut self.work_hat, &mut self.work2);
            match &self.chem.groups[g].weight {
                None => out
                    .par_iter_mut()
                    .zip(self.work2.par_iter())
                    .for_each(|(o, v)| *o += v),
                Some(w) => out
                    .par_iter_mut()
                    .zip(self.work2.par_iter().zip(w.par_iter()))
                    .for_each(|(o, (v, w))| *o += v * w),
            }
        }
    }
}

impl CpuBackend {
    /// `(M + dt L) x`: the operator the increment solve inverts, for the
    /// GPU mirror test (implicit.wgsl). Where ψ is uniform there is no such operator: empty.
    pub fn increment_operator(&mut self, x: &[f64], dt: f64) -> Vec<f64> {
        if self.chem.psi.is_none() {
            return Vec::new();
        }
        self.ensure_workspace();
        let mut out = vec![0.0; x.len()];
        self.operator(x, &mut out, dt);
        out
    }

    /// The preconditioner `(ψ̄_g + dt L_g)⁻¹` applied to r, for the same test.
    pub fn increment_preconditioner(&mut self, r: &[f64], dt: f64) -> Vec<f64> {
        let mut z = vec![0.0; r.len()];
        self.precondition(r, &mut z, dt);
        z
    }
}
