//! `CpuBackend`: the f64 reference (rustfft + rayon). Its kernels live in files named after
//! the WGSL families they will mirror; `fft` and `reduce` are honest exceptions (library FFT,
//! rayon sums) and are tested as black boxes.

pub mod cahn_hilliard;
pub mod chemistry;
pub mod elasticity;
pub mod fft;
pub mod reduce;

use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use self::cahn_hilliard::Wavenumbers;
use self::elasticity::{Elasticity, WEIGHT, hooke, von_mises};
use self::fft::Fft;
use crate::backend::{Backend, BackendKind, Observables, StepReport};
use crate::config::DriveMode;
use crate::error::{Error, Result};
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
    work: Vec<f64>,
    work2: Vec<f64>,
    elastic: Option<Elasticity>,
    /// The elastic state belongs to the current c.
    elastic_fresh: bool,
    /// μ_e of the last step (or the potentiostat's).
    mu_e: f64,
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
            work: vec![0.0; n],
            work2: vec![0.0; n],
            elastic: problem
                .mechanics
                .as_ref()
                .map(|m| Elasticity::new(problem, m)),
            elastic_fresh: false,
            mu_e: problem.drive.as_ref().map_or(0.0, |d| d.mu_e),
        }
    }

    /// Solves mechanical equilibrium for the current c unless already done.
    fn ensure_elastic(&mut self) -> Result<(u64, f64)> {
        let Some(el) = self.elastic.as_mut() else {
            return Ok((0, 0.0));
        };
        if self.elastic_fresh {
            return Ok((0, el.last_residual));
        }
        el.update_material(&self.c);
        let out = el.solve(&mut self.fft)?;
        self.elastic_fresh = true;
        Ok(out)
    }

    /// ĉ = F(c) and μ into `self.mu` (model.md §4; μ only on the solid, the rest filled with
    /// μ_e or the solid's mean so that spectral derivatives see no jump).
    fn chemical_potential(&mut self, fill: Option<f64>) {
        let spectrum = self.fft.spectrum;
        let dim = self.grid.dim();
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
            self.elastic.as_ref(),
        );
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

    /// μ_e for this step: the potentiostat's, or the value that makes ∫R equal the current.
    fn electrode_potential(&self) -> Result<Option<f64>> {
        let Some(d) = &self.drive else {
            return Ok(None);
        };
        match d.mode {
            DriveMode::Potentiostatic => Ok(Some(d.mu_e)),
            DriveMode::Galvanostatic => {
                let chem = &self.chem;
                let (s_mu, s) = (0..self.c.len())
                    .into_par_iter()
                    .filter(|&i| d.rate[i] > 0.0)
                    .map(|i| {
                        let w = chem.psi_at(i) * d.rate[i];
                        (w * self.mu[i], w)
                    })
                    .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
                if s <= 0.0 {
                    return Err(Error::invalid(
                        "drive",
                        "(galvanostatic)",
                        "no solid voxel touches the electrolyte, so no current can flow",
                        "place the electrolyte next to the solids",
                    ));
                }
                Ok(Some((d.current / self.grid.voxel_volume() + s_mu) / s))
            }
        }
    }

    fn solid_total(&self, c: &[f64]) -> f64 {
        let chem = &self.chem;
        c.par_iter()
            .enumerate()
            .map(|(i, &c)| chem.psi_at(i) * c)
            .sum::<f64>()
            * self.grid.voxel_volume()
    }
}

