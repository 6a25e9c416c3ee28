//! The convex-splitting step of cells with several hosts or pores, in f64 (model.md §8, "The
//! convex-splitting step"). Finite volumes on the voxel grid (`crate::finite_volume`): per solid
//! voxel i, with the mobility and the exchange rate frozen at the old state c⁰,
//!
//! `R1_i = ψ_i (c_i − c⁰_i) + dt (K μ)_i − dt ρ_i (μ_e − μ_i) = 0`
//! `R2_i = ψ_i (μ_i − f_i(c_i) − e_i) − κ (A c)_i = 0`
//!
//! K the face Laplacian with conductance `h(ψd) (b_i + b_j)/2 / Δx²` (b the site blocking at c⁰),
//! A the gradient energy's with `ψ_f/Δx²`, f the convex part of g' (the logarithm, implicit), e
//! the explicit rest at c⁰ (concave interactions, elastic coupling), ρ = ψ r j(c⁰) the surface
//! reaction's conductance, and μ_e a scalar unknown closing `Σ_i ρ_i (μ_e − μ_i) ΔV = I`
//! (galvanostatic) or fixed (potentiostatic). Newton's method on (μ, c, μ_e): each linear
//! system is the symmetric saddle point `[[dt (K + ρ), Ψ], [Ψ, −(Ψ f' + κ A)]]`, solved by
//! MINRES preconditioned by `blockdiag(Ŝ, diag H)`, Ŝ = dt (K + ρ) + Ψ diag(H)⁻¹ Ψ applied by a
//! multigrid V-cycle (multigrid.rs), H = Ψ f' + κ A. Each Newton step moves the convex potential
//! ν = f(c) and takes c = c(ν), so every iterate keeps 0 < c < 1 and the logarithm finite; the
//! converged c is then formed from the face fluxes, so each voxel balances to round-off.

#![expect(
    clippy::needless_range_loop,
    reason = "voxel loops index several fields by one voxel, as their WGSL twins will"
)]

use rayon::prelude::*;

use super::chemistry::exchange_factor;
use super::krylov::minres;
use super::multigrid::Multigrid;
use crate::config::Exchange;
use crate::convex_split::{
    ConvexParams, Iterate, LINEAR_TIGHT, MAX_LINEAR, MAX_POTENTIAL_STEP, OFF, Old,
    ROUND_OFF_MARGIN, Site, Status, TOLERANCE_C, TOLERANCE_MU, forcing,
};
pub use crate::convex_split::{MAX_NEWTON, NotConverged, Outcome};
use crate::finite_volume::{Conductances, Faces, Row, add_face_sums, neighbour};
use crate::grid::Grid;
use crate::problem::Chemistry;

/// What drives the surface reaction this step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Ions per model time (Σ ψ c ΔṼ units), signed: positive inserts.
    Current(f64),
    /// A fixed μ_e (kT).
    Potential(f64),
}

/// The stress term of μ, explicit: its value at the old state and, per voxel, the stiffness of
/// a linear stabiliser `S (c − c⁰)` taken implicitly in its place (half the largest curvature of
/// the elastic energy per site, `½ A : C : A / ψ`: the explicit term's Lipschitz bound over two,
/// what keeps the splitting stable where the elastic self-stiffness exceeds the logarithm's).
pub struct Coupling<'a> {
    pub potential: &'a [f64],
    pub stiffness: &'a [f64],
}

/// The surface reaction of one step.
pub struct Reaction<'a> {
    /// ρ_i = ψ_i r_i j(c⁰_i) per voxel (0 off the surface).
    pub conductance: &'a [f64],
    pub target: Target,
    /// μ_e to start Newton from (the last step's).
    pub mu_e_guess: f64,
}

/// The step's static data and workspace, allocated once.
pub struct ConvexSplit {
    n: [usize; 3],
    dim: usize,
    dv: f64,
    kappa: f64,
    /// ψ on solid voxels, 0 elsewhere.
    psi: Vec<f64>,
    solid: Vec<bool>,
    gradient: Vec<Vec<f64>>,
    /// Σ of the gradient weights around each voxel: A's diagonal.
    gradient_sum: Vec<f64>,
    /// κ times the gradient weights: the conductances of H's V-cycle.
    kappa_gradient: Vec<Vec<f64>>,
    flux: Vec<Vec<f64>>,
    /// This step's face conductances of K, and dt times them (Ŝ's V-cycle).
    conduct: Vec<Vec<f64>>,
    dt_conduct: Vec<Vec<f64>>,
    /// Σ of each voxel's face conductances and ρ over its ψ, this step.
    around: Vec<f64>,
    /// The stress term's stabiliser S per voxel ([`Coupling`]), 0 without coupling.
    stabiliser: Vec<f64>,
    c_old: Vec<f64>,
    /// The state before the last converged step and that step's dt, for the predictor.
    c_previous: Vec<f64>,
    previous_dt: Option<f64>,
    explicit: Vec<f64>,
    mu: Vec<f64>,
    /// f_i(c) and f_i'(c) at the current iterate: the convex potential ν and its slope, plus
    /// the stabiliser's.
    f: Vec<f64>,
    df: Vec<f64>,
    /// ν_i(c) and dν_i/dc at the current iterate: what Newton steps in.
    nu: Vec<f64>,
    dnu: Vec<f64>,
    h_diag: Vec<f64>,
    mg: Multigrid,
    /// The V-cycle of H = Ψ f' + κ A, the c block.
    mg_h: Multigrid,
    /// The Newton right-hand side and solution, (μ, c, μ_e): 2N + 1.
    rhs: Vec<f64>,
    z0: Vec<f64>,
    work: Vec<f64>,
}

