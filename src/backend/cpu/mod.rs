//! `CpuBackend`: the f64 reference (rustfft + rayon). Its kernels live in files named after
//! the WGSL families they will mirror; `fft` and `reduce` are honest exceptions (library FFT,
//! rayon sums) and are tested as black boxes.

pub mod cahn_hilliard;
pub mod chemistry;
pub mod convex_split;
pub mod elasticity;
pub mod fft;
pub mod krylov;
pub mod multigrid;
pub mod reduce;

use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use self::cahn_hilliard::Wavenumbers;
use self::convex_split::{ConvexSplit, Coupling, Outcome, Reaction, Target};
use self::elasticity::{Elasticity, WEIGHT, hooke, von_mises};
use self::fft::Fft;
use crate::backend::{Backend, BackendKind, Observables, StepReport};
use crate::config::DriveMode;
use crate::error::Result;
use crate::fields::{FieldName, Fields};
use crate::grid::Grid;
use crate::problem::{Chemistry, Drive, Problem};

/// The CPU backend: fields and workspaces in f64, allocated once.
pub struct CpuBackend {
    grid: Grid,
    chem: Chemistry,
    drive: Option<Drive>,
    /// φ_m per material, for per-material reductions.
    phi: Vec<Vec<f64>>,
    fft: Fft,
    k: Wavenumbers,
    c: Vec<f64>,
    c_hat: Vec<Complex64>,
    mu_hat: Vec<Complex64>,
    div_hat: Vec<Complex64>,
    work_hat: Vec<Complex64>,
    mu: Vec<f64>,
    /// The site-blocking mobility factor of this step (chemistry::site_mobility).
    mobility: Vec<f64>,
    work: Vec<f64>,
    elastic: Option<Elasticity>,
    /// The elastic state belongs to the current c.
    elastic_fresh: bool,
    /// μ_e of the last step (or the potentiostat's).
    mu_e: f64,
    /// The insertion coefficient of this step, r j(c) (chemistry::exchange_rate).
    rate: Vec<f64>,
    /// The convex-splitting step, where it runs (`Chemistry::faces`).
    split: Option<ConvexSplit>,
    /// Threads for this backend: one on small grids, where waking threads costs more than the
    /// work they share.
    pool: std::sync::Arc<rayon::ThreadPool>,
}

/// Grids smaller than this run on one thread.
const PARALLEL_VOXELS: usize = 1 << 15;

/// The threads a CPU computation on `n` voxels runs on: one on small grids, where waking
/// threads costs more than the work they share.
pub fn thread_pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(if n < PARALLEL_VOXELS {
            1
        } else {
            rayon::current_num_threads()
        })
        .build()
        .expect("a rayon thread pool")
}

impl CpuBackend {
    pub fn new(problem: &Problem) -> Self {
        let fft = Fft::new(problem.grid.n);
        let spectrum = fft.spectrum;
        let n = problem.grid.len();
        let zeros = || vec![Complex64::default(); spectrum.len()];
        CpuBackend {
            grid: problem.grid.clone(),
            chem: problem.chemistry.clone(),
            drive: problem.drive.clone(),
            phi: problem
                .microstructure
                .as_ref()
                .map(|m| m.phi.clone())
                .unwrap_or_default(),
            k: Wavenumbers::new(&problem.grid, &spectrum),
            fft,
            c: problem.initial_c.clone(),
            c_hat: zeros(),
            mu_hat: zeros(),
            div_hat: zeros(),
            work_hat: zeros(),
            mu: vec![0.0; n],
            mobility: vec![0.0; n],
            work: vec![0.0; n],
            elastic: problem
                .mechanics
                .as_ref()
                .map(|m| Elasticity::new(problem, m)),
            elastic_fresh: false,
            mu_e: problem.drive.as_ref().map_or(0.0, |d| d.mu_e),
            rate: Vec::new(),
            split: problem
                .chemistry
                .faces
                .as_ref()
                .map(|f| ConvexSplit::new(&problem.grid, &problem.chemistry, f)),
            pool: std::sync::Arc::new(thread_pool(n)),
        }
    }

    /// Solves mechanical equilibrium for the current c unless already done.
    fn ensure_elastic(&mut self) -> Result<(u64, f64)> {
        let Some(el) = self.elastic.as_mut() else {
            return Ok((0, 0.0));
        };
        if self.elastic_fresh {
            // Solved already (for an output at this c): report that solve.
            return Ok((el.last_iterations, el.last_residual));
        }
        el.update_material(&self.c);
        let out = el.solve(&mut self.fft)?;
        // Every composition solved is a state on the loading path: the plastic history
        // advances to it (each step solves its state once, `elastic_fresh`).
        el.commit();
        self.elastic_fresh = true;
        Ok(out)
    }

