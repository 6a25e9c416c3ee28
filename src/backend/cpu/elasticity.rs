//! Mechanical equilibrium on the CPU (model.md §4, §6): heterogeneous isotropic stiffness,
//! eigenstrain from composition, periodic cell with a macroscopic condition.
//!
//! Solved as the Galerkin form of the Lippmann–Schwinger equation (Zeman et al. 2010;
//! Vondřejc, Zeman & Marek 2014): find the strain ε in the space of compatible fields plus the
//! free mean components such that `P[C : (ε − ε*)] = 0`, with P the orthogonal projection onto
//! that space (in Fourier space `G(τ) = 2 sym(ξ⊗τξ) − (ξ·τ·ξ) ξ⊗ξ`, ξ = k/|k|; at k = 0 the free
//! mean components). `P C P` is symmetric positive definite there, so conjugate gradients
//! converge with the square root of the stiffness contrast; warm-started from the last step.
//! The basic Moulinec–Suquet fixed point is the fallback. Where some material flows (J2
//! plasticity, `crate::plasticity`), `P[σ(ε)] = 0` is nonlinear and solved by Newton's method,
//! each correction by the same conjugate gradients on the consistent tangent `P C_t P`
//! (de Geus, Vondřejc, Zeman, Peerlings & Geers 2017, in small strain); the plastic history
//! advances once per solved state on the loading path ([`Elasticity::commit`]). Tensors are in Voigt order
//! xx yy zz yz xz xy with tensor (not engineering) shear components; inner products weight the
//! shear components twice (the Frobenius product).

#![expect(
    clippy::needless_range_loop,
    reason = "Voigt components index several arrays in step"
)]

use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use super::fft::{Fft, Spectrum};
use crate::config::SolverKind;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::laminate::{self, Layering, Split};
use crate::plasticity::{History, J2, Tangent, Voigt};
pub use crate::plasticity::{PAIRS, VOIGT};
use crate::problem::{Mechanics, Problem};

/// Frobenius weights of the Voigt components.
pub const WEIGHT: [f64; 6] = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0];

/// Six component fields.
pub type Tensor = [Vec<f64>; 6];

fn zeros(n: usize) -> Tensor {
    std::array::from_fn(|_| vec![0.0; n])
}

/// The state of the elastic solve: the current strain, the eigenstrain and stiffness for the
/// current c, and the CG workspace.
pub struct Elasticity {
    pub mechanics: Mechanics,
    grid: Grid,
    /// Per voxel, per material: φ_m (shared with the problem).
    phi: Vec<Vec<f64>>,
    axis: Option<Vec<[f64; 3]>>,
    /// Components that vary in space (go through the FFT); the others are uniform means.
    spectral: [bool; 6],
    free: [bool; 6],
    pub strain: Tensor,
    /// Stiffness and eigenstrain per voxel at the current c.
    pub local: Vec<Local>,
    r: Tensor,
    p: Tensor,
    q: Tensor,
    spectra: [Vec<Complex64>; 6],
    /// Per voxel where solid meets electrolyte under `mechanics.mixing = "laminate"`, how its
    /// parts are layered (laminate.rs); empty under Voigt mixing.
    layering: Vec<Option<Layering>>,
    /// The electrolyte's Lamé constants (λ, μ): a laminate voxel's second part.
    electrolyte: (f64, f64),
    /// The state of the nonlinear solve: where some material flows (J2) or some voxel is a
    /// laminate.
    nonlinear: Option<Nonlinear>,
    pub last_iterations: u64,
    pub last_residual: f64,
    /// The relative residual at each Newton iteration of the last plastic solve (empty for a
    /// linear one).
    pub newton_residuals: Vec<f64>,
    /// Per Newton iteration of the last nonlinear solve, whether its CG tolerance was raised
    /// above the residual to stop just below the solve's tolerance (an iteration so limited is
    /// not quadratic by design).
    pub newton_floored: Vec<bool>,
}

/// The state of a nonlinear solve: J2 plasticity (plasticity.rs) where some material flows,
/// laminate voxels (laminate.rs) where solid meets electrolyte.
struct Nonlinear {
    /// Per voxel its J2 data at the current c, `None` where it stays elastic.
    material: Vec<Option<J2>>,
    /// The history of the last committed state on the loading path.
    committed: Vec<History>,
    /// History, stress and consistent tangent at the current strain.
    history: Vec<History>,
    stress: Vec<Voigt>,
    tangent: Vec<Tangent>,
    /// Per laminate voxel its split at the current strain (its jump vector warm-starts the next).
    split: Vec<Option<Box<Split>>>,
    /// The trace of ε* per voxel at the last solved state, and the strain and that trace at the
    /// one before it: the next solve starts from their extrapolation.
    trace: Vec<f64>,
    before: Option<(Tensor, Vec<f64>)>,
    /// The Newton correction.
    correction: Tensor,
}

/// Newton iterations of a plastic solve before it is declared not converged.
const MAX_NEWTON: u64 = 50;
/// Halvings of a Newton correction whose full step raises the equilibrium residual.
const MAX_BACKTRACK: u32 = 8;

impl Elasticity {
    pub fn new(problem: &Problem, mechanics: &Mechanics) -> Self {
        let n = problem.grid.len();
        let micro = problem
            .microstructure
            .as_ref()
            .expect("mechanics needs materials");
        let dim = problem.grid.dim();
        let anisotropic_axes = mechanics.anisotropic;
        let spectral = mechanics.spectral_components(dim, &micro.axis);
        let sp = Spectrum::new(problem.grid.n);
        let mut el = Elasticity {
            mechanics: mechanics.clone(),
            grid: problem.grid.clone(),
            phi: micro.phi.clone(),
            axis: anisotropic_axes.then(|| micro.axis.clone()),
            spectral,
            free: mechanics.free_means(dim),
            strain: zeros(n),
            local: vec![Local::default(); n],
            r: zeros(n),
            p: zeros(n),
            q: zeros(n),
            spectra: std::array::from_fn(|_| vec![Complex64::default(); sp.len()]),
            layering: layerings(problem, mechanics, &micro.phi),
            electrolyte: mechanics.electrolyte.map_or((0.0, 0.0), |e| {
                (mechanics.materials[e].lambda0, mechanics.materials[e].mu0)
            }),
            nonlinear: None,
            last_iterations: 0,
            last_residual: 0.0,
            newton_residuals: Vec::new(),
            newton_floored: Vec::new(),
        };
        let layered = el.layering.iter().any(Option::is_some);
        el.nonlinear = (mechanics.plastic() || layered).then(|| Nonlinear {
            material: vec![None; n],
            committed: vec![History::default(); n],
            history: vec![History::default(); n],
            stress: vec![[0.0; 6]; n],
            tangent: vec![
                Tangent {
                    bulk: 0.0,
                    shear2: 0.0,
                    rank_one: 0.0,
                    normal: [0.0; 6],
                };
                n
            ],
            split: vec![None; n],
            trace: Vec::new(),
            before: None,
            correction: zeros(n),
        });
        el
    }