impl ConvexSplit {
    pub fn new(grid: &Grid, chem: &Chemistry, faces: &Faces) -> ConvexSplit {
        let n = grid.len();
        let dim = grid.dim();
        let psi: Vec<f64> = (0..n)
            .map(|i| if faces.solid[i] { chem.psi_at(i) } else { 0.0 })
            .collect();
        let mut gradient_sum = vec![0.0; n];
        add_face_sums(grid.n, &faces.gradient, &mut gradient_sum);
        let kappa_gradient = faces
            .gradient
            .iter()
            .map(|g| g.iter().map(|v| chem.kappa * v).collect())
            .collect();
        ConvexSplit {
            n: grid.n,
            dim,
            dv: grid.voxel_volume(),
            kappa: chem.kappa,
            psi,
            solid: faces.solid.clone(),
            gradient: faces.gradient.clone(),
            gradient_sum,
            kappa_gradient,
            flux: faces.flux.clone(),
            conduct: vec![vec![0.0; n]; dim],
            dt_conduct: vec![vec![0.0; n]; dim],
            around: vec![0.0; n],
            stabiliser: vec![0.0; n],
            c_old: vec![0.0; n],
            c_previous: vec![0.0; n],
            previous_dt: None,
            explicit: vec![0.0; n],
            mu: vec![0.0; n],
            f: vec![0.0; n],
            df: vec![0.0; n],
            nu: vec![0.0; n],
            dnu: vec![0.0; n],
            h_diag: vec![0.0; n],
            mg: Multigrid::new(grid.n, dim),
            mg_h: Multigrid::new(grid.n, dim),
            rhs: vec![0.0; 2 * n + 1],
            z0: vec![0.0; 2 * n + 1],
            work: vec![0.0; n],
        }
    }

    /// μ of the step's discrete energy at c (solid voxels; others left as they are):
    /// `g'_i(c_i) + (κ/ψ_i)(A c)_i + elastic_i` (the exact variation of
    /// [`Self::gradient_energy`] plus the chemical energy), `elastic` the stress term or none.
    pub fn potential(&self, chem: &Chemistry, c: &[f64], elastic: Option<&[f64]>, mu: &mut [f64]) {
        let mut ac = vec![0.0; c.len()];
        faces_apply(self.n, self.dim, &self.gradient, c, &mut ac);
        mu.par_iter_mut().enumerate().for_each(|(i, m)| {
            if self.solid[i] {
                let (conv, _, expl) = chem.convex_split_at(i, c[i]);
                *m = conv + expl + chem.kappa * ac[i] / self.psi[i] + elastic.map_or(0.0, |e| e[i]);
            }
        });
    }

    /// `κ/2 Σ_faces ψ_f (c_i − c_j)²/Δx² ΔV`: the gradient energy the step dissipates.
    pub fn gradient_energy(&self, kappa: f64, c: &[f64]) -> f64 {
        let mut s = 0.0;
        for a in 0..self.dim {
            s += (0..c.len())
                .into_par_iter()
                .map(|i| {
                    let g = self.gradient[a][i];
                    if g == 0.0 {
                        0.0
                    } else {
                        let d = c[i] - c[neighbour(self.n, i, a, true)];
                        g * d * d
                    }
                })
                .sum::<f64>();
        }
        0.5 * kappa * s * self.dv
    }