    /// ĉ = F(c) and μ into `self.mu` (model.md §4) for the spectral step: one site density
    /// filling the cell, so every voxel is solid.
    fn chemical_potential(&mut self) {
        let spectrum = self.fft.spectrum;
        self.fft.forward(&self.c, &mut self.c_hat);
        cahn_hilliard::laplacian(&spectrum, &self.k, &self.c_hat, &mut self.work_hat);
        self.fft.inverse(&mut self.work_hat, &mut self.work);
        chemistry::chemical_potential(
            &self.c,
            &self.work,
            &mut self.mu,
            &self.chem,
            self.elastic
                .as_ref()
                .filter(|e| e.mechanics.stress_coupling),
        );
    }
}

impl Backend for CpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn step(&mut self, dt: f64) -> Result<StepReport> {
        let pool = self.pool.clone();
        pool.install(|| self.step_inner(dt))
    }

    fn observe(&mut self) -> Result<Observables> {
        let pool = self.pool.clone();
        pool.install(|| self.observe_inner())
    }

    fn fields(&mut self, names: &[FieldName]) -> Result<Fields> {
        let pool = self.pool.clone();
        pool.install(|| self.fields_inner(names))
    }
}

impl CpuBackend {
    /// The convex-splitting step of `dt`, halved where Newton does not converge at it.
    fn step_convex(&mut self, dt: f64) -> Result<StepReport> {
        let start = self.c.clone();
        // Stress that does not act on μ is solved only when an output asks for it (observe,
        // fields): the chemistry does not need it. Plastic flow depends on the path, so a cell
        // that flows is solved at every step.
        let coupled = self
            .elastic
            .as_ref()
            .is_some_and(|e| e.mechanics.stress_coupling || e.is_plastic());
        let mut report = crate::convex_split::halving(dt, |h| {
            let elastic = if coupled {
                self.ensure_elastic()?
            } else {
                (0, 0.0)
            };
            let outcome = self.convex_once(h)?;
            if let Ok(out) = &outcome {
                if let Some(near) = &self.chem.nearest_solid {
                    extend(&mut self.c, near);
                }
                self.elastic_fresh = false;
                if let Some(me) = out.mu_e {
                    self.mu_e = me;
                }
            }
            Ok((elastic, outcome))
        })?;
        // The adaptive dt reads the whole step's change, not its sub-steps'.
        let chem = &self.chem;
        report.max_dc = (0..self.c.len())
            .filter(|&i| chem.is_solid(i))
            .map(|i| (self.c[i] - start[i]).abs())
            .fold(0.0, f64::max);
        report.non_finite = self.c.iter().filter(|v| !v.is_finite()).count() as u64;
        Ok(report)
    }

    /// Where the stress acts on μ: per solid voxel its term of μ and the convex-splitting
    /// step's stabiliser stiffness (elastic_potential, elastic_stiffness), 0 elsewhere.
    fn stress_terms(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let el = self
            .elastic
            .as_ref()
            .filter(|e| e.mechanics.stress_coupling)?;
        let chem = &self.chem;
        Some(
            (0..self.c.len())
                .into_par_iter()
                .map(|i| {
                    if chem.is_solid(i) {
                        let psi = chem.psi_at(i);
                        (elastic_potential(el, i, psi), elastic_stiffness(el, i, psi))
                    } else {
                        (0.0, 0.0)
                    }
                })
                .unzip(),
        )
    }

    /// One attempt at the convex-splitting step of `dt` from the current state.
    fn convex_once(
        &mut self,
        dt: f64,
    ) -> Result<std::result::Result<Outcome, convex_split::NotConverged>> {
        let elastic = self.stress_terms();
        let rho: Vec<f64>;
        let reaction = match &self.drive {
            None => None,
            Some(d) => {
                self.rate.resize(self.c.len(), 0.0);
                chemistry::exchange_rate(&self.c, &self.chem, &d.rate, d.exchange, &mut self.rate);
                rho = (0..self.c.len())
                    .map(|i| self.chem.psi_at(i) * self.rate[i])
                    .collect();
                let target = match d.mode {
                    DriveMode::Galvanostatic => {
                        if rho.iter().all(|&r| r <= 0.0) {
                            return Err(if d.rate.iter().all(|&r| r <= 0.0) {
                                crate::backend::no_surface()
                            } else {
                                crate::backend::exchange_exhausted()
                            });
                        }
                        Target::Current(d.current)
                    }
                    DriveMode::Potentiostatic => Target::Potential(d.mu_e),
                };
                Some(Reaction {
                    conductance: &rho,
                    target,
                    mu_e_guess: self.mu_e,
                })
            }
        };
        let split = self
            .split
            .as_mut()
            .expect("the convex-splitting step runs here");
        let coupling = elastic.as_ref().map(|(potential, stiffness)| Coupling {
            potential,
            stiffness,
        });
        Ok(split.step(&self.chem, &mut self.c, coupling, reaction, dt))
    }