    /// Stiffness and eigenstrain for the composition c (Voigt mixing of Lamé constants, model.md §3).
    pub fn update_material(&mut self, c: &[f64]) {
        let mats = &self.mechanics.materials;
        let phi = &self.phi;
        let axis = self.axis.as_deref();
        self.local.par_iter_mut().enumerate().for_each(|(i, loc)| {
            let ci = c[i].clamp(0.0, 1.0);
            let mut l = Local::default();
            let n = axis.map_or([0.0, 0.0, 1.0], |a| a[i]);
            for (mi, mat) in mats.iter().enumerate() {
                let f = phi[mi][i];
                if f == 0.0 {
                    continue;
                }
                l.lambda += f * (mat.lambda0 + mat.dlambda * ci);
                l.mu += f * (mat.mu0 + mat.dmu * ci);
                l.dlambda += f * mat.dlambda;
                l.dmu += f * mat.dmu;
                let b = expansion_tensor(mat.expansion.a, mat.expansion.c, n);
                for k in 0..6 {
                    l.deigen[k] += f * b[k];
                    l.eigen[k] += f * b[k] * (c[i] - mat.c_ref);
                }
            }
            *loc = l;
        });
        if let Some(pl) = self.nonlinear.as_mut() {
            let (local, layering, moduli) = (&self.local, &self.layering, self.electrolyte);
            let electrolyte = self.mechanics.electrolyte;
            pl.material.par_iter_mut().enumerate().for_each(|(i, m)| {
                // A laminate voxel's solid part flows with its own moduli.
                let l = solid_of(&local[i], layering_at(layering, i), moduli);
                *m = voxel_j2(mats, phi, electrolyte, i, c[i].clamp(0.0, 1.0), &l);
            });
        }
    }

    /// Stress at voxel i at the current strain.
    #[inline]
    pub fn stress_at(&self, i: usize) -> [f64; 6] {
        match &self.nonlinear {
            Some(pl) => pl.stress[i],
            None => {
                let l = &self.local[i];
                hooke(l.lambda, l.mu, self.elastic_strain_at(i))
            }
        }
    }

    /// The elastic strain at voxel i: ε − ε* − ε_p.
    #[inline]
    pub fn elastic_strain_at(&self, i: usize) -> [f64; 6] {
        let l = &self.local[i];
        let p = self.plastic_strain_at(i);
        std::array::from_fn(|k| self.strain[k][i] - l.eigen[k] - p[k])
    }

    /// The plastic strain at voxel i (0 without plasticity).
    #[inline]
    pub fn plastic_strain_at(&self, i: usize) -> [f64; 6] {
        self.nonlinear
            .as_ref()
            .map_or([0.0; 6], |pl| pl.history[i].plastic_strain)
    }

    /// The equivalent plastic strain at voxel i (0 without plasticity).
    #[inline]
    pub fn equivalent_plastic_strain_at(&self, i: usize) -> f64 {
        self.nonlinear
            .as_ref()
            .map_or(0.0, |pl| pl.history[i].equivalent)
    }

    /// The plastic work per unit volume of voxel i done so far (0 without plasticity; in a
    /// laminate voxel its solid part's, weighted by φ_s).
    #[inline]
    pub fn plastic_work_at(&self, i: usize) -> f64 {
        self.solid_fraction(i) * self.nonlinear.as_ref().map_or(0.0, |pl| pl.history[i].work)
    }

    /// The energy per unit volume of the flowing solid that isotropic hardening stores at voxel
    /// i, `½ H α²`: part of the elastic energy reported (`energy_at`).
    #[inline]
    pub fn hardening_energy_at(&self, i: usize) -> f64 {
        self.nonlinear.as_ref().map_or(0.0, |pl| {
            pl.material[i].map_or(0.0, |m| {
                let a = pl.history[i].equivalent;
                0.5 * m.hardening * a * a
            })
        })
    }

    /// Voxel i's split between solid and electrolyte, where it is a laminate.
    fn split_at(&self, i: usize) -> Option<(&Split, Layering)> {
        let lay = layering_at(&self.layering, i)?;
        let sp = self.nonlinear.as_ref()?.split[i].as_deref()?;
        Some((sp, lay))
    }

    /// The solid part's volume fraction of voxel i where it is a laminate, else 1 (the whole
    /// voxel carries the solid's stress).
    pub fn solid_fraction(&self, i: usize) -> f64 {
        layering_at(&self.layering, i).map_or(1.0, |l| l.first)
    }

    /// The moduli, eigenstrain and their c-derivatives that the solid of voxel i sees: a
    /// laminate voxel's solid part per its own volume, else the voxel's own.
    pub fn solid_local(&self, i: usize) -> Local {
        solid_of(
            &self.local[i],
            layering_at(&self.layering, i),
            self.electrolyte,
        )
    }

    /// The stress the solid of voxel i carries: a laminate voxel's solid part's, else the
    /// voxel's.
    pub fn solid_stress_at(&self, i: usize) -> Voigt {
        self.split_at(i)
            .map_or_else(|| self.stress_at(i), |(sp, _)| sp.first.stress)
    }

