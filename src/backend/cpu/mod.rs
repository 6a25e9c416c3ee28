//! `CpuBackend`: the f64 reference (rustfft + rayon). Its kernels live in files named after
//! the WGSL families they will mirror; `fft` and `reduce` are honest exceptions (library FFT,
//! rayon sums) and are tested as black boxes.

#![expect(
    clippy::too_many_arguments,
    reason = "kernels take their bindings in order, as the WGSL will"
)]

pub mod cahn_hilliard;
pub mod chemistry;
pub mod fft;
pub mod reduce;

use rustfft::num_complex::Complex64;

use self::cahn_hilliard::Wavenumbers;
use self::fft::Fft;
use crate::backend::{Backend, BackendKind, Observables, StepReport};
use crate::error::Result;
use crate::fields::{FieldName, Fields};
use crate::free_energy::FreeEnergy;
use crate::grid::Grid;
use crate::problem::{Mobility, Problem};

/// The CPU backend: fields and workspaces in f64, allocated once.
pub struct CpuBackend {
    grid: Grid,
    free_energy: FreeEnergy,
    kappa: f64,
    mobility: Mobility,
    /// A m_max of the implicit operator.
    stab: f64,
    s: f64,
    fft: Fft,
    k: Wavenumbers,
    c: Vec<f64>,
    c_hat: Vec<Complex64>,
    mu_hat: Vec<Complex64>,
    div_hat: Vec<Complex64>,
    work_hat: Vec<Complex64>,
    mu: Vec<f64>,
    work: Vec<f64>,
}

impl CpuBackend {
    pub fn new(problem: &Problem) -> Self {
        let fft = Fft::new(problem.grid.n);
        let spectrum = fft.spectrum;
        let n = problem.grid.len();
        let zeros = || vec![Complex64::default(); spectrum.len()];
        CpuBackend {
            grid: problem.grid.clone(),
            free_energy: problem.free_energy.clone(),
            kappa: problem.kappa,
            mobility: problem.mobility,
            stab: problem.stabilization * problem.mobility.max(),
            s: problem.stabilization_s,
            k: Wavenumbers::new(&problem.grid, &spectrum),
            fft,
            c: problem.initial_c.clone(),
            c_hat: zeros(),
            mu_hat: zeros(),
            div_hat: zeros(),
            work_hat: zeros(),
            mu: vec![0.0; n],
            work: vec![0.0; n],
        }
    }

    /// ĉ = F(c) and μ = f'(c) − κ∇²c into `self.mu`; three transforms.
    fn chemical_potential(&mut self) {
        let spectrum = self.fft.spectrum;
        self.fft.forward(&self.c, &mut self.c_hat);
        cahn_hilliard::laplacian(&spectrum, &self.k, &self.c_hat, &mut self.work_hat);
        self.fft.inverse(&mut self.work_hat, &mut self.work);
        chemistry::chemical_potential(
            &self.c,
            &self.work,
            &mut self.mu,
            &self.free_energy,
            self.kappa,
        );
    }
}

impl Backend for CpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn step(&mut self, dt: f64) -> Result<StepReport> {
        let spectrum = self.fft.spectrum;
        self.chemical_potential();
        self.fft.forward(&self.mu, &mut self.mu_hat);
        for axis in 0..self.grid.dim() {
            cahn_hilliard::gradient_component(
                &spectrum,
                &self.k,
                axis,
                &self.mu_hat,
                &mut self.work_hat,
            );
            self.fft.inverse(&mut self.work_hat, &mut self.work);
            cahn_hilliard::mobility_flux(&self.c, &mut self.work, self.mobility);
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
        cahn_hilliard::semi_implicit_update(
            &spectrum,
            &self.k,
            &mut self.c_hat,
            &self.div_hat,
            dt,
            self.stab,
            self.kappa,
            self.s,
        );
        self.fft.inverse(&mut self.c_hat, &mut self.work);
        let (max_dc, non_finite) = cahn_hilliard::commit(&mut self.c, &self.work);
        Ok(StepReport { max_dc, non_finite })
    }

    fn observe(&mut self) -> Result<Observables> {
        self.fft.forward(&self.c, &mut self.c_hat);
        Ok(reduce::observe(
            &self.c,
            &self.c_hat,
            &self.fft.spectrum,
            &self.k,
            &self.free_energy,
            self.kappa,
            self.grid.voxel_volume(),
        ))
    }

    fn fields(&mut self, names: &[FieldName]) -> Result<Fields> {
        let mut out = Fields::default();
        for &name in names {
            let values = match name {
                FieldName::C => self.c.clone(),
                FieldName::Mu => {
                    self.chemical_potential();
                    self.mu.clone()
                }
            };
            out.0.push((name, values));
        }
        Ok(out)
    }
}