    /// One step of `dt` from c (updated in place on success). `elastic`: the stress term of μ
    /// at c, explicit; `reaction`: the surface reaction, if driven.
    pub fn step(
        &mut self,
        chem: &Chemistry,
        c: &mut [f64],
        elastic: Option<Coupling>,
        reaction: Option<Reaction>,
        dt: f64,
    ) -> Result<Outcome, NotConverged> {
        let len = c.len();
        self.c_old.copy_from_slice(c);
        self.freeze(chem, elastic.as_ref().map(|e| e.potential));
        match &elastic {
            Some(e) => self.stabiliser.copy_from_slice(e.stiffness),
            None => self.stabiliser.iter_mut().for_each(|v| *v = 0.0),
        }
        let zeros = vec![0.0; len];
        let rho: &[f64] = reaction.as_ref().map_or(&zeros, |r| r.conductance);
        let rho_sum: f64 = rho.par_iter().sum();
        // Σ of each voxel's face conductances and ρ, over ψ: what scales its flux terms'
        // round-off.
        for (scaled, g) in self.dt_conduct.iter_mut().zip(&self.conduct) {
            for (s, v) in scaled.iter_mut().zip(g) {
                *s = dt * v;
            }
        }
        self.around.copy_from_slice(rho);
        add_face_sums(self.n, &self.conduct, &mut self.around);
        for k in 0..len {
            self.around[k] = if self.solid[k] {
                self.around[k] / self.psi[k]
            } else {
                0.0
            };
        }
        let mut mu_e = reaction.as_ref().map_or(0.0, |r| match r.target {
            Target::Potential(v) => v,
            Target::Current(_) => r.mu_e_guess,
        });
        let current = reaction.as_ref().and_then(|r| match r.target {
            Target::Current(i) => Some(i / self.dv),
            Target::Potential(_) => None,
        });
        // Start from the last step's trend continued over dt (where it stays inside the bounds),
        // with μ consistent with it: a first-order predictor that saves Newton iterations.
        let mut cn = c.to_vec();
        if let Some(prev_dt) = self.previous_dt {
            let ratio = dt / prev_dt;
            for k in 0..len {
                let guess = c[k] + ratio * (c[k] - self.c_previous[k]);
                if self.solid[k] && guess > 0.5 * c[k] && guess < 0.5 * (1.0 + c[k]) {
                    cn[k] = guess;
                }
            }
        }
        let mut mu = std::mem::take(&mut self.mu);
        self.potential_explicit(chem, &cn, &mut mu);
        let (mut newton, mut linear) = (0, 0);
        let mut c_new = vec![0.0; len];
        let result = loop {
            self.evaluate(chem, &cn);
            let (r1, r2) = self.residuals(&cn, &mu, mu_e, rho, dt);
            let galvanostat = current.map(|i| {
                let s: f64 = (0..len).map(|k| rho[k] * (mu_e - mu[k])).sum();
                s - i
            });
            let rg = galvanostat.map_or(0.0, |g| g.abs() / rho_sum.max(f64::MIN_POSITIVE));
            let tol_mu = TOLERANCE_MU.max(ROUND_OFF_MARGIN * f64::EPSILON * mu_e.abs());
            if r1 <= TOLERANCE_C && r2 <= TOLERANCE_MU && rg <= tol_mu {
                // The galvanostat exactly, then c from the fluxes: every voxel balances.
                if let Some(i) = current {
                    let s: f64 = (0..len).map(|k| rho[k] * mu[k]).sum();
                    mu_e = (i + s) / rho_sum;
                }
                self.flux_form(&mu, mu_e, rho, dt, &mut c_new);
                // A nearly empty (or full) voxel's net flux is a sum of face fluxes that cancel
                // to its few ions, so the round-off of those terms can put its flux-formed c
                // past the bound, though Newton's c, consistent with μ through the logarithm,
                // is inside. There the two differ by less than the balance's round-off floor
                // (Newton has converged beyond it), and Newton's c is kept: the ion balance
                // misses by that round-off.
                for k in 0..len {
                    if self.solid[k] && !(c_new[k] > 0.0 && c_new[k] < 1.0) {
                        c_new[k] = cn[k];
                    }
                }
                break Ok(());
            }
            if newton == MAX_NEWTON {
                break Err(NotConverged {
                    residual_c: r1,
                    residual_mu: r2.max(rg),
                });
            }
            newton += 1;
            let forcing = forcing(r1, r2, rg, tol_mu, LINEAR_TIGHT);
            linear += self.newton_step(
                chem,
                &mut cn,
                &mut mu,
                &mut mu_e,
                rho,
                galvanostat,
                dt,
                forcing,
            );
        };
        self.mu = mu;
        result?;
        self.c_previous.copy_from_slice(c);
        self.previous_dt = Some(dt);
        let mut max_dc = 0.0_f64;
        let mut ions = 0.0;
        for k in 0..len {
            if self.solid[k] {
                max_dc = max_dc.max((c_new[k] - c[k]).abs());
                ions += self.psi[k] * (c_new[k] - c[k]);
                c[k] = c_new[k];
            }
        }
        Ok(Outcome {
            mu_e: reaction.map(|_| mu_e),
            ions_added: ions * self.dv,
            newton_iterations: newton,
            linear_iterations: linear,
            max_dc,
        })
    }

    /// The old state's face conductances and explicit potential.
    fn freeze(&mut self, chem: &Chemistry, elastic: Option<&[f64]>) {
        let c = &self.c_old;
        let solid = &self.solid;
        let b: Vec<f64> = (0..c.len())
            .into_par_iter()
            .map(|i| {
                if solid[i] {
                    chem.sublattice_blocking_at(i, c[i])
                } else {
                    0.0
                }
            })
            .collect();
        for a in 0..self.dim {
            let (n, flux) = (self.n, &self.flux[a]);
            self.conduct[a]
                .par_iter_mut()
                .enumerate()
                .for_each(|(i, k)| {
                    let f = flux[i];
                    *k = if f > 0.0 {
                        f * 0.5 * (b[i] + b[neighbour(n, i, a, true)])
                    } else {
                        0.0
                    };
                });
        }
        self.explicit.par_iter_mut().enumerate().for_each(|(i, e)| {
            *e = if solid[i] {
                chem.convex_split_at(i, c[i]).2 + elastic.map_or(0.0, |el| el[i])
            } else {
                0.0
            };
        });
    }