    /// The elastic strain of the solid of voxel i: a laminate voxel's solid part's
    /// `ε_s − ε*_s − ε_p`, else the voxel's `ε − ε* − ε_p`.
    pub fn solid_elastic_strain_at(&self, i: usize) -> Voigt {
        match self.split_at(i) {
            Some((sp, _)) => {
                let eigen = self.solid_local(i).eigen;
                let p = self.plastic_strain_at(i);
                std::array::from_fn(|k| sp.first.strain[k] - eigen[k] - p[k])
            }
            None => self.elastic_strain_at(i),
        }
    }

    /// The energy stored per unit volume at voxel i, elastically and by hardening: a laminate
    /// voxel's parts weighted by their fractions.
    pub fn energy_at(&self, i: usize) -> f64 {
        let half = |s: Voigt, e: Voigt| 0.5 * crate::plasticity::contract(s, e);
        let solid = half(self.solid_stress_at(i), self.solid_elastic_strain_at(i))
            + self.hardening_energy_at(i);
        match self.split_at(i) {
            Some((sp, lay)) => {
                lay.first * solid + (1.0 - lay.first) * half(sp.second.stress, sp.second.strain)
            }
            None => solid,
        }
    }

    /// Whether some material flows.
    pub fn is_plastic(&self) -> bool {
        self.mechanics.plastic()
    }

    /// Makes the last solve's plastic history the committed state, from which the next solve
    /// (at the next composition on the loading path) returns. Idempotent at one state: a state
    /// solved again from its own history returns to the same stress.
    pub fn commit(&mut self) {
        if let Some(pl) = self.nonlinear.as_mut() {
            pl.committed.copy_from_slice(&pl.history);
        }
    }

    /// The unit c-axis at voxel i.
    #[inline]
    pub fn axis_at(&self, i: usize) -> [f64; 3] {
        self.axis.as_ref().map_or([0.0, 0.0, 1.0], |a| a[i])
    }

    /// The eigenstrain as six fields.
    fn eigen_fields(&self) -> Tensor {
        std::array::from_fn(|k| self.local.par_iter().map(|l| l.eigen[k]).collect())
    }

    /// Solves for the strain at the current c; returns (iterations, relative residual).
    pub fn solve(&mut self, fft: &mut Fft) -> Result<(u64, f64)> {
        let out = match (self.mechanics.solver, self.nonlinear.is_some()) {
            (_, true) => self.solve_nonlinear(fft),
            (SolverKind::Cg, false) => self.solve_cg(fft),
            (SolverKind::FixedPoint, false) => self.solve_fixed_point(fft),
        }?;
        self.last_iterations = out.0;
        self.last_residual = out.1;
        Ok(out)
    }

    fn dot(&self, a: &Tensor, b: &Tensor) -> f64 {
        (0..6)
            .map(|k| {
                WEIGHT[k]
                    * a[k]
                        .par_iter()
                        .zip(b[k].par_iter())
                        .map(|(x, y)| x * y)
                        .sum::<f64>()
            })
            .sum()
    }

    /// q = P[C : p], C the elastic stiffness, or the plastic solve's consistent tangent once it
    /// has one.
    fn apply(&mut self, fft: &mut Fft) {
        self.apply_with(fft, false);
    }

    /// q = P[C : p] (`tangent`: the consistent tangent of the last return mapping).
    fn apply_with(&mut self, fft: &mut Fft, tangent: bool) {
        let mut out = std::mem::take(&mut self.q);
        {
            let (local, p) = (&self.local, &self.p);
            let tangent = self
                .nonlinear
                .as_ref()
                .filter(|_| tangent)
                .map(|pl| (pl.tangent.as_slice(), pl.split.as_slice()));
            let [o0, o1, o2, o3, o4, o5] = &mut out;
            o0.par_iter_mut()
                .zip(o1.par_iter_mut())
                .zip(
                    o2.par_iter_mut()
                        .zip(o3.par_iter_mut())
                        .zip(o4.par_iter_mut().zip(o5.par_iter_mut())),
                )
                .enumerate()
                .for_each(|(i, ((a0, a1), ((a2, a3), (a4, a5))))| {
                    let v: [f64; 6] = std::array::from_fn(|k| p[k][i]);
                    let s = match tangent {
                        // A laminate voxel applies its split's tangent.
                        Some((t, split)) => match &split[i] {
                            Some(sp) => laminate::apply(&sp.tangent, v),
                            None => t[i].apply(v),
                        },
                        None => hooke(local[i].lambda, local[i].mu, v),
                    };
                    (*a0, *a1, *a2, *a3, *a4, *a5) = (s[0], s[1], s[2], s[3], s[4], s[5]);
                });
        }
        self.project(fft, &mut out);
        self.q = out;
    }

    /// In place: v ← P[v].
    fn project(&mut self, fft: &mut Fft, v: &mut Tensor) {
        let n = v[0].len() as f64;
        for k in 0..6 {
            if self.spectral[k] {
                fft.forward(&v[k], &mut self.spectra[k]);
            }
        }
        let sp = fft.spectrum;
        let grid = &self.grid;
        let spectral = self.spectral;
        let free = self.free;
        let [s0, s1, s2, s3, s4, s5] = &mut self.spectra;
        let plane = sp.n[1] * sp.n[2];
        s0.par_chunks_mut(plane)
            .zip(s1.par_chunks_mut(plane))
            .zip(
                s2.par_chunks_mut(plane)
                    .zip(s3.par_chunks_mut(plane))
                    .zip(s4.par_chunks_mut(plane).zip(s5.par_chunks_mut(plane))),
            )
            .enumerate()
            .for_each(|(kx, ((c0, c1), ((c2, c3), (c4, c5))))| {
                for ky in 0..sp.n[1] {
                    for kz in 0..sp.n[2] {
                        let j = ky * sp.n[2] + kz;
                        let t = [c0[j], c1[j], c2[j], c3[j], c4[j], c5[j]];
                        let g = if kx == 0 && ky == 0 && kz == 0 {
                            std::array::from_fn(
                                |k| if free[k] { t[k] } else { Complex64::default() },
                            )
                        } else {
                            let xi = [
                                grid.derivative_wavenumber(0, kx),
                                grid.derivative_wavenumber(1, ky),
                                grid.derivative_wavenumber(2, kz),
                            ];
                            compatible_part(t, xi)
                        };
                        let mut g = g;
                        for k in 0..6 {
                            if !spectral[k] {
                                g[k] = Complex64::default();
                            }
                        }
                        (c0[j], c1[j], c2[j], c3[j], c4[j], c5[j]) =
                            (g[0], g[1], g[2], g[3], g[4], g[5]);
                    }
                }
            });
        for k in 0..6 {
            if self.spectral[k] {
                fft.inverse(&mut self.spectra[k], &mut v[k]);
            } else {
                let mean = if self.free[k] {
                    v[k].par_iter().sum::<f64>() / n
                } else {
                    0.0
                };
                v[k].par_iter_mut().for_each(|x| *x = mean);
            }
        }
    }

