//! `CpuBackend`: the f64 reference (rustfft + rayon). Its kernels live in files named after
//! the WGSL families they will mirror; `fft` and `reduce` are honest exceptions (library FFT,
//! rayon sums) and are tested as black boxes.

pub mod bounds;
pub mod cahn_hilliard;
pub mod chemistry;
pub mod convex_split;
pub mod elasticity;
pub mod fft;
mod implicit;
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
    /// Carriers then vacancies per voxel, for the upwind finite-volume faces.
    carriers: Vec<f64>,
    work: Vec<f64>,
    work2: Vec<f64>,
    elastic: Option<Elasticity>,
    /// The elastic state belongs to the current c.
    elastic_fresh: bool,
    /// μ_e of the last step (or the potentiostat's).
    mu_e: f64,
    /// Workspace of the implicit increment solve (allocated on first use).
    cg: Vec<Vec<f64>>,
    mass: Vec<f64>,
    group_mass: Vec<f64>,
    /// Σ ψ over the solid (Chemistry::solid_sites), for the bound projection's start.
    solid_sites: f64,
    /// The insertion coefficient of this step, r j(c) (chemistry::exchange_rate).
    rate: Vec<f64>,
    /// The reaction's weight w per voxel this step (chemistry::reaction_weight).
    reaction_weight: Vec<f64>,
    /// The convex-splitting step, where it runs (`Chemistry::faces`).
    split: Option<ConvexSplit>,
    /// Threads for this backend: one on small grids, where waking threads costs more than the
    /// work they share.
    pool: std::sync::Arc<rayon::ThreadPool>,
}