    fn step_inner(&mut self, dt: f64) -> Result<StepReport> {
        if self.split.is_some() {
            return self.step_convex(dt);
        }
        // One site density and one diffusivity filling the cell: the flux divergence ∇·(m ∇μ)
        // in Fourier space, and the constant-coefficient filter is the exact inverse.
        debug_assert!(self.chem.psi.is_none(), "cells with pores have faces");
        let spectrum = self.fft.spectrum;
        let dim = self.grid.dim();
        let (elastic_iterations, elastic_residual) = self.ensure_elastic()?;
        self.chemical_potential();
        self.fft.forward(&self.mu, &mut self.mu_hat);
        chemistry::site_mobility(&self.c, &self.chem, &mut self.mobility);
        for axis in 0..dim {
            cahn_hilliard::gradient_component(
                &spectrum,
                &self.k,
                axis,
                &self.mu_hat,
                &mut self.work_hat,
            );
            self.fft.inverse(&mut self.work_hat, &mut self.work);
            cahn_hilliard::mobility_flux(&self.mobility, &mut self.work, self.chem.flux.as_deref());
            self.fft.forward(&self.work, &mut self.work_hat);
            cahn_hilliard::accumulate_divergence(
                &spectrum,
                &self.k,
                axis,
                &self.work_hat,
                &mut self.div_hat,
                axis == 0,
            );
        }
        let (stab, m) = (self.chem.stabilization, self.chem.mobility_max);
        let (kappa, s) = (self.chem.kappa, self.chem.stabilization_s);
        cahn_hilliard::filter_increment(
            &spectrum,
            &self.k,
            &mut self.div_hat,
            dt,
            stab * m,
            kappa,
            s,
        );
        self.fft.inverse(&mut self.div_hat, &mut self.work);
        self.work
            .par_iter_mut()
            .zip(self.c.par_iter())
            .for_each(|(w, c)| *w += c);
        let (max_dc, non_finite) = cahn_hilliard::commit(&mut self.c, &self.work, |_| true);
        self.elastic_fresh = false;
        Ok(StepReport {
            max_dc,
            non_finite,
            elastic_iterations,
            elastic_residual,
            ..StepReport::default()
        })
    }

    fn observe_inner(&mut self) -> Result<Observables> {
        if self.c.iter().any(|v| !v.is_finite()) {
            let bad = self.c.iter().filter(|v| !v.is_finite()).count() as u64;
            return Ok(reduce::non_finite(bad, self.phi.len()));
        }
        let stale = !self.elastic_fresh;
        let solve = self.ensure_elastic()?;
        if let Some(near) = &self.chem.nearest_solid {
            extend(&mut self.c, near);
        }
        let dv = self.grid.voxel_volume();
        let energy_gradient = match &self.split {
            Some(split) => split.gradient_energy(self.chem.kappa, &self.c),
            None => {
                self.fft.forward(&self.c, &mut self.c_hat);
                reduce::gradient_energy_parseval(
                    &self.c_hat,
                    &self.fft.spectrum,
                    &self.k,
                    self.chem.kappa,
                    dv,
                    self.c.len(),
                )
            }
        };
        let mut obs = reduce::observe_chemistry(&self.c, &self.chem, dv);
        obs.energy_gradient = energy_gradient;
        if let Some(el) = &self.elastic {
            reduce::observe_elasticity(&mut obs, el, &self.phi, &self.c, dv);
        }
        obs.materials =
            reduce::material_compositions(&self.c, &self.chem, &self.phi, obs.materials);
        if stale && self.elastic.is_some() && self.split.is_some() {
            obs.elastic_solve = Some(solve);
        }
        Ok(obs)
    }