    fn solve_cg(&mut self, fft: &mut Fft) -> Result<(u64, f64)> {
        let n = self.local.len();
        // b = P[C : ε*] sets the scale of the residual.
        self.p = self.eigen_fields();
        self.apply(fft);
        let bnorm = self.dot(&self.q, &self.q).sqrt();
        if bnorm == 0.0 {
            self.strain = zeros(n);
            return Ok((0, 0.0));
        }
        // r = P[C : (ε* − ε)] from the warm start.
        for k in 0..6 {
            let (local, s) = (&self.local, &self.strain[k]);
            self.p[k]
                .par_iter_mut()
                .enumerate()
                .zip(s.par_iter())
                .for_each(|((i, p), s)| *p = local[i].eigen[k] - s);
        }
        self.apply(fft);
        self.r = self.q.clone();
        let mut strain = std::mem::take(&mut self.strain);
        let out =
            self.conjugate_gradients(fft, &mut strain, false, self.mechanics.tolerance, bnorm);
        self.strain = strain;
        out
    }

    /// Conjugate gradients on `P[C : x] = b` from x, `self.r` holding `b − P[C : x]` on entry
    /// (C the elastic stiffness, or with `tangent` the plastic solve's consistent tangent),
    /// until `‖r‖ ≤ tol · scale`; returns the iterations and `‖r‖/scale`.
    fn conjugate_gradients(
        &mut self,
        fft: &mut Fft,
        x: &mut Tensor,
        tangent: bool,
        tol: f64,
        scale: f64,
    ) -> Result<(u64, f64)> {
        self.p = self.r.clone();
        let mut rr = self.dot(&self.r, &self.r);
        let mut it = 0;
        while rr.sqrt() > tol * scale {
            if it >= self.mechanics.max_iterations {
                return Err(self.not_converged(it, rr.sqrt() / scale));
            }
            it += 1;
            self.apply_with(fft, tangent);
            let pq = self.dot(&self.p, &self.q);
            if pq <= 0.0 || !pq.is_finite() {
                return Err(self.not_converged(it, rr.sqrt() / scale));
            }
            let alpha = rr / pq;
            for k in 0..6 {
                let (p, q) = (&self.p[k], &self.q[k]);
                x[k].par_iter_mut()
                    .zip(p.par_iter())
                    .for_each(|(x, p)| *x += alpha * p);
                self.r[k]
                    .par_iter_mut()
                    .zip(q.par_iter())
                    .for_each(|(r, q)| *r -= alpha * q);
            }
            let rr_new = self.dot(&self.r, &self.r);
            let beta = rr_new / rr;
            rr = rr_new;
            for k in 0..6 {
                let r = &self.r[k];
                self.p[k]
                    .par_iter_mut()
                    .zip(r.par_iter())
                    .for_each(|(p, r)| *p = r + beta * *p);
            }
        }
        Ok((it, rr.sqrt() / scale))
    }

    /// The return mapping at every voxel for the current strain from the committed history:
    /// stress, tangent and trial history into the plastic state (elastic voxels: Hooke).
    fn return_map(&mut self) {
        let (local, strain, layering) = (&self.local, &self.strain, &self.layering);
        let (le, me) = self.electrolyte;
        let soft_tangent = laminate::stiffness(|v| hooke(le, me, v));
        let pl = self.nonlinear.as_mut().expect("a nonlinear solve");
        let committed = &pl.committed;
        let material = &pl.material;
        pl.stress
            .par_iter_mut()
            .zip(pl.tangent.par_iter_mut().zip(pl.history.par_iter_mut()))
            .zip(pl.split.par_iter_mut())
            .enumerate()
            .for_each(|(i, ((stress, (tangent, history)), split))| {
                let total: Voigt = std::array::from_fn(|k| strain[k][i]);
                let Some(lay) = layering_at(layering, i) else {
                    let l = &local[i];
                    let e: Voigt = std::array::from_fn(|k| total[k] - l.eigen[k]);
                    (*stress, *tangent, *history) = constitutive(material[i], l, e, &committed[i]);
                    return;
                };
                // The solid part's law at its own strain ε_s, its own eigenstrain undiluted;
                // the electrolyte's, Hooke's.
                let solid = solid_part(&local[i], &lay, (le, me));
                let law = |es: Voigt| {
                    let e: Voigt = std::array::from_fn(|k| es[k] - solid.eigen[k]);
                    let (s, t, _) = constitutive(material[i], &solid, e, &committed[i]);
                    (s, laminate::stiffness(|v| t.apply(v)))
                };
                let soft = |e: Voigt| (hooke(le, me, e), soft_tangent);
                let guess = split.as_ref().map_or([0.0; 3], |s| s.jump);
                let sp = lay.split(total, guess, law, soft);
                let e: Voigt = std::array::from_fn(|k| sp.first.strain[k] - solid.eigen[k]);
                let (_, t, h) = constitutive(material[i], &solid, e, &committed[i]);
                (*stress, *tangent, *history) = (sp.stress, t, h);
                match split {
                    Some(b) => **b = sp,
                    None => *split = Some(Box::new(sp)),
                }
            });
    }