/// Grids smaller than this run on one thread.
const PARALLEL_VOXELS: usize = 1 << 15;

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
            carriers: Vec::new(),
            work: vec![0.0; n],
            work2: vec![0.0; n],
            elastic: problem
                .mechanics
                .as_ref()
                .map(|m| Elasticity::new(problem, m)),
            elastic_fresh: false,
            mu_e: problem.drive.as_ref().map_or(0.0, |d| d.mu_e),
            cg: Vec::new(),
            mass: Vec::new(),
            group_mass: Vec::new(),
            solid_sites: problem.chemistry.solid_sites(n),
            rate: Vec::new(),
            reaction_weight: Vec::new(),
            split: problem
                .chemistry
                .faces
                .as_ref()
                .map(|f| ConvexSplit::new(&problem.grid, &problem.chemistry, f)),
            pool: std::sync::Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(if n < PARALLEL_VOXELS {
                        1
                    } else {
                        rayon::current_num_threads()
                    })
                    .build()
                    .expect("a rayon thread pool"),
            ),
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

    /// ĉ = F(c) and μ into `self.mu` (model.md §4; μ only on the solid, the rest filled with
    /// μ_e or the solid's mean so that spectral derivatives see no jump).
    fn chemical_potential(&mut self, fill: Option<f64>) {
        let spectrum = self.fft.spectrum;
        let dim = self.grid.dim();
        if let Some(near) = &self.chem.nearest_solid {
            extend(&mut self.c, near);
        }
        self.fft.forward(&self.c, &mut self.c_hat);
        cahn_hilliard::laplacian(&spectrum, &self.k, &self.c_hat, &mut self.work_hat);
        self.fft.inverse(&mut self.work_hat, &mut self.work);
        if let Some(glp) = &self.chem.grad_log_psi {
            // Smoothed boundary: (1/ψ)∇·(ψ∇c) = ∇²c + ∇ψ/ψ · ∇c.
            for (axis, g) in glp.iter().enumerate().take(dim) {
                cahn_hilliard::gradient_component(
                    &spectrum,
                    &self.k,
                    axis,
                    &self.c_hat,
                    &mut self.work_hat,
                );
                self.fft.inverse(&mut self.work_hat, &mut self.work2);
                self.work
                    .par_iter_mut()
                    .zip(self.work2.par_iter().zip(g.par_iter()))
                    .for_each(|(w, (d, g))| *w += g * d);
            }
        }
        chemistry::chemical_potential(
            &self.c,
            &self.work,
            &mut self.mu,
            &self.chem,
            self.elastic
                .as_ref()
                .filter(|e| e.mechanics.stress_coupling),
        );
        if let Some(near) = &self.chem.nearest_solid {
            extend(&mut self.mu, near);
            return;
        }
        let value = fill.unwrap_or_else(|| {
            let (s, w) = (0..self.c.len())
                .into_par_iter()
                .filter(|&i| self.chem.is_solid(i))
                .map(|i| (self.chem.psi_at(i) * self.mu[i], self.chem.psi_at(i)))
                .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            if w > 0.0 { s / w } else { 0.0 }
        });
        let chem = &self.chem;
        self.mu.par_iter_mut().enumerate().for_each(|(i, m)| {
            if !chem.is_solid(i) {
                *m = value;
            }
        });
    }

    /// This step's insertion coefficient r j(c) and the reaction's weight w = dt r j/(1 + dt r j
    /// G) per voxel (chemistry::exchange_rate, chemistry::reaction_weight).
    fn prepare_reaction(&mut self, d: &Drive, dt: f64) {
        let chem = &self.chem;
        let c = &self.c;
        self.rate.resize(c.len(), 0.0);
        self.reaction_weight.resize(c.len(), 0.0);
        chemistry::exchange_rate(c, chem, &d.rate, d.exchange, &mut self.rate);
        let step = chemistry::ReactionStep {
            mu_e: self.mu_e,
            dt,
            gradient: chemistry::gradient_stiffness(&self.grid, chem.kappa, d.reaction_gradient),
        };
        chemistry::reaction_weight(
            c,
            &self.mu,
            chem,
            &self.rate,
            step,
            &mut self.reaction_weight,
        );
    }

    fn solid_total(&self, c: &[f64]) -> f64 {
        let chem = &self.chem;
        c.par_iter()
            .enumerate()
            .map(|(i, &c)| {
                if chem.is_solid(i) {
                    chem.psi_at(i) * c
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            * self.grid.voxel_volume()
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
        let mut report = StepReport::default();
        // (length, halvings) of the sub-steps still to take, in order.
        let mut pending = vec![(dt, 0u32)];
        // Stress that does not act on μ is solved only when an output asks for it (observe,
        // fields): the chemistry does not need it. Plastic flow depends on the path, so a cell
        // that flows is solved at every step.
        let coupled = self
            .elastic
            .as_ref()
            .is_some_and(|e| e.mechanics.stress_coupling || e.is_plastic());
        while let Some((h, depth)) = pending.pop() {
            if coupled {
                let (iterations, residual) = self.ensure_elastic()?;
                if report.elastic_iterations == 0 {
                    report.elastic_residual = residual;
                }
                report.elastic_iterations += iterations;
            }
            match self.convex_once(h)? {
                Ok(out) => {
                    report.newton_iterations += out.newton_iterations as u64;
                    report.linear_iterations += out.linear_iterations as u64;
                    report.ions_added += out.ions_added;
                    report.mu_e = out.mu_e.or(report.mu_e);
                    if let Some(near) = &self.chem.nearest_solid {
                        extend(&mut self.c, near);
                    }
                    self.elastic_fresh = false;
                    if let Some(me) = out.mu_e {
                        self.mu_e = me;
                    }
                }
                Err(_) if depth < crate::convex_split::MAX_HALVINGS => {
                    report.newton_iterations += convex_split::MAX_NEWTON as u64;
                    pending.push((0.5 * h, depth + 1));
                    pending.push((0.5 * h, depth + 1));
                }
                Err(failed) => {
                    return Err(crate::error::Error::NotConverged {
                        dt,
                        residual_c: failed.residual_c,
                        residual_mu: failed.residual_mu,
                    });
                }
            }
        }
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
        let spectrum = self.fft.spectrum;
        let dim = self.grid.dim();
        let (elastic_iterations, elastic_residual) = self.ensure_elastic()?;
        self.chemical_potential(self.drive.as_ref().map(|d| d.mu_e));
        let before = self.solid_total(&self.c);
        let mut mu_e = None;
        let mut ions_added = 0.0;
        if self.chem.psi.is_none() {
            // One host filling the cell: the flux divergence ∇·(m ∇μ) in Fourier space, and the
            // constant-coefficient filter is the exact inverse.
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
                cahn_hilliard::mobility_flux(
                    &self.mobility,
                    &mut self.work,
                    self.chem.flux.as_deref(),
                );
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
            let (stab, m) = (self.chem.stabilization, self.chem.groups[0].mobility);
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
        } else {
            // (M + dt L) Δc = dt ∇·(ψ m ∇μ), plus the surface reaction (model.md §8),
            // the divergence by finite volumes: the mobility jumps between materials and pores.
            self.carriers.resize(2 * self.c.len(), 0.0);
            chemistry::site_carriers(&self.c, &self.chem, &mut self.carriers);
            cahn_hilliard::finite_volume_divergence(
                &self.grid,
                &self.carriers,
                &self.mu,
                self.chem.flux.as_deref(),
                &mut self.work,
            );
            // ψ d is 0 on pores (problem.rs), so no face touching one carries ions and Σ over
            // the solid is exactly zero: diffusion neither makes nor loses ions.
            self.work.par_iter_mut().for_each(|w| *w *= dt);
            let b = std::mem::take(&mut self.work);
            let mut x = vec![0.0; b.len()];
            match self.drive.clone() {
                None => {
                    self.implicit_increment(&b, &mut x, dt)?;
                }
                Some(d) => {
                    // The surface reaction apart from the diffusion (first-order splitting, both
                    // from this step's state): each voxel's own linearised-implicit increment
                    // w (μ_e − μ), w = dt r j/(1 + dt r j G) (model.md §8). Local, so the ions it
                    // adds are exactly Σ ψ w (μ_e − μ), and the galvanostat's μ_e is the one that
                    // makes them dt·I.
                    self.prepare_reaction(&d, dt);
                    let chem = &self.chem;
                    let mu = &self.mu;
                    let weight = &self.reaction_weight;
                    let dv = self.grid.voxel_volume();
                    let me = match d.mode {
                        DriveMode::Potentiostatic => d.mu_e,
                        DriveMode::Galvanostatic => {
                            let (gain, pull) = (0..b.len())
                                .into_par_iter()
                                .filter(|&i| weight[i] > 0.0)
                                .map(|i| {
                                    let w = chem.psi_at(i) * weight[i];
                                    (w, w * mu[i])
                                })
                                .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
                            if gain <= 0.0 {
                                return Err(if d.rate.iter().all(|&r| r <= 0.0) {
                                    crate::backend::no_surface()
                                } else {
                                    crate::backend::exchange_exhausted()
                                });
                            }
                            (dt * d.current + pull * dv) / (gain * dv)
                        }
                    };
                    self.implicit_increment(&b, &mut x, dt)?;
                    let before_reaction = self.solid_total(&x);
                    chemistry::insertion_increment(&self.reaction_weight, &self.mu, me, &mut x);
                    ions_added = match d.mode {
                        DriveMode::Galvanostatic => dt * d.current,
                        DriveMode::Potentiostatic => self.solid_total(&x) - before_reaction,
                    };
                    mu_e = Some(me);
                }
            }
            self.work = x;
        }
        self.work
            .par_iter_mut()
            .zip(self.c.par_iter())
            .for_each(|(w, c)| *w += c);
        let (mut bound_moved, mut diverged, mut shift_moved) = (0.0, 0, 0.0);
        if self.chem.psi.is_some() {
            // Σψc is already what it must be, up to the solver tolerance and what the
            // stabiliser's leak takes (model.md §8); the projection onto [0, 1] with that Σψc
            // makes it exact and cuts what the step put outside the bounds (bounds.rs).
            let dv = self.grid.voxel_volume();
            let target = (before + ions_added) / dv;
            let now = self.solid_total(&self.work) / dv;
            let chem = &self.chem;
            let psi = |i: usize| chem.is_solid(i).then(|| chem.psi_at(i));
            let xi0 = (target - now) / self.solid_sites;
            shift_moved = (target - now).abs() * dv;
            let (moved, insane) = bounds::project(&mut self.work, psi, target, xi0);
            (bound_moved, diverged) = (moved * dv, insane);
        }
        let chem = &self.chem;
        let (max_dc, non_finite) =
            cahn_hilliard::commit(&mut self.c, &self.work, |i| chem.is_solid(i));
        self.elastic_fresh = false;
        if let Some(me) = mu_e {
            self.mu_e = me;
        }
        Ok(StepReport {
            newton_iterations: 0,
            linear_iterations: 0,
            max_dc,
            non_finite: non_finite + diverged,
            mu_e,
            ions_added,
            bound_moved,
            shift_moved,
            elastic_iterations,
            elastic_residual,
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
        self.fft.forward(&self.c, &mut self.c_hat);
        let dv = self.grid.voxel_volume();
        let energy_gradient = if let Some(split) = &self.split {
            split.gradient_energy(self.chem.kappa, &self.c)
        } else if self.chem.psi.is_none() {
            reduce::gradient_energy_parseval(
                &self.c_hat,
                &self.fft.spectrum,
                &self.k,
                self.chem.kappa,
                dv,
                self.c.len(),
            )
        } else {
            let spectrum = self.fft.spectrum;
            self.work2.iter_mut().for_each(|v| *v = 0.0);
            for axis in 0..self.grid.dim() {
                cahn_hilliard::gradient_component(
                    &spectrum,
                    &self.k,
                    axis,
                    &self.c_hat,
                    &mut self.work_hat,
                );
                self.fft.inverse(&mut self.work_hat, &mut self.work);
                self.work2
                    .par_iter_mut()
                    .zip(self.work.par_iter())
                    .for_each(|(s, g)| *s += g * g);
            }
            let chem = &self.chem;
            0.5 * chem.kappa
                * self
                    .work2
                    .par_iter()
                    .enumerate()
                    .map(|(i, g2)| {
                        if chem.is_solid(i) {
                            chem.psi_at(i) * g2
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
                * dv
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
                    let fill = self.drive.as_ref().map(|_| self.mu_e);
                    self.chemical_potential(fill);
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
/// `Coupling`).
#[inline]
pub fn elastic_stiffness(el: &Elasticity, i: usize, psi: f64) -> f64 {
    let l = &el.local[i];
    let ca = hooke(l.lambda + l.dlambda.abs(), l.mu + l.dmu.abs(), l.deigen);
    let aca: f64 = (0..6).map(|k| WEIGHT[k] * l.deigen[k] * ca[k]).sum();
    0.5 * aca / psi
}

/// The elastic part of μ at voxel i (model.md §4, §8), per site: `−σ : A / ψ + ½ e : C' : e / ψ`
/// with e = ε − ε* − ε_p the elastic strain, A = ∂ε*/∂c and C' = ∂C/∂c.
#[inline]
pub fn elastic_potential(el: &Elasticity, i: usize, psi: f64) -> f64 {
    let l = &el.local[i];
    let sigma = el.stress_at(i);
    let e = el.elastic_strain_at(i);
    let soft = hooke(l.dlambda, l.dmu, e);
    let mut s_a = 0.0;
    let mut e_soft = 0.0;
    for k in 0..6 {
        s_a += WEIGHT[k] * sigma[k] * l.deigen[k];
        e_soft += WEIGHT[k] * e[k] * soft[k];
    }
    (-s_a + 0.5 * e_soft) / psi
}