    fn fields_inner(&mut self, names: &[FieldName]) -> Result<Fields> {
        let mut out = Fields::default();
        for &name in names {
            let values = match name {
                FieldName::C => self.c.clone(),
                FieldName::Mu if self.split.is_some() => {
                    self.ensure_elastic()?;
                    let stress = self.stress_terms();
                    let elastic = stress.as_ref().map(|(potential, _)| potential.as_slice());
                    let split = self.split.as_ref().expect("checked");
                    split.potential(&self.chem, &self.c, elastic, &mut self.mu);
                    if let Some(near) = &self.chem.nearest_solid {
                        extend(&mut self.mu, near);
                    }
                    self.mu.clone()
                }
                FieldName::Mu => {
                    self.ensure_elastic()?;
                    self.chemical_potential();
                    self.mu.clone()
                }
                FieldName::Strain(k) => {
                    self.ensure_elastic()?;
                    self.elastic
                        .as_ref()
                        .map_or_else(|| vec![0.0; self.c.len()], |el| el.strain[k].clone())
                }
                FieldName::Stress(k) => self.elastic_field(|el, i| el.stress_at(i)[k])?,
                FieldName::VolumetricStrain => {
                    self.elastic_field(|el, i| el.strain[0][i] + el.strain[1][i] + el.strain[2][i])?
                }
                FieldName::EquivalentPlasticStrain => {
                    self.elastic_field(|el, i| el.equivalent_plastic_strain_at(i))?
                }
                FieldName::VonMises => self.elastic_field(|el, i| von_mises(el.stress_at(i)))?,
            };
            out.0.push((name, values));
        }
        Ok(out)
    }
}

impl CpuBackend {
    /// A field of the elastic state at the current c, `value(el, i)` per voxel (zeros without
    /// mechanics).
    fn elastic_field(
        &mut self,
        value: impl Fn(&Elasticity, usize) -> f64 + Sync,
    ) -> Result<Vec<f64>> {
        self.ensure_elastic()?;
        Ok(self.elastic.as_ref().map_or_else(
            || vec![0.0; self.c.len()],
            |el| {
                (0..self.c.len())
                    .into_par_iter()
                    .map(|i| value(el, i))
                    .collect()
            },
        ))
    }
}

/// Copies every non-solid voxel's value from its nearest solid voxel (WGSL `gather_nearest`,
/// into a second buffer, then copied back).
pub fn extend(field: &mut [f64], nearest: &[u32]) {
    let src: Vec<f64> = nearest.par_iter().map(|&j| field[j as usize]).collect();
    field.copy_from_slice(&src);
}

/// Half the largest curvature of the elastic energy per site at voxel i, `½ A : C : A / ψ`
/// with A = ∂ε*/∂c and C at its stiffer end over c (λ + |∂λ/∂c|, μ + |∂μ/∂c|): the stiffness of
/// the convex-splitting step's stabiliser for the explicit stress term (convex_split.rs
/// `Coupling`). In a laminate voxel C is its solid part's, which carries all of A, so the
/// curvature is `A : C_s : A / φ_s`.
#[inline]
pub fn elastic_stiffness(el: &Elasticity, i: usize, psi: f64) -> f64 {
    let a = el.local[i].deigen;
    let s = el.solid_local(i);
    let ca = hooke(s.lambda + s.dlambda.abs(), s.mu + s.dmu.abs(), a);
    let aca: f64 = (0..6).map(|k| WEIGHT[k] * a[k] * ca[k]).sum();
    0.5 * aca / (el.solid_fraction(i) * psi)
}

/// The elastic part of μ at voxel i (model.md §4, §8), per site: `−σ : A / ψ + ½ e : C' : e / ψ`
/// with A = ∂ε*/∂c and C' = ∂C/∂c of the voxel, σ and e = ε − ε* − ε_p the stress and elastic
/// strain of its solid (a laminate voxel's solid part's, which alone swells and softens).
#[inline]
pub fn elastic_potential(el: &Elasticity, i: usize, psi: f64) -> f64 {
    let l = &el.local[i];
    let sigma = el.solid_stress_at(i);
    let e = el.solid_elastic_strain_at(i);
    let soft = hooke(l.dlambda, l.dmu, e);
    let mut s_a = 0.0;
    let mut e_soft = 0.0;
    for k in 0..6 {
        s_a += WEIGHT[k] * sigma[k] * l.deigen[k];
        e_soft += WEIGHT[k] * e[k] * soft[k];
    }
    (-s_a + 0.5 * e_soft) / psi
}