    /// Newton's method on `P[σ(ε)] = 0` with J2 plasticity: each correction δ solves
    /// `P[C_t : δ] = −P[σ]` by conjugate gradients from zero, to a relative tolerance that
    /// tightens with the residual (an inexact Newton method, quadratic once the forcing is
    /// below the residual). The residual is measured against `‖P[C : (ε* + ε_p)]‖`, the load of
    /// the incompatible strains, and the solve stops below `mechanics.tolerance` of it. Returns
    /// the CG iterations summed over the Newton iterations, and the relative residual.
    fn solve_nonlinear(&mut self, fft: &mut Fft) -> Result<(u64, f64)> {
        let n = self.local.len();
        let committed: Vec<Voigt> = self
            .nonlinear
            .as_ref()
            .expect("a nonlinear solve")
            .committed
            .iter()
            .map(|h| h.plastic_strain)
            .collect();
        self.p = std::array::from_fn(|k| {
            self.local
                .par_iter()
                .zip(committed.par_iter())
                .map(|(l, p)| l.eigen[k] + p[k])
                .collect()
        });
        self.apply(fft);
        let scale = self.dot(&self.q, &self.q).sqrt();
        if scale == 0.0 {
            self.strain = zeros(n);
            self.return_map();
            return Ok((0, 0.0));
        }
        let tol = self.mechanics.tolerance * scale;
        let mut cg_total = 0;
        let mut newton = 0;
        self.newton_residuals.clear();
        self.newton_floored.clear();
        let mut norm = self.newton_residual(fft);
        let solved = self.strain.clone();
        let trace: Vec<f64> = self
            .local
            .par_iter()
            .map(|l| l.eigen[0] + l.eigen[1] + l.eigen[2])
            .collect();
        if let Some(predicted) = self.predicted_strain(&trace) {
            // Kept only where it starts Newton closer to equilibrium than the last state does.
            let last = std::mem::replace(&mut self.strain, predicted);
            let from_prediction = self.newton_residual(fft);
            if from_prediction < norm {
                norm = from_prediction;
            } else {
                self.strain = last;
                norm = self.newton_residual(fft);
            }
        }
        let nl = self.nonlinear.as_mut().expect("a nonlinear solve");
        let last_trace = std::mem::replace(&mut nl.trace, trace);
        if !last_trace.is_empty() {
            nl.before = Some((solved, last_trace));
        }
        loop {
            self.newton_residuals.push(norm / scale);
            if norm <= tol {
                return Ok((cg_total, norm / scale));
            }
            if newton >= MAX_NEWTON {
                return Err(self.not_converged(cg_total, norm / scale));
            }
            newton += 1;
            // The residual itself (quadratic convergence), but never tighter than a tenth of
            // what brings the residual to its tolerance in this iteration.
            let quadratic = (norm / scale).clamp(1e-10, 1e-2);
            let forcing = quadratic.max(0.1 * tol / norm).min(1e-2);
            self.newton_floored.push(forcing > quadratic);
            let mut correction = std::mem::take(
                &mut self
                    .nonlinear
                    .as_mut()
                    .expect("a nonlinear solve")
                    .correction,
            );
            correction
                .iter_mut()
                .for_each(|v| v.par_iter_mut().for_each(|d| *d = 0.0));
            let result = self.conjugate_gradients(fft, &mut correction, true, forcing, norm);
            // The full step first, halved while it raises the residual: far from the solution
            // (a load step that moves the plastic zone) an undamped step can overshoot into a
            // state whose yielded voxels leave the tangent nearly singular, and the next
            // Newton iterations diverge.
            let mut step = 1.0;
            self.add_to_strain(&correction, step);
            let mut next = self.newton_residual(fft);
            for _ in 0..MAX_BACKTRACK {
                if next <= norm {
                    break;
                }
                step *= 0.5;
                self.add_to_strain(&correction, -step);
                next = self.newton_residual(fft);
            }
            norm = next;
            self.nonlinear
                .as_mut()
                .expect("a nonlinear solve")
                .correction = correction;
            cg_total += result?.0;
        }
    }

    /// The start of the next nonlinear solve extrapolated from the last two solved states,
    /// `ε + θ (ε − ε_before)`: θ fits the change of tr ε* since the last state to its change
    /// over the step before (least squares over the voxels, within [0, 4]), `trace` the present
    /// tr ε*. `None` before two states are solved, or where ε* has not moved.
    fn predicted_strain(&self, trace: &[f64]) -> Option<Tensor> {
        let nl = self.nonlinear.as_ref()?;
        let (before, trace_before) = nl.before.as_ref()?;
        let (num, den) = trace
            .par_iter()
            .zip(nl.trace.par_iter().zip(trace_before.par_iter()))
            .map(|(now, (t1, t0))| ((now - t1) * (t1 - t0), (t1 - t0) * (t1 - t0)))
            .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        if !(den > 0.0 && num > 0.0) {
            return None;
        }
        let theta = (num / den).min(4.0);
        Some(std::array::from_fn(|k| {
            self.strain[k]
                .par_iter()
                .zip(before[k].par_iter())
                .map(|(e, b)| e + theta * (e - b))
                .collect()
        }))
    }

    /// ε += f · d.
    fn add_to_strain(&mut self, d: &Tensor, f: f64) {
        for k in 0..6 {
            self.strain[k]
                .par_iter_mut()
                .zip(d[k].par_iter())
                .for_each(|(e, d)| *e += f * d);
        }
    }

    /// The return mapping at the current strain, then `self.r = −P[σ]`; returns ‖r‖.
    fn newton_residual(&mut self, fft: &mut Fft) -> f64 {
        self.return_map();
        let mut r = std::mem::take(&mut self.r);
        {
            let stress = &self.nonlinear.as_ref().expect("a nonlinear solve").stress;
            for (k, rk) in r.iter_mut().enumerate() {
                rk.par_iter_mut()
                    .zip(stress.par_iter())
                    .for_each(|(v, s)| *v = -s[k]);
            }
        }
        self.project(fft, &mut r);
        self.r = r;
        self.dot(&self.r, &self.r).sqrt()
    }