    /// μ from c with the explicit part frozen: `f(c) + e + (κ/ψ)(A c)`.
    fn potential_explicit(&mut self, chem: &Chemistry, c: &[f64], mu: &mut [f64]) {
        self.evaluate(chem, c);
        faces_apply(self.n, self.dim, &self.gradient, c, &mut self.work);
        for i in 0..c.len() {
            mu[i] = if self.solid[i] {
                self.f[i] + self.explicit[i] + chem.kappa * self.work[i] / self.psi[i]
            } else {
                0.0
            };
        }
    }

    /// ν, ν', f and f' at c: the convex part of g' and the stabiliser.
    fn evaluate(&mut self, chem: &Chemistry, c: &[f64]) {
        let (solid, old, s) = (&self.solid, &self.c_old, &self.stabiliser);
        self.f
            .par_iter_mut()
            .zip(self.df.par_iter_mut())
            .zip(self.nu.par_iter_mut().zip(self.dnu.par_iter_mut()))
            .enumerate()
            .for_each(|(i, ((f, df), (nu, dnu)))| {
                (*nu, *dnu) = if solid[i] {
                    let (conv, d, _) = chem.convex_split_at(i, c[i]);
                    (conv, d)
                } else {
                    (0.0, 0.0)
                };
                (*f, *df) = if solid[i] {
                    (*nu + s[i] * (c[i] - old[i]), *dnu + s[i])
                } else {
                    (0.0, 0.0)
                };
            });
    }

    /// R1 and R2 into `rhs` (negated: the Newton right-hand side), and their largest values
    /// per voxel over ψ beyond their round-off (units of c and kT).
    fn residuals(&mut self, c: &[f64], mu: &[f64], mu_e: f64, rho: &[f64], dt: f64) -> (f64, f64) {
        let len = c.len();
        let (r1, rest) = self.rhs.split_at_mut(len);
        let r2 = &mut rest[..len];
        faces_apply(self.n, self.dim, &self.conduct, mu, r1);
        faces_apply(self.n, self.dim, &self.gradient, c, r2);
        let mu_max = (0..len)
            .filter(|&i| self.solid[i])
            .map(|i| mu[i].abs())
            .fold(mu_e.abs(), f64::max);
        let (mut m1, mut m2) = (0.0_f64, 0.0_f64);
        for i in 0..len {
            if !self.solid[i] {
                r1[i] = 0.0;
                r2[i] = 0.0;
                continue;
            }
            let p = self.psi[i];
            let a = p * (c[i] - self.c_old[i]) + dt * r1[i] - dt * rho[i] * (mu_e - mu[i]);
            let b = p * (mu[i] - self.f[i] - self.explicit[i]) - self.kappa * r2[i];
            // What each equation cannot resolve: the round-off of its terms, ε times their
            // magnitudes (the flux terms' grows with dt, a stress term of 1e10 kT is resolved
            // to 1e-6 kT at best). The residuals count beyond it.
            let eps = ROUND_OFF_MARGIN * f64::EPSILON;
            let floor1 = eps * (c[i] + self.c_old[i] + 2.0 * dt * self.around[i] * mu_max);
            // f(c) itself is known only to ε c f'(c): near c = 1 the state c resolves 1 − c to
            // ε, so a host 1e-14 from full has its logarithm to a few 1e-3 kT.
            let floor2 = eps
                * (mu[i].abs()
                    + self.f[i].abs()
                    + self.explicit[i].abs()
                    + c[i] * self.df[i]
                    + 2.0 * self.kappa * self.gradient_sum[i] / p);
            m1 = m1.max(a.abs() / p - floor1);
            m2 = m2.max(b.abs() / p - floor2);
            r1[i] = -a;
            r2[i] = -b;
        }
        (m1, m2)
    }

    /// c⁰ + dt (−K μ + ρ (μ_e − μ))/ψ on the solid: the new c from the face fluxes.
    fn flux_form(&self, mu: &[f64], mu_e: f64, rho: &[f64], dt: f64, out: &mut [f64]) {
        faces_apply(self.n, self.dim, &self.conduct, mu, out);
        for i in 0..out.len() {
            out[i] = if self.solid[i] {
                self.c_old[i] + dt * (-out[i] + rho[i] * (mu_e - mu[i])) / self.psi[i]
            } else {
                self.c_old[i]
            };
        }
    }