impl Backend for CpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn step(&mut self, dt: f64) -> Result<StepReport> {
        let spectrum = self.fft.spectrum;
        let dim = self.grid.dim();
        let (elastic_iterations, elastic_residual) = self.ensure_elastic()?;
        let before = self.solid_total(&self.c);
        // μ on the solid; a galvanostat needs μ first, then fills the pores with its μ_e.
        let fill = match &self.drive {
            Some(d) if d.mode == DriveMode::Potentiostatic => Some(d.mu_e),
            _ => None,
        };
        self.chemical_potential(fill);
        let mu_e = self.electrode_potential()?;
        if let (Some(me), Some(d)) = (mu_e, &self.drive)
            && d.mode == DriveMode::Galvanostatic
        {
            let chem = &self.chem;
            self.mu.par_iter_mut().enumerate().for_each(|(i, m)| {
                if !chem.is_solid(i) {
                    *m = me;
                }
            });
        }
        // The flux divergence, in Fourier space.
        self.fft.forward(&self.mu, &mut self.mu_hat);
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
                &self.c,
                &mut self.work,
                self.chem.mobility,
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
        let uniform =
            self.chem.psi.is_none() && self.drive.is_none() && self.chem.groups.len() == 1;
        let stab = self.chem.stabilization;
        let (kappa, s) = (self.chem.kappa, self.chem.stabilization_s);
        let mut ions_added = 0.0;
        if uniform {
            let m = self.chem.groups[0].mobility;
            cahn_hilliard::filter_increment(
                &spectrum,
                &self.k,
                &mut self.div_hat,
                dt,
                stab * m,
                kappa,
                s,
            );
        } else {
            // Real-space right-hand side: (1/ψ)∇·(ψ m ∇μ) on the solid, plus insertion.
            self.fft.inverse(&mut self.div_hat, &mut self.work);
            let chem = &self.chem;
            let drive = self.drive.as_ref();
            let me = mu_e.unwrap_or(0.0);
            let mu = &self.mu;
            let inserted: f64 = self
                .work
                .par_iter_mut()
                .enumerate()
                .map(|(i, w)| {
                    if !chem.is_solid(i) {
                        *w = 0.0;
                        return 0.0;
                    }
                    if chem.psi.is_some() {
                        *w /= chem.psi_at(i).max(chem.psi_floor);
                    }
                    match drive {
                        Some(d) if d.rate[i] > 0.0 => {
                            let r = d.rate[i] * (me - mu[i]);
                            *w += r;
                            chem.psi_at(i) * r
                        }
                        _ => 0.0,
                    }
                })
                .sum();
            ions_added = dt * inserted * self.grid.voxel_volume();
            // Each mobility group is filtered with its own implicit operator (model.md §8).
            for (g, group) in self.chem.groups.iter().enumerate() {
                match &group.weight {
                    None => self.work2.copy_from_slice(&self.work),
                    Some(w) => self
                        .work2
                        .par_iter_mut()
                        .zip(self.work.par_iter().zip(w.par_iter()))
                        .for_each(|(o, (r, w))| *o = r * w),
                }
                self.fft.forward(&self.work2, &mut self.work_hat);
                cahn_hilliard::filter_increment(
                    &spectrum,
                    &self.k,
                    &mut self.work_hat,
                    dt,
                    stab * group.mobility,
                    kappa,
                    s,
                );
                if g == 0 {
                    std::mem::swap(&mut self.div_hat, &mut self.work_hat);
                } else {
                    self.div_hat
                        .par_iter_mut()
                        .zip(self.work_hat.par_iter())
                        .for_each(|(a, b)| *a += b);
                }
            }
        }
        // div_hat now holds the increment of ĉ.
        self.fft.inverse(&mut self.div_hat, &mut self.work);
        self.work
            .par_iter_mut()
            .zip(self.c.par_iter())
            .for_each(|(w, c)| *w += c);
        if !uniform {
            // The implicit filter conserves Σc but not Σψc: shift the solid uniformly so that the
            // ions are exactly those before plus those inserted (model.md §8).
            let target = before + ions_added;
            let now = self.solid_total(&self.work);
            let chem = &self.chem;
            let solid_sites: f64 = (0..self.c.len())
                .into_par_iter()
                .filter(|&i| chem.is_solid(i))
                .map(|i| chem.psi_at(i))
                .sum::<f64>()
                * self.grid.voxel_volume();
            let shift = (target - now) / solid_sites;
            self.work.par_iter_mut().enumerate().for_each(|(i, w)| {
                if chem.is_solid(i) {
                    *w += shift;
                }
            });
        }
        let chem = &self.chem;
        let (max_dc, non_finite) =
            cahn_hilliard::commit(&mut self.c, &self.work, |i| chem.is_solid(i));
        self.elastic_fresh = false;
        if let Some(me) = mu_e {
            self.mu_e = me;
        }
        Ok(StepReport {
            max_dc,
            non_finite,
            mu_e,
            ions_added,
            elastic_iterations,
            elastic_residual,
        })
    }

    fn observe(&mut self) -> Result<Observables> {
        if self.c.iter().any(|v| !v.is_finite()) {
            let bad = self.c.iter().filter(|v| !v.is_finite()).count() as u64;
            return Ok(reduce::non_finite(bad, self.phi.len()));
        }
        self.ensure_elastic()?;
        self.fft.forward(&self.c, &mut self.c_hat);
        let dv = self.grid.voxel_volume();
        let energy_gradient = if self.chem.psi.is_none() {
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
                    .map(|(i, g2)| chem.psi_at(i) * g2)
                    .sum::<f64>()
                * dv
        };
        let mut obs = reduce::observe_chemistry(&self.c, &self.chem, dv);
        obs.energy_gradient = energy_gradient;
        if let Some(el) = &self.elastic {
            reduce::observe_elasticity(&mut obs, el, &self.phi, dv);
        }
        obs.materials =
            reduce::material_compositions(&self.c, &self.chem, &self.phi, obs.materials);
        Ok(obs)
    }

    fn fields(&mut self, names: &[FieldName]) -> Result<Fields> {
        let mut out = Fields::default();
        for &name in names {
            let values = match name {
                FieldName::C => self.c.clone(),
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
                FieldName::Stress(k) => {
                    self.ensure_elastic()?;
                    self.elastic.as_ref().map_or_else(
                        || vec![0.0; self.c.len()],
                        |el| {
                            (0..self.c.len())
                                .into_par_iter()
                                .map(|i| el.stress_at(i)[k])
                                .collect()
                        },
                    )
                }
                FieldName::VolumetricStrain => {
                    self.ensure_elastic()?;
                    self.elastic.as_ref().map_or_else(
                        || vec![0.0; self.c.len()],
                        |el| {
                            (0..self.c.len())
                                .into_par_iter()
                                .map(|i| el.strain[0][i] + el.strain[1][i] + el.strain[2][i])
                                .collect()
                        },
                    )
                }
                FieldName::VonMises => {
                    self.ensure_elastic()?;
                    self.elastic.as_ref().map_or_else(
                        || vec![0.0; self.c.len()],
                        |el| {
                            (0..self.c.len())
                                .into_par_iter()
                                .map(|i| von_mises(el.stress_at(i)))
                                .collect()
                        },
                    )
                }
            };
            out.0.push((name, values));
        }
        Ok(out)
    }
}

/// The elastic part of μ at voxel i (model.md §4, §8), per site: `−σ : A / ψ + ½ e : C' : e / ψ`
/// with e = ε − ε*, A = ∂ε*/∂c and C' = ∂C/∂c.
#[inline]
pub fn elastic_potential(el: &Elasticity, i: usize, psi: f64) -> f64 {
    let l = &el.local[i];
    let sigma = el.stress_at(i);
    let e: [f64; 6] = std::array::from_fn(|k| el.strain[k][i] - l.eigen[k]);
    let soft = hooke(l.dlambda, l.dmu, e);
    let mut s_a = 0.0;
    let mut e_soft = 0.0;
    for k in 0..6 {
        s_a += WEIGHT[k] * sigma[k] * l.deigen[k];
        e_soft += WEIGHT[k] * e[k] * soft[k];
    }
    (-s_a + 0.5 * e_soft) / psi
}