    /// Moulinec–Suquet: ε ← ε − Γ⁰[σ(ε)] with the reference medium halfway between the
    /// stiffest and softest voxel; the mean of free components follows C⁰⁻¹⟨σ⟩.
    fn solve_fixed_point(&mut self, fft: &mut Fft) -> Result<(u64, f64)> {
        let n = self.local.len();
        let lambda: Vec<f64> = self.local.par_iter().map(|l| l.lambda).collect();
        let mu: Vec<f64> = self.local.par_iter().map(|l| l.mu).collect();
        let (lmin, lmax) = minmax(&lambda);
        let (mmin, mmax) = minmax(&mu);
        let (l0, m0) = (0.5 * (lmin + lmax), 0.5 * (mmin + mmax));
        self.p = self.eigen_fields();
        self.apply(fft);
        let bnorm = self.dot(&self.q, &self.q).sqrt();
        if bnorm == 0.0 {
            self.strain = zeros(n);
            return Ok((0, 0.0));
        }
        let mut it = 0;
        loop {
            // σ(ε), its equilibrium residual ‖P σ‖, and the Γ⁰ update, from one set of spectra.
            let mut sigma = zeros(n);
            {
                let this = &*self;
                let [o0, o1, o2, o3, o4, o5] = &mut sigma;
                o0.par_iter_mut()
                    .zip(o1.par_iter_mut())
                    .zip(
                        o2.par_iter_mut()
                            .zip(o3.par_iter_mut())
                            .zip(o4.par_iter_mut().zip(o5.par_iter_mut())),
                    )
                    .enumerate()
                    .for_each(|(i, ((a0, a1), ((a2, a3), (a4, a5))))| {
                        let s = this.stress_at(i);
                        (*a0, *a1, *a2, *a3, *a4, *a5) = (s[0], s[1], s[2], s[3], s[4], s[5]);
                    });
            }
            let mut residual = sigma.clone();
            self.project(fft, &mut residual);
            let res = self.dot(&residual, &residual).sqrt() / bnorm;
            if res <= self.mechanics.tolerance {
                return Ok((it, res));
            }
            if it >= self.mechanics.max_iterations || !res.is_finite() {
                return Err(self.not_converged(it, res));
            }
            it += 1;
            self.gamma0_update(fft, &mut sigma, l0, m0);
            for (k, d) in sigma.iter().enumerate() {
                self.strain[k]
                    .par_iter_mut()
                    .zip(d.par_iter())
                    .for_each(|(e, d)| *e -= d);
            }
        }
    }

    /// In place: σ ← Γ⁰[σ] for k ≠ 0 and C⁰⁻¹⟨σ⟩ on the free mean components.
    fn gamma0_update(&mut self, fft: &mut Fft, sigma: &mut Tensor, l0: f64, m0: f64) {
        let n = sigma[0].len() as f64;
        let means: [f64; 6] = std::array::from_fn(|k| sigma[k].par_iter().sum::<f64>() / n);
        let mean_update = mean_update(means, self.free, l0, m0);
        for k in 0..6 {
            if self.spectral[k] {
                fft.forward(&sigma[k], &mut self.spectra[k]);
            }
        }
        let sp = fft.spectrum;
        let grid = &self.grid;
        let [s0, s1, s2, s3, s4, s5] = &mut self.spectra;
        let plane = sp.n[1] * sp.n[2];
        s0.par_chunks_mut(plane)
            .zip(s1.par_chunks_mut(plane))
            .zip(
                s2.par_chunks_mut(plane)
                    .zip(s3.par_chunks_mut(plane))
                    .zip(s4.par_chunks_mut(plane).zip(s5.par_chunks_mut(plane))),
            )
            .enumerate()
            .for_each(|(kx, ((c0, c1), ((c2, c3), (c4, c5))))| {
                for ky in 0..sp.n[1] {
                    for kz in 0..sp.n[2] {
                        let j = ky * sp.n[2] + kz;
                        let xi = [
                            grid.derivative_wavenumber(0, kx),
                            grid.derivative_wavenumber(1, ky),
                            grid.derivative_wavenumber(2, kz),
                        ];
                        let t = [c0[j], c1[j], c2[j], c3[j], c4[j], c5[j]];
                        let g = gamma0(t, xi, l0, m0);
                        (c0[j], c1[j], c2[j], c3[j], c4[j], c5[j]) =
                            (g[0], g[1], g[2], g[3], g[4], g[5]);
                    }
                }
            });
        for k in 0..6 {
            if self.spectral[k] {
                fft.inverse(&mut self.spectra[k], &mut sigma[k]);
            } else {
                sigma[k].par_iter_mut().for_each(|x| *x = 0.0);
            }
            let m = mean_update[k];
            sigma[k].par_iter_mut().for_each(|x| *x += m);
        }
    }

    fn not_converged(&self, it: u64, res: f64) -> Error {
        Error::ElasticNotConverged {
            iterations: it,
            residual: res,
            tolerance: self.mechanics.tolerance,
        }
    }

    /// Mean of each strain component.
    pub fn mean_strain(&self) -> [f64; 6] {
        let n = self.strain[0].len() as f64;
        std::array::from_fn(|k| self.strain[k].par_iter().sum::<f64>() / n)
    }
}

/// Stiffness and eigenstrain of one voxel at the current c.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Local {
    pub lambda: f64,
    pub mu: f64,
    /// ∂λ/∂c and ∂μ/∂c.
    pub dlambda: f64,
    pub dmu: f64,
    /// ε* = Σ φ_m B_m (c − c_ref,m).
    pub eigen: [f64; 6],
    /// ∂ε*/∂c = Σ φ_m B_m.
    pub deigen: [f64; 6],
}

/// The J2 data of voxel i at composition c: its materials that flow, mixed by φ (yield stress
/// and hardening), when they hold more than half of its solid (the electrolyte, a soft pore
/// filler, does not count); its elastic moduli the voxel's own. `None`: the voxel stays elastic.
fn voxel_j2(
    mats: &[crate::problem::MechMaterial],
    phi: &[Vec<f64>],
    electrolyte: Option<usize>,
    i: usize,
    c: f64,
    local: &Local,
) -> Option<J2> {
    let (mut solid, mut flowing, mut yield_stress, mut hardening) = (0.0, 0.0, 0.0, 0.0);
    for (m, mat) in mats.iter().enumerate() {
        let f = phi[m][i];
        if f == 0.0 || Some(m) == electrolyte {
            continue;
        }
        solid += f;
        if let Some(pl) = &mat.plastic {
            flowing += f;
            yield_stress += f * (pl.yield0 + pl.dyield * c);
            hardening += f * pl.hardening;
        }
    }
    (flowing > 0.5 * solid && flowing > 0.0).then(|| J2 {
        bulk: local.lambda + 2.0 * local.mu / 3.0,
        shear: local.mu,
        yield_stress: yield_stress / flowing,
        hardening: hardening / flowing,
    })
}