    /// One damped Newton step from the residuals in `rhs`; returns the linear iterations. The
    /// system holds μ_e as its last unknown (the electrode node, joined to each surface voxel by
    /// ρ_i), its row the galvanostat scaled by dt so that the matrix stays symmetric; without a
    /// galvanostat that row is the identity and μ_e does not move.
    #[expect(
        clippy::too_many_arguments,
        reason = "the state of one Newton iteration"
    )]
    fn newton_step(
        &mut self,
        chem: &Chemistry,
        c: &mut [f64],
        mu: &mut [f64],
        mu_e: &mut f64,
        rho: &[f64],
        galvanostat: Option<f64>,
        dt: f64,
        tolerance: f64,
    ) -> usize {
        let len = c.len();
        // H's diagonal, and the Schur complement's approximation for the V-cycle.
        let mut s_diag = vec![0.0; len];
        for i in 0..len {
            if self.solid[i] {
                let p = self.psi[i];
                self.h_diag[i] = p * self.df[i] + self.kappa * self.gradient_sum[i];
                s_diag[i] = dt * rho[i] + p * p / self.h_diag[i];
            } else {
                self.h_diag[i] = 1.0;
            }
        }
        self.mg.setup(&s_diag, &self.dt_conduct, &self.solid);
        let h_own: Vec<f64> = (0..len)
            .map(|i| {
                if self.solid[i] {
                    self.psi[i] * self.df[i]
                } else {
                    0.0
                }
            })
            .collect();
        self.mg_h.setup(&h_own, &self.kappa_gradient, &self.solid);
        self.rhs[2 * len] = galvanostat.map_or(0.0, |g| -dt * g);
        let iterations = self.solve(rho, dt, galvanostat.is_some(), tolerance);
        let (dmu, rest) = self.z0.split_at(len);
        let (dc, d_mu_e) = rest.split_at(len);
        // Newton in the convex potential ν for c: the same linear system with its c block
        // scaled by dc/dν (δc = δν / ν'), and c = c(ν) after the update. c(ν) keeps 0 < c < 1
        // whatever the step, is smooth where ν(c) is steep (within 1e-8 of P2's segment
        // junction ν climbs 35 kT), and near a bound it is the logit, so an update moves c
        // geometrically towards the bound. A voxel whose ν would move by more than
        // MAX_POTENTIAL_STEP moves by that much: the linearisation holds over a few kT, and
        // clipping there leaves every other voxel its full Newton step.
        let (solid, nu, dnu) = (&self.solid, &self.nu, &self.dnu);
        c.par_iter_mut()
            .zip(mu.par_iter_mut())
            .enumerate()
            .for_each(|(i, (ci, mi))| {
                if solid[i] {
                    *ci = if dnu[i] > 0.0 {
                        let step = (dnu[i] * dc[i]).clamp(-MAX_POTENTIAL_STEP, MAX_POTENTIAL_STEP);
                        chem.convex_inverse_at(i, nu[i] + step, *ci)
                    } else {
                        *ci + dc[i]
                    };
                    *mi += dmu[i];
                }
            });
        let alpha = 1.0;
        if galvanostat.is_some() {
            *mu_e += alpha * d_mu_e[0];
        }
        iterations
    }

    /// MINRES on the Newton system with right-hand side `rhs` into `z0`, preconditioned by
    /// blockdiag(V-cycle of Ŝ, V-cycle of H, 1/(dt Σρ)).
    fn solve(&mut self, rho: &[f64], dt: f64, galvanostatic: bool, tolerance: f64) -> usize {
        let len = self.c_old.len();
        let mut x = std::mem::take(&mut self.z0);
        let mut mg = std::mem::replace(&mut self.mg, Multigrid::new([1, 1, 1], 1));
        let mut mg_h = std::mem::replace(&mut self.mg_h, Multigrid::new([1, 1, 1], 1));
        let this = &*self;
        let rho_sum: f64 = rho.iter().sum();
        let node = if galvanostatic { dt * rho_sum } else { 1.0 };
        let mut kx = vec![0.0; len];
        let mut ax = vec![0.0; len];
        let apply = |v: &[f64], out: &mut [f64]| {
            let (v1, rest) = v.split_at(len);
            let (v2, ve) = rest.split_at(len);
            let (o1, rest) = out.split_at_mut(len);
            let (o2, oe) = rest.split_at_mut(len);
            faces_apply(this.n, this.dim, &this.conduct, v1, &mut kx);
            faces_apply(this.n, this.dim, &this.gradient, v2, &mut ax);
            let e = if galvanostatic { ve[0] } else { 0.0 };
            let mut node_row = 0.0;
            for i in 0..len {
                if this.solid[i] {
                    let p = this.psi[i];
                    o1[i] = dt * (kx[i] + rho[i] * (v1[i] - e)) + p * v2[i];
                    o2[i] = p * v1[i] - p * this.df[i] * v2[i] - this.kappa * ax[i];
                    node_row -= rho[i] * v1[i];
                } else {
                    o1[i] = v1[i];
                    o2[i] = v2[i];
                }
            }
            oe[0] = if galvanostatic {
                dt * (node_row + rho_sum * ve[0])
            } else {
                ve[0]
            };
        };
        let h = &this.h_diag;
        let solid = &this.solid;
        let precondition = |r: &[f64], z: &mut [f64]| {
            let (r1, rest) = r.split_at(len);
            let (r2, re) = rest.split_at(len);
            let (z1, rest) = z.split_at_mut(len);
            let (z2, ze) = rest.split_at_mut(len);
            mg.apply(r1, z1);
            mg_h.apply(r2, z2);
            for i in 0..len {
                if !solid[i] {
                    z1[i] = r1[i];
                    z2[i] = r2[i] / h[i];
                }
            }
            ze[0] = re[0] / node;
        };
        let solved = minres(
            apply,
            precondition,
            &this.rhs,
            &mut x,
            tolerance,
            MAX_LINEAR,
        );
        self.mg = mg;
        self.mg_h = mg_h;
        self.z0 = x;
        solved.iterations
    }
}