/// The stress, tangent and history of elastic strain `e` (total minus eigenstrain) under a
/// voxel's (or a solid part's) law: J2's return mapping from `old` where it flows, Hooke
/// otherwise.
fn constitutive(j2: Option<J2>, l: &Local, e: Voigt, old: &History) -> (Voigt, Tangent, History) {
    match j2 {
        Some(m) => {
            let u = m.return_map(e, old);
            (u.stress, u.tangent, u.history)
        }
        None => (
            hooke(l.lambda, l.mu, e),
            Tangent {
                bulk: l.lambda + 2.0 * l.mu / 3.0,
                shear2: 2.0 * l.mu,
                rank_one: 0.0,
                normal: [0.0; 6],
            },
            History::default(),
        ),
    }
}

/// Voxel i's layering, where it is a laminate voxel.
#[inline]
fn layering_at(layering: &[Option<Layering>], i: usize) -> Option<Layering> {
    layering.get(i).copied().flatten()
}

/// What the solid of a voxel sees: a laminate voxel's solid part (`solid_part`), else the
/// voxel itself.
#[inline]
fn solid_of(l: &Local, layering: Option<Layering>, electrolyte: (f64, f64)) -> Local {
    layering.map_or(*l, |lay| solid_part(l, &lay, electrolyte))
}

/// A laminate voxel's solid part per unit of its own volume: the voxel's moduli less the
/// electrolyte's share, its eigenstrain and their c-derivatives (the electrolyte has neither)
/// over φ_s.
fn solid_part(l: &Local, lay: &Layering, electrolyte: (f64, f64)) -> Local {
    let (fs, fe) = (lay.first, 1.0 - lay.first);
    Local {
        lambda: (l.lambda - fe * electrolyte.0) / fs,
        mu: (l.mu - fe * electrolyte.1) / fs,
        dlambda: l.dlambda / fs,
        dmu: l.dmu / fs,
        eigen: l.eigen.map(|v| v / fs),
        deigen: l.deigen.map(|v| v / fs),
    }
}

/// Under `mechanics.mixing = "laminate"`, each voxel that holds both solid and electrolyte is
/// layered across the electrolyte's gradient (central differences on the periodic grid; a
/// voxel with none stays Voigt). Empty under Voigt mixing or without an electrolyte.
fn layerings(problem: &Problem, mechanics: &Mechanics, phi: &[Vec<f64>]) -> Vec<Option<Layering>> {
    let Some(e) = mechanics.electrolyte else {
        return Vec::new();
    };
    if mechanics.mixing != crate::config::Mixing::Laminate {
        return Vec::new();
    }
    let grid = &problem.grid;
    let [nx, ny, nz] = grid.n;
    let pe = &phi[e];
    (0..grid.len())
        .into_par_iter()
        .map(|i| {
            let f = pe[i];
            if !(f > 0.0 && f < 1.0) {
                return None;
            }
            let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
            let derivative = |axis: usize| {
                let (n, h) = (grid.n[axis], grid.spacing[axis]);
                if n == 1 {
                    return 0.0;
                }
                let at = |d: usize| {
                    let mut p = [x, y, z];
                    p[axis] = (p[axis] + d) % n;
                    pe[grid.index(p[0], p[1], p[2])]
                };
                (at(1) - at(n - 1)) / (2.0 * h)
            };
            let g = [
                derivative(0),
                derivative(1),
                if nz > 1 { derivative(2) } else { 0.0 },
            ];
            let size = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            (size > 0.0).then(|| Layering {
                first: 1.0 - f,
                normal: g.map(|v| v / size),
            })
        })
        .collect()
}

/// Isotropic Hooke's law on tensor Voigt components.
#[inline]
pub fn hooke(lambda: f64, mu: f64, e: [f64; 6]) -> [f64; 6] {
    let tr = e[0] + e[1] + e[2];
    [
        lambda * tr + 2.0 * mu * e[0],
        lambda * tr + 2.0 * mu * e[1],
        lambda * tr + 2.0 * mu * e[2],
        2.0 * mu * e[3],
        2.0 * mu * e[4],
        2.0 * mu * e[5],
    ]
}

/// `B = a I + (c − a) n⊗n` in Voigt components.
#[inline]
pub fn expansion_tensor(a: f64, c: f64, n: [f64; 3]) -> [f64; 6] {
    let d = c - a;
    std::array::from_fn(|k| {
        let (i, j) = PAIRS[k];
        (if i == j { a } else { 0.0 }) + d * n[i] * n[j]
    })
}

/// τ·ξ for a symmetric tensor in Voigt components.
#[inline]
fn tensor_dot(t: [Complex64; 6], xi: [f64; 3]) -> [Complex64; 3] {
    std::array::from_fn(|i| (0..3).map(|j| t[VOIGT[i][j]] * xi[j]).sum())
}

/// The compatible part `G(τ) = 2 sym(ξ⊗τξ) − (ξ·τ·ξ) ξ⊗ξ` of τ at wavevector k (zero where the
/// derivative wavevector vanishes: Nyquist modes carry no compatible strain).
#[inline]
pub fn compatible_part(t: [Complex64; 6], k: [f64; 3]) -> [Complex64; 6] {
    let k2 = k[0] * k[0] + k[1] * k[1] + k[2] * k[2];
    if k2 == 0.0 {
        return [Complex64::default(); 6];
    }
    let xi = k.map(|v| v / k2.sqrt());
    let v = tensor_dot(t, xi);
    let s = v[0] * xi[0] + v[1] * xi[1] + v[2] * xi[2];
    std::array::from_fn(|m| {
        let (i, j) = PAIRS[m];
        xi[i] * v[j] + xi[j] * v[i] - s * (xi[i] * xi[j])
    })
}