/// `out_i = Σ_a [g_a(i) (x_i − x_{i+a}) + g_a(i−a) (x_i − x_{i−a})]`: a face Laplacian with
/// conductances g (per axis, indexed by the face's lower voxel).
pub fn faces_apply(n: [usize; 3], dim: usize, g: &[Vec<f64>], x: &[f64], out: &mut [f64]) {
    let [nx, ny, _] = n;
    let faces = Conductances::new(dim, g);
    out.par_chunks_mut(nx).enumerate().for_each(|(r, row)| {
        let around = Row::new(n, r % ny, r / ny);
        for (xi, o) in row.iter_mut().enumerate() {
            *o = faces.push(&around, xi, x);
        }
    });
}

// Mirrors of convex_split.wgsl's pointwise entry points, in its binding order, on the device's
// layouts (`crate::convex_split`) and in f64 through `Chemistry`, the physics both backends
// share (its hosts and weights stand for the `hosts` and `weights` bindings). They check the
// port, entry point by entry point (tests/gpu_convex_split.rs); the step above is the
// reference the device's step is checked against whole.

/// `begin_step` (its potentials relative to `params.reference`, as the device's): each solid
/// voxel's explicit potential, reaction conductance, stabiliser and
/// site blocking at the old state (c⁰, ν⁰ moved by `params.shift`), and the iterate started
/// there. `rate` is the reaction's r(x) of the sites (`Site::rate`).
pub fn begin_step(
    params: &ConvexParams,
    chem: &Chemistry,
    site: &[Site],
    old: &mut [Old],
    iterate: &mut [Iterate],
    stress_mu: &[f64],
    stress_stiffness: &[f64],
) {
    let exchange = if params.exchange == 1 {
        Exchange::SiteLimited
    } else {
        Exchange::Constant
    };
    for i in 0..old.len() {
        if site[i].only == OFF {
            continue;
        }
        let o = &mut old[i];
        let nu = f64::from(o.nu) + f64::from(params.shift);
        let c = chem.convex_inverse_at(i, nu + f64::from(params.reference), f64::from(o.c));
        let (_, dnu, e) = chem.convex_split_at(i, c);
        let rate = f64::from(site[i].rate);
        o.nu = nu as f32;
        o.frozen = (e + stress_mu[i]) as f32;
        o.stabiliser = stress_stiffness[i] as f32;
        o.rho = if rate > 0.0 {
            (f64::from(site[i].psi) * rate * exchange_factor(exchange, f64::from(o.c))) as f32
        } else {
            0.0
        };
        o.blocking = if params.mobility == 1 {
            chem.sublattice_blocking_at(i, c) as f32
        } else {
            1.0
        };
        iterate[i] = Iterate {
            c: o.c,
            nu: o.nu,
            mu: 0.0,
            dnu: dnu as f32,
        };
    }
}

/// `newton_update`: μ += δμ, ν moved by ν' δc (at most MAX_POTENTIAL_STEP), c = c(ν) and ν' at
/// the new c, from the Newton vector `solution` (μ block, c block, μ_e); μ_e += δμ_e.
pub fn newton_update(
    params: &ConvexParams,
    chem: &Chemistry,
    site: &[Site],
    iterate: &mut [Iterate],
    solution: &[f64],
    status: &mut Status,
) {
    let len = iterate.len();
    if params.galvanostatic == 1 {
        status.mu_e = (f64::from(status.mu_e) + solution[2 * len]) as f32;
    }
    for i in 0..len {
        if site[i].only == OFF {
            continue;
        }
        let it = &mut iterate[i];
        let step =
            (f64::from(it.dnu) * solution[len + i]).clamp(-MAX_POTENTIAL_STEP, MAX_POTENTIAL_STEP);
        let nu = f64::from(it.nu) + step;
        let c = chem.convex_inverse_at(i, nu + f64::from(params.reference), f64::from(it.c));
        it.nu = nu as f32;
        it.c = c as f32;
        it.dnu = chem.convex_split_at(i, c).1 as f32;
        it.mu = (f64::from(it.mu) + solution[i]) as f32;
    }
}

/// `face_conductance`: each face's flux weight times the mean site blocking of its two sides,
/// and dt times it for the Schur complement's V-cycle (axis-major, as `faces_apply`'s `g`).
pub fn face_conductance(
    params: &ConvexParams,
    flux: &[f64],
    conduct: &mut [f64],
    old: &[Old],
    schur_g: &mut [f64],
) {
    let (len, n) = (params.len as usize, mirror_grid(params));
    for a in 0..params.n[3] as usize {
        for i in 0..len {
            let f = flux[a * len + i];
            let up = neighbour(n, i, a, true);
            let g = if f > 0.0 {
                f * 0.5 * (f64::from(old[i].blocking) + f64::from(old[up].blocking))
            } else {
                0.0
            };
            conduct[a * len + i] = g;
            schur_g[a * len + i] = f64::from(params.dt) * g;
        }
    }
}