/// The Moulinec–Suquet Green operator of the isotropic reference medium (l0, m0) on τ at
/// wavevector k, `(ξ⊗τξ + τξ⊗ξ)/(2 m0) − (ξ·τ·ξ) (l0 + m0)/(m0 (l0 + 2 m0)) ξ⊗ξ` (zero where
/// the derivative wavevector vanishes: k = 0 and Nyquist modes). Mirror of `gamma0` in
/// elasticity.wgsl at k ≠ 0.
#[inline]
pub fn gamma0(t: [Complex64; 6], k: [f64; 3], l0: f64, m0: f64) -> [Complex64; 6] {
    let k2 = k[0] * k[0] + k[1] * k[1] + k[2] * k[2];
    if k2 == 0.0 {
        return [Complex64::default(); 6];
    }
    let c = (l0 + m0) / (m0 * (l0 + 2.0 * m0));
    let xi = k.map(|v| v / k2.sqrt());
    let v = tensor_dot(t, xi);
    let s = v[0] * xi[0] + v[1] * xi[1] + v[2] * xi[2];
    std::array::from_fn(|m| {
        let (i, j) = PAIRS[m];
        (xi[i] * v[j] + xi[j] * v[i]) / (2.0 * m0) - s * (c * xi[i] * xi[j])
    })
}

/// The fixed point's move of the free mean components, `C⁰_ff⁻¹⟨σ⟩_f`: the reference stiffness
/// restricted to them, so that mixed conditions (a held component beside free ones) converge
/// to ⟨σ⟩_f = 0 rather than to the full compliance's fixed point; zero on the held ones.
/// Mirror of `mean_update` in elasticity.wgsl (which writes the same inverse in closed form).
pub fn mean_update(means: [f64; 6], free: [bool; 6], l0: f64, m0: f64) -> [f64; 6] {
    let mut update = [0.0; 6];
    for k in 3..6 {
        if free[k] {
            update[k] = means[k] / (2.0 * m0);
        }
    }
    let normal: Vec<usize> = (0..3).filter(|&k| free[k]).collect();
    let mut a = [[0.0; 3]; 3];
    let mut rhs = [0.0; 3];
    for (r, &i) in normal.iter().enumerate() {
        rhs[r] = means[i];
        for (s, &j) in normal.iter().enumerate() {
            a[r][s] = l0 + if i == j { 2.0 * m0 } else { 0.0 };
        }
    }
    let x = solve_small(&a, &rhs, normal.len());
    for (r, &i) in normal.iter().enumerate() {
        update[i] = x[r];
    }
    update
}

/// Solves the leading `n × n` block of `a x = b` (n ≤ 3) by Gaussian elimination; the block is
/// symmetric positive definite (an isotropic stiffness restricted to some normal components).
fn solve_small(a: &[[f64; 3]; 3], b: &[f64; 3], n: usize) -> [f64; 3] {
    let mut m = *a;
    let mut x = *b;
    for p in 0..n {
        for r in p + 1..n {
            let f = m[r][p] / m[p][p];
            for c in p..n {
                m[r][c] -= f * m[p][c];
            }
            x[r] -= f * x[p];
        }
    }
    for p in (0..n).rev() {
        for c in p + 1..n {
            x[p] -= m[p][c] * x[c];
        }
        x[p] /= m[p][p];
    }
    x
}

/// Mirror of `range_partial` in elasticity.wgsl (a black-box pair: a rayon reduction here).
fn minmax(v: &[f64]) -> (f64, f64) {
    v.par_iter()
        .fold(
            || (f64::INFINITY, f64::NEG_INFINITY),
            |(a, b), &x| (a.min(x), b.max(x)),
        )
        .reduce(
            || (f64::INFINITY, f64::NEG_INFINITY),
            |x, y| (x.0.min(y.0), x.1.max(y.1)),
        )
}

/// Von Mises stress of a Voigt stress.
#[inline]
pub fn von_mises(s: [f64; 6]) -> f64 {
    (0.5 * ((s[0] - s[1]).powi(2) + (s[1] - s[2]).powi(2) + (s[2] - s[0]).powi(2))
        + 3.0 * (s[3] * s[3] + s[4] * s[4] + s[5] * s[5]))
        .sqrt()
}

/// det(I + ε) − 1 of a Voigt strain: the exact volume change for the displacement gradient's
/// symmetric part (model.md §5).
#[inline]
pub fn volume_change(e: [f64; 6]) -> f64 {
    let (a, b, c) = (1.0 + e[0], 1.0 + e[1], 1.0 + e[2]);
    a * b * c + 2.0 * e[3] * e[4] * e[5] - a * e[3] * e[3] - b * e[4] * e[4] - c * e[5] * e[5] - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// G is a projection (G² = G) and keeps compatible strains sym(ξ⊗v).
    #[test]
    fn compatible_part_is_a_projection() {
        let k = [0.3, -1.1, 0.7];
        let t: [Complex64; 6] =
            std::array::from_fn(|i| Complex64::new(0.1 * i as f64 + 0.3, 0.05 * (i * i) as f64));
        let g = compatible_part(t, k);
        let gg = compatible_part(g, k);
        for i in 0..6 {
            assert!((g[i] - gg[i]).norm() < 1e-14);
        }
        let v = [
            Complex64::new(1.0, 0.5),
            Complex64::new(-0.2, 0.1),
            Complex64::new(0.4, 0.0),
        ];
        let compat: [Complex64; 6] = std::array::from_fn(|m| {
            let (i, j) = PAIRS[m];
            (v[i] * k[j] + v[j] * k[i]) * 0.5
        });
        let back = compatible_part(compat, k);
        for i in 0..6 {
            assert!((back[i] - compat[i]).norm() < 1e-14);
        }
    }

    #[test]
    fn volume_change_of_isotropic_expansion() {
        let b = 0.7325;
        let v = volume_change([b, b, b, 0.0, 0.0, 0.0]);
        assert!((v - ((1.0 + b).powi(3) - 1.0)).abs() < 1e-12);
    }
}