/// The mirrors' grid from the uniform.
fn mirror_grid(params: &ConvexParams) -> [usize; 3] {
    [
        params.n[0] as usize,
        params.n[1] as usize,
        params.n[2] as usize,
    ]
}

/// Σ_faces w (x_i − x_j) around voxel i, `w` axis-major face weights.
fn mirror_faces(params: &ConvexParams, w: &[f64], i: usize, x: impl Fn(usize) -> f64) -> f64 {
    let (len, n) = (params.len as usize, mirror_grid(params));
    (0..params.n[3] as usize)
        .map(|a| {
            let (up, down) = (neighbour(n, i, a, true), neighbour(n, i, a, false));
            w[a * len + i] * (x(i) - x(up)) + w[a * len + down] * (x(i) - x(down))
        })
        .sum()
}

/// `start_potential`: μ⁰ = ν + e + (κ/ψ)(A c) into `Old::mu0`, the iterate's increment 0; returns
/// Σ ρ (what `fold_start` folds).
pub fn start_potential(
    params: &ConvexParams,
    site: &[Site],
    gradient: &[f64],
    old: &mut [Old],
    iterate: &mut [Iterate],
) -> f64 {
    let mut rho = 0.0;
    let c: Vec<f64> = iterate.iter().map(|t| f64::from(t.c)).collect();
    for i in 0..old.len() {
        if site[i].only == OFF {
            continue;
        }
        let ac = f64::from(params.kappa) * mirror_faces(params, gradient, i, |j| c[j]);
        old[i].mu0 = (f64::from(iterate[i].nu)
            + f64::from(old[i].frozen)
            + ac / f64::from(site[i].psi)) as f32;
        iterate[i].mu = 0.0;
        rho += f64::from(old[i].rho);
    }
    rho
}

/// The iterate's μ of voxel i, μ⁰ + δ.
fn mirror_mu(old: &[Old], iterate: &[Iterate], i: usize) -> f64 {
    f64::from(old[i].mu0) + f64::from(iterate[i].mu)
}

/// `residuals`: R1 = ψ (c − c⁰) + dt K μ − dt ρ (μ_e − μ) and R2 = ψ (μ − f − e) − κ A c,
/// negated into `rhs`; returns Σ ρ (μ_e − μ) (the galvanostat's sum).
#[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
pub fn residuals(
    params: &ConvexParams,
    site: &[Site],
    gradient: &[f64],
    conduct: &[f64],
    old: &[Old],
    iterate: &[Iterate],
    rhs: &mut [f64],
    mu_e: f64,
) -> f64 {
    let len = params.len as usize;
    let dt = f64::from(params.dt);
    let mu = |j: usize| mirror_mu(old, iterate, j);
    let c = |j: usize| f64::from(iterate[j].c);
    let mut pull = 0.0;
    for i in 0..len {
        if site[i].only == OFF {
            rhs[i] = 0.0;
            rhs[len + i] = 0.0;
            continue;
        }
        let (o, it, p) = (&old[i], &iterate[i], f64::from(site[i].psi));
        let rho = f64::from(o.rho);
        let eta = mu_e - mu(i);
        let f = f64::from(it.nu) + f64::from(o.stabiliser) * (c(i) - f64::from(o.c));
        let r1 = p * (c(i) - f64::from(o.c)) + dt * mirror_faces(params, conduct, i, mu)
            - dt * rho * eta;
        let r2 = p * (mu(i) - f - f64::from(o.frozen))
            - f64::from(params.kappa) * mirror_faces(params, gradient, i, c);
        rhs[i] = -r1;
        rhs[len + i] = -r2;
        pull += rho * eta;
    }
    pull
}

/// `apply_saddle` and `apply_node`: the Newton system's operator on `operand` into `product`.
#[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
pub fn apply_saddle(
    params: &ConvexParams,
    site: &[Site],
    gradient: &[f64],
    conduct: &[f64],
    old: &[Old],
    iterate: &[Iterate],
    operand: &[f64],
    product: &mut [f64],
) {
    let len = params.len as usize;
    let dt = f64::from(params.dt);
    let galvanostatic = params.galvanostatic == 1;
    let e = if galvanostatic { operand[2 * len] } else { 0.0 };
    let (mut pulled, mut rho_sum) = (0.0, 0.0);
    for i in 0..len {
        if site[i].only == OFF {
            product[i] = operand[i];
            product[len + i] = operand[len + i];
            continue;
        }
        let (v1, v2) = (operand[i], operand[len + i]);
        let kx = mirror_faces(params, conduct, i, |j| operand[j]);
        let ax = mirror_faces(params, gradient, i, |j| operand[len + j]);
        let p = f64::from(site[i].psi);
        let rho = f64::from(old[i].rho);
        let df = f64::from(iterate[i].dnu) + f64::from(old[i].stabiliser);
        product[i] = dt * (kx + rho * (v1 - e)) + p * v2;
        product[len + i] = p * v1 - p * df * v2 - f64::from(params.kappa) * ax;
        pulled += rho * v1;
        rho_sum += rho;
    }
    product[2 * len] = if galvanostatic {
        dt * (-pulled + rho_sum * operand[2 * len])
    } else {
        operand[2 * len]
    };
}

/// `flux_form`: the new c from the face fluxes, c⁰ + dt (−K μ + ρ (μ_e − μ))/ψ, Newton's c where
/// that falls outside (0, 1), into `c_new`; returns Σ ψ |Newton's c − the fluxes'| over those
/// voxels (`Status::unbalanced`).
pub fn flux_form(
    params: &ConvexParams,
    site: &[Site],
    conduct: &[f64],
    old: &[Old],
    iterate: &[Iterate],
    mu_e: f64,
    c_new: &mut [f64],
) -> f64 {
    let dt = f64::from(params.dt);
    let mu = |j: usize| mirror_mu(old, iterate, j);
    let mut unbalanced = 0.0;
    for i in 0..old.len() {
        if site[i].only == OFF {
            continue;
        }
        let net = -mirror_faces(params, conduct, i, mu) + f64::from(old[i].rho) * (mu_e - mu(i));
        let psi = f64::from(site[i].psi);
        let c = f64::from(old[i].c) + dt * net / psi;
        c_new[i] = if c > 0.0 && c < 1.0 {
            c
        } else {
            let newton = f64::from(iterate[i].c);
            unbalanced += psi * (newton - c).abs();
            newton
        };
    }
    unbalanced
}

/// `commit`: the flux-formed c becomes the state (`old` and `c_field`), with Newton's ν.
pub fn commit(
    site: &[Site],
    old: &mut [Old],
    iterate: &[Iterate],
    c_field: &mut [f64],
    c_new: &[f64],
) {
    for i in 0..old.len() {
        if site[i].only == OFF {
            continue;
        }
        old[i].c = c_new[i] as f32;
        old[i].nu = iterate[i].nu;
        c_field[i] = c_new[i];
    }
}

/// `newton_blocks`: the V-cycles' diagonals, Ŝ = dt ρ + ψ²/(ψ f' + κ Σ gradient weights) and H's
/// own ψ f' (0 off the solid).
pub fn newton_blocks(
    params: &ConvexParams,
    site: &[Site],
    gradient: &[f64],
    old: &[Old],
    iterate: &[Iterate],
    schur_diag: &mut [f64],
    h_diag: &mut [f64],
) {
    for i in 0..old.len() {
        if site[i].only == OFF {
            schur_diag[i] = 0.0;
            h_diag[i] = 0.0;
            continue;
        }
        let p = f64::from(site[i].psi);
        let df = f64::from(iterate[i].dnu) + f64::from(old[i].stabiliser);
        let around = mirror_faces(params, gradient, i, |j| if j == i { 1.0 } else { 0.0 });
        let h = p * df + f64::from(params.kappa) * around;
        schur_diag[i] = f64::from(params.dt) * f64::from(old[i].rho) + p * p / h;
        h_diag[i] = p * df;
    }
}

/// `settle_galvanostat`: μ_e moved by (I − Σ ρ (μ_e − μ))/Σ ρ.
pub fn settle_galvanostat(params: &ConvexParams, status: &mut Status) {
    if params.galvanostatic == 1 {
        status.mu_e = (f64::from(status.mu_e)
            + (f64::from(params.current) - f64::from(status.pull)) / f64::from(status.rho_sum))
            as f32;
    }
}

/// `potential_field`: μ of the committed state, ν + e + (κ/ψ)(A c) + the stress term, absolute.
pub fn potential_field(
    params: &ConvexParams,
    chem: &Chemistry,
    site: &[Site],
    gradient: &[f64],
    old: &[Old],
    stress_mu: &[f64],
    mu_field: &mut [f64],
) {
    let reference = f64::from(params.reference);
    let c = |j: usize| f64::from(old[j].c);
    for i in 0..old.len() {
        if site[i].only == OFF {
            continue;
        }
        let ci = chem.convex_inverse_at(i, f64::from(old[i].nu) + reference, c(i));
        let (nu, _, e) = chem.convex_split_at(i, ci);
        let ac = f64::from(params.kappa) * mirror_faces(params, gradient, i, c);
        mu_field[i] = nu + e + ac / f64::from(site[i].psi) + stress_mu[i];
    }
}

/// `gradient_energy` with its fold: Σ over each voxel's upward faces of ψ_f (c_i − c_j)²/Δx².
pub fn gradient_energy(params: &ConvexParams, gradient: &[f64], old: &[Old]) -> f64 {
    let (len, n) = (params.len as usize, mirror_grid(params));
    (0..len)
        .map(|i| {
            (0..params.n[3] as usize)
                .map(|a| {
                    let d = f64::from(old[i].c) - f64::from(old[neighbour(n, i, a, true)].c);
                    gradient[a * len + i] * d * d
                })
                .sum::<f64>()
        })
        .sum()
}
