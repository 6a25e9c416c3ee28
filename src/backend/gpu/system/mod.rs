//! The multi-material backend on the GPU (model.md §4, §6, §8): cells with pores or several
//! hosts run the convex-splitting step (`GpuConvexSplit`); hosts of one site density and one
//! diffusivity filling the cell with mechanics run the spectral step, as `CpuBackend::step_inner`
//! does, kernel for kernel; mechanical equilibrium by Galerkin conjugate gradients or the
//! Moulinec–Suquet fixed point. Per step only a few scalars come back (one read per batch of
//! solver iterations).
//!
//! The time-series reductions run on the device too (observe.wgsl): an output row brings back a
//! few dozen floats; full fields come back only through `fields`.

use super::context::GpuContext;
use super::convex_split::GpuConvexSplit;
use super::fft::GpuFft;
use super::kernels::{BufId, Kernels};
use super::params::{Op, SystemParams};
use super::recorder::Recorder;
use crate::backend::{Observables, StepReport};
use crate::config::SolverKind;
use crate::error::{Error, Result};
use crate::fields::{FieldName, Fields};
use crate::free_energy::FreeEnergy;
use crate::problem::{Mobility, Problem};

// Scalar slots (twins of the constants in system.wgsl and linalg.wgsl).
const RR: u32 = 0;
const BNORM2: u32 = 1;
const PQ: u32 = 3;
const ALPHA: u32 = 4;
const BETA: u32 = 5;
const DONE: usize = 6;
const ITER: usize = 7;
const RZ_NEW: u32 = 8;
const ONE: u32 = 9;
const LAMBDA_RANGE: u32 = 10;
const MU_RANGE: u32 = 12;
/// Where `commit` reduces (linalg.wgsl COMMIT).
const COMMIT: u32 = 24;

// Scalar programs (linalg.wgsl).
const RATIO: u32 = 0;
const START: u32 = 1;
const BEGIN: u32 = 2;
const ADVANCE: u32 = 3;
const CHECK: u32 = 4;

/// f32 conjugate gradients stall near 1e-6 relative residual, so no solve on the device asks
/// for less (tighter elastic tolerances are f64 figures).
pub const F32_TOLERANCE: f64 = 1e-6;
/// The most CG iterations recorded between two reads of the stopping flag.
const MAX_BATCH: u64 = 64;

mod elastic;
mod observe;

/// Why this problem cannot run on the multi-material GPU step, if it cannot.
pub fn unsupported(problem: &Problem) -> Option<String> {
    let chem = &problem.chemistry;
    for comp in &chem.components {
        if let FreeEnergy::RegularSolution { segments } = &comp.free_energy
            && segments.len() > 4
        {
            return Some("more than four segments".into());
        }
    }
    None
}

/// Device fields of the elastic solve.
struct Elastic {
    phi: BufId,
    axis: BufId,
    local: BufId,
    eigen: BufId,
    deigen: BufId,
    strain: BufId,
    r: BufId,
    p: BufId,
    q: BufId,
    spectra: [BufId; 6],
    solver: SolverKind,
    tolerance: f64,
    max_iterations: u64,
    stress_coupling: bool,
    fresh: bool,
    last: (u64, f64),
}

/// Device fields of the pores.
struct Pores {
    nearest: BufId,
}

pub struct SystemStep {
    ctx: GpuContext,
    fft: GpuFft,
    k: Kernels,
    params: SystemParams,
    n: usize,
    dim: usize,
    flux: Option<BufId>,
    psi: BufId,
    psim: BufId,
    /// The nearest-solid map; `None` where the site density is uniform.
    pores: Option<Pores>,
    /// The divergence's spectrum of the spectral step (`None` in cells with faces).
    div_hat: Option<BufId>,
    c: BufId,
    mu: BufId,
    /// The site-blocking mobility factor of this step (`site_mobility`).
    mobility: BufId,
    lap: BufId,
    tmp: BufId,
    /// The spectral step's increment.
    x: BufId,
    hat: BufId,
    hat2: BufId,
    elastic: Option<Elastic>,
    /// φ_m stacked, for the per-material reductions (`None` for the double well).
    phi: Option<BufId>,
    materials: usize,
    /// What the reductions assemble observables with: κ, each component's material, and each
    /// material's volume in voxels (reported without mechanics, as on the CPU).
    kappa: f64,
    component_materials: Vec<Option<usize>>,
    phi_volumes: Vec<f64>,
    /// The convex-splitting step, in cells with faces (`Chemistry::faces`); the rest of this
    /// struct's chemistry is the spectral step's.
    convex: Option<GpuConvexSplit>,
    /// The convex-splitting step's stress term of μ and its stabiliser's stiffness, where
    /// stress acts on μ.
    stress: Option<(BufId, BufId)>,
}

fn op() -> Op {
    Op::default()
}

/// The uniform and the material table of `problem` (system.wgsl's layouts).
pub fn layout(problem: &Problem) -> (SystemParams, Vec<f32>) {
    let grid = &problem.grid;
    let n = grid.len();
    let chem = &problem.chemistry;
    let mech = problem.mechanics.as_ref();
    // The material table: components, materials (system.wgsl's layout).
    let mut table = Vec::new();
    for comp in &chem.components {
        let mut row = [0.0f32; 24];
        match &comp.free_energy {
            FreeEnergy::DoubleWell { rho, a, b } => {
                row[2] = *rho as f32;
                row[3] = *a as f32;
                row[4] = *b as f32;
            }
            FreeEnergy::RegularSolution { segments } => {
                row[0] = 1.0;
                row[1] = segments.len() as f32;
                for (j, s) in segments.iter().enumerate() {
                    row[8 + 4 * j..12 + 4 * j].copy_from_slice(&[
                        s.c_min as f32,
                        s.c_max as f32,
                        s.u0 as f32,
                        s.omega as f32,
                    ]);
                }
            }
        }
        table.extend_from_slice(&row);
    }
    if let Some(m) = mech {
        for mat in &m.materials {
            table.extend_from_slice(&[
                mat.lambda0 as f32,
                mat.mu0 as f32,
                mat.dlambda as f32,
                mat.dmu as f32,
                mat.expansion.a as f32,
                mat.expansion.c as f32,
                mat.c_ref as f32,
                0.0,
            ]);
        }
    }
    let dim = grid.dim();
    let (free, spectral) = match mech {
        Some(m) => {
            let free = m.free_means(dim);
            let micro = problem.microstructure.as_ref().expect("materials");
            (free, m.spectral_components(dim, &micro.axis))
        }
        None => ([false; 6], [true; 6]),
    };
    let mask = |b: [bool; 6]| (0..6).filter(|&k| b[k]).map(|k| 1u32 << k).sum::<u32>();
    let dv = grid.voxel_volume();
    let params = SystemParams {
        nx: grid.n[0] as u32,
        ny: grid.n[1] as u32,
        nz: grid.n[2] as u32,
        count: n as u32,
        hx: grid.spacing[0] as f32,
        hy: grid.spacing[1] as f32,
        hz: grid.spacing[2] as f32,
        dt: 0.0,
        kappa: chem.kappa as f32,
        stab: (chem.stabilization * chem.mobility_max) as f32,
        s: chem.stabilization_s as f32,
        psi_floor: chem.psi_floor as f32,
        mobility_kind: match chem.mobility {
            Mobility::Constant => 0,
            Mobility::SiteBlocking => 1,
        },
        components: chem.components.len() as u32,
        materials: mech.map_or(0, |m| m.materials.len() as u32),
        anisotropic: mech.is_some_and(|m| m.anisotropic) as u32,
        dim: dim as u32,
        free_mask: mask(free),
        spectral_mask: mask(spectral),
        voxel_volume: dv as f32,
        overstress: mech.map_or(f32::INFINITY, |m| m.overstress as f32),
        electrolyte: mech
            .and_then(|m| m.electrolyte)
            .map_or(u32::MAX, |e| e as u32),
        pad0: 0,
        pad1: 0,
    };
    (params, table)
}

impl SystemStep {
    pub fn new(ctx: GpuContext, problem: &Problem) -> Result<Self> {
        let grid = &problem.grid;
        let n = grid.len();
        let chem = &problem.chemistry;
        let mech = problem.mechanics.as_ref();
        ctx.check_field("complex field", n, 8)?;
        ctx.check_field("stacked strain tensor", n, 24)?;
        let stacked = chem
            .components
            .len()
            .max(problem.microstructure.as_ref().map_or(0, |m| m.phi.len()));
        ctx.check_field("per-material fields", n, 4 * stacked)?;
        let fft = GpuFft::new(&ctx, grid.n)?;
        let psi_host = chem.psi.clone().unwrap_or_else(|| vec![1.0; n]);
        let (params, table) = layout(problem);
        let materials = problem.microstructure.as_ref().map_or(0, |m| m.phi.len());
        let lanes = observe::OBS_MATERIALS as usize + 12 * materials + 4 * chem.components.len();
        if lanes > super::kernels::SCALARS {
            return Err(Error::Gpu {
                what: "observables".into(),
                message: format!(
                    "{materials} materials need {lanes} device scalars; the GPU backend holds {}",
                    super::kernels::SCALARS
                ),
                fix: "use fewer materials (at most 14) or --backend cpu".into(),
            });
        }
        let dim = grid.dim();
        let mut k = Kernels::new(&ctx, &params, &table, 6 * n)?;
        // ψ in f32 on the same side of the floor as in f64: a voxel the host counts as solid
        // (its nearest-solid map, the capacity) must be solid on the device too.
        let floor32 = chem.psi_floor as f32;
        let below = f32::from_bits(floor32.to_bits() - 1);
        let psi32: Vec<f64> = psi_host
            .iter()
            .map(|&p| {
                let v = p as f32;
                f64::from(if p >= chem.psi_floor {
                    v.max(floor32)
                } else {
                    v.min(below)
                })
            })
            .collect();
        let psi = k.upload("psi", &psi32);
        let flux = chem.flux.as_ref().map(|f| k.upload("flux", f));
        let stacked =
            |v: &[&[f64]]| -> Vec<f64> { v.iter().flat_map(|s| s.iter().copied()).collect() };
        let ones = vec![1.0; n];
        let psim_host: Vec<&[f64]> = chem
            .components
            .iter()
            .map(|c| c.psi.as_deref().unwrap_or(&ones))
            .collect();
        let psim = k.upload("psi_m", &stacked(&psim_host));
        let pores = chem.nearest_solid.as_ref().map(|near| {
            let nearest = k.upload(
                "nearest solid",
                &near.iter().map(|&j| j as f64).collect::<Vec<_>>(),
            );
            Pores { nearest }
        });
        let div_hat = chem
            .faces
            .is_none()
            .then(|| k.zeros("divergence spectrum", 2 * n));
        let c = k.upload("c", &problem.initial_c);
        let mut field = |name: &str| k.zeros(name, n);
        let (mu, mobility, lap, tmp, x) = (
            field("mu"),
            field("mobility"),
            field("laplacian"),
            field("tmp"),
            field("increment"),
        );
        let hat = k.zeros("hat", 2 * n);
        let hat2 = k.zeros("hat2", 2 * n);
        let phi = problem.microstructure.as_ref().map(|micro| {
            let rows: Vec<&[f64]> = micro.phi.iter().map(|v| v.as_slice()).collect();
            k.upload("phi", &stacked(&rows))
        });
        let elastic = mech.map(|m| {
            let micro = problem.microstructure.as_ref().expect("materials");
            let phi = phi.expect("materials");
            let axis = if m.anisotropic {
                let a: Vec<f64> = (0..3)
                    .flat_map(|d| micro.axis.iter().map(move |v| v[d]))
                    .collect();
                k.upload("c-axis", &a)
            } else {
                k.zeros("c-axis", 1)
            };
            let local = k.zeros("local stiffness", 4 * n);
            let mut tensor = |name: &str| k.zeros(name, 6 * n);
            let (eigen, deigen, strain, r, p, q) = (
                tensor("eigenstrain"),
                tensor("d eigenstrain"),
                tensor("strain"),
                tensor("elastic r"),
                tensor("elastic p"),
                tensor("elastic q"),
            );
            let spectra = std::array::from_fn(|_| k.zeros("strain spectrum", 2 * n));
            Elastic {
                phi,
                axis,
                local,
                eigen,
                deigen,
                strain,
                r,
                p,
                q,
                spectra,
                solver: m.solver,
                tolerance: m.tolerance.max(F32_TOLERANCE),
                max_iterations: m.max_iterations,
                stress_coupling: m.stress_coupling,
                fresh: false,
                last: (0, 0.0),
            }
        });
        let coupled = elastic.as_ref().is_some_and(|e| e.stress_coupling);
        let stress = (chem.faces.is_some() && coupled)
            .then(|| (k.zeros("stress term", n), k.zeros("stress stiffness", n)));
        let convex = match chem.faces {
            Some(_) => Some(GpuConvexSplit::new(
                &ctx,
                problem,
                &problem.initial_c,
                (k.buffer(c), k.buffer(mu)),
                stress.map(|(a, b)| (k.buffer(a), k.buffer(b))),
            )?),
            None => None,
        };
        Ok(SystemStep {
            convex,
            stress,
            ctx,
            fft,
            k,
            params,
            n,
            dim,
            flux,
            psi,
            psim,
            pores,
            div_hat,
            c,
            mu,
            mobility,
            lap,
            tmp,
            x,
            hat,
            hat2,
            elastic,
            phi,
            materials,
            kappa: chem.kappa,
            component_materials: chem.components.iter().map(|c| c.material).collect(),
            phi_volumes: problem
                .microstructure
                .as_ref()
                .map(|m| m.phi.iter().map(|f| f.iter().sum()).collect())
                .unwrap_or_default(),
        })
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    fn fft(&self, enc: &mut Recorder, id: BufId, inverse: bool) {
        self.fft.encode(&self.ctx, enc, self.k.buffer(id), inverse);
    }

    fn scalars(&self) -> Result<Vec<f32>> {
        self.ctx.read_f32(&self.k.scalars)
    }

    /// dst ← src over `len` elements.
    fn copy(&self, enc: &mut Recorder, src: BufId, dst: BufId, len: usize) {
        self.k.run(enc, "copy", op(), &[src, dst], len);
    }

    /// hat2 ← F⁻¹(i k_axis hat): one component of the gradient of the field whose spectrum
    /// `hat` holds.
    fn gradient_of_hat(&self, enc: &mut Recorder, axis: usize) {
        self.copy(enc, self.hat, self.hat2, 2 * self.n);
        let o = Op {
            flag: 3,
            index: axis as u32,
            ..op()
        };
        self.k.run(enc, "scale_modes", o, &[self.hat2], self.n);
        self.fft(enc, self.hat2, true);
    }

    /// In place: field ← field[nearest solid] (nothing without pores).
    fn extend(&self, enc: &mut Recorder, field: BufId) {
        let Some(pores) = &self.pores else {
            return;
        };
        self.k.run(
            enc,
            "gather_nearest",
            op(),
            &[field, self.tmp, pores.nearest],
            self.n,
        );
        self.copy(enc, self.tmp, field, self.n);
    }

    /// `mobility` ← the site-blocking factor of the current c (chemistry.rs `site_mobility`).
    fn encode_site_mobility(&self, enc: &mut Recorder) {
        let dummy = self.k.dummy();
        self.k.run(
            enc,
            "site_mobility",
            op(),
            &[self.c, self.mobility, dummy, self.psi, self.psim],
            self.n,
        );
    }

    /// The uniform-density step (cpu/mod.rs, ψ = None): ∇·(m∇μ) in Fourier space and the
    /// constant-coefficient filter; the increment into `x`.
    fn encode_spectral_increment(&self, enc: &mut Recorder, div_hat: BufId) {
        let (k, n) = (&self.k, self.n);
        k.run(enc, "weighted_to_complex", op(), &[self.mu, self.hat], n);
        self.fft(enc, self.hat, false);
        self.encode_site_mobility(enc);
        let flux_flag = self.flux.is_some() as u32;
        let flux = self.flux.unwrap_or(self.k.dummy());
        for axis in 0..self.dim {
            self.gradient_of_hat(enc, axis);
            let m = Op {
                flag: flux_flag,
                ..op()
            };
            k.run(
                enc,
                "mobility_flux",
                m,
                &[self.mobility, self.hat2, flux],
                n,
            );
            self.fft(enc, self.hat2, false);
            let acc = Op {
                index: axis as u32,
                flag: (axis == 0) as u32,
                ..op()
            };
            k.run(enc, "accumulate_divergence", acc, &[self.hat2, div_hat], n);
        }
        k.run(enc, "scale_modes", Op { flag: 5, ..op() }, &[div_hat], n);
        self.fft(enc, div_hat, true);
        k.run(enc, "fill", op(), &[self.x], n);
        k.run(enc, "add_weighted_real", op(), &[self.x, div_hat], n);
    }

    /// μ into `mu` from the current c, as the CPU's `chemical_potential` (the spectral step:
    /// every voxel solid).
    fn encode_chemical_potential(&self, enc: &mut Recorder) {
        let (k, n) = (&self.k, self.n);
        k.run(enc, "weighted_to_complex", op(), &[self.c, self.hat], n);
        self.fft(enc, self.hat, false);
        self.copy(enc, self.hat, self.hat2, 2 * n);
        k.run(enc, "scale_modes", Op { flag: 4, ..op() }, &[self.hat2], n);
        self.fft(enc, self.hat2, true);
        k.run(enc, "fill", op(), &[self.lap], n);
        k.run(enc, "add_weighted_real", op(), &[self.lap, self.hat2], n);
        k.run(
            enc,
            "chemical_potential",
            op(),
            &[self.c, self.lap, self.mu, self.psi, self.psim],
            n,
        );
        if let Some(el) = self.elastic.as_ref().filter(|e| e.stress_coupling) {
            k.run(
                enc,
                "elastic_potential",
                op(),
                &[self.mu, el.strain, el.eigen, el.deigen, el.local, self.psi],
                n,
            );
        }
    }

    fn read(&self, id: BufId) -> Result<Vec<f64>> {
        Ok(self
            .ctx
            .read_f32(self.k.buffer(id))?
            .into_iter()
            .map(f64::from)
            .collect())
    }
}

impl SystemStep {
    pub fn step(&mut self, dt: f64) -> Result<StepReport> {
        let Some(div_hat) = self.div_hat else {
            return self.step_convex(dt);
        };
        let (elastic_iterations, elastic_residual) = self.ensure_elastic()?;
        self.params.dt = dt as f32;
        self.k.write_params(&self.params);
        let (k, n) = (&self.k, self.n);
        let mut enc = k.encoder();
        self.encode_chemical_potential(&mut enc);
        self.encode_spectral_increment(&mut enc, div_hat);
        let (x, c, work) = (self.x, self.c, self.tmp);
        k.run(&mut enc, "lincomb", Op { f: 1.0, ..op() }, &[x, c, work], n);
        k.reduce(
            &mut enc,
            "commit",
            op(),
            &[c, work, self.psi],
            n,
            (COMMIT, 1),
        );
        k.submit(enc);
        let s = self.scalars()?;
        if let Some(el) = self.elastic.as_mut() {
            el.fresh = false;
        }
        let c0 = COMMIT as usize;
        Ok(StepReport {
            max_dc: s[c0 + 1].max(0.0) as f64,
            non_finite: s[c0 + 3] as u64,
            elastic_iterations,
            elastic_residual,
            ..StepReport::default()
        })
    }

    /// The convex-splitting step of `dt`, halved where Newton does not converge at it (as the
    /// CPU's `step_convex`).
    fn step_convex(&mut self, dt: f64) -> Result<StepReport> {
        let mut report = crate::convex_split::halving(dt, |h| {
            let elastic = if self.stress.is_some() {
                let solve = self.ensure_elastic()?;
                self.encode_stress_terms();
                solve
            } else {
                (0, 0.0)
            };
            let convex = self.convex.as_mut().expect("a cell with faces");
            let outcome = convex.step(&self.ctx, h)?;
            if outcome.is_ok() {
                // As the CPU: c is extended into the pores after each step.
                let mut enc = self.k.encoder();
                self.extend(&mut enc, self.c);
                self.k.submit(enc);
                if let Some(el) = self.elastic.as_mut() {
                    el.fresh = false;
                }
            }
            Ok((elastic, outcome))
        })?;
        report.non_finite = self.convex.as_ref().map_or(0, |c| c.non_finite());
        Ok(report)
    }

    /// The stress term of μ and its stabiliser's stiffness at the solved state, into the
    /// convex-splitting step's fields (cpu/mod.rs `stress_terms`).
    fn encode_stress_terms(&self) {
        let (Some((potential, stiffness)), Some(el)) = (self.stress, self.elastic.as_ref()) else {
            return;
        };
        let (k, n) = (&self.k, self.n);
        let mut enc = k.encoder();
        k.run(&mut enc, "fill", op(), &[potential], n);
        k.run(
            &mut enc,
            "elastic_potential",
            op(),
            &[
                potential, el.strain, el.eigen, el.deigen, el.local, self.psi,
            ],
            n,
        );
        k.run(
            &mut enc,
            "elastic_stiffness",
            op(),
            &[stiffness, el.deigen, el.local, self.psi],
            n,
        );
        k.submit(enc);
    }

    pub fn fields(&mut self, names: &[FieldName]) -> Result<Fields> {
        let mut out = Fields::default();
        for &name in names {
            let values = match name {
                FieldName::C => self.read(self.c)?,
                FieldName::Mu if self.convex.is_some() => {
                    if self.stress.is_some() {
                        self.ensure_elastic()?;
                        self.encode_stress_terms();
                    }
                    let mut enc = self.k.encoder();
                    if let Some(convex) = &self.convex {
                        convex.potential(&mut enc);
                    }
                    self.extend(&mut enc, self.mu);
                    self.k.submit(enc);
                    self.read(self.mu)?
                }
                FieldName::Mu => {
                    self.ensure_elastic()?;
                    let mut enc = self.k.encoder();
                    self.encode_chemical_potential(&mut enc);
                    self.k.submit(enc);
                    self.read(self.mu)?
                }
                FieldName::Strain(k) => {
                    self.ensure_elastic()?;
                    match self.elastic.as_ref().map(|el| el.strain) {
                        Some(strain) => {
                            let s = self.read(strain)?;
                            s[k * self.n..(k + 1) * self.n].to_vec()
                        }
                        None => vec![0.0; self.n],
                    }
                }
                other => {
                    self.ensure_elastic()?;
                    match (&self.elastic, self.phi) {
                        (Some(el), Some(phi)) => {
                            let index = match other {
                                FieldName::Stress(k) => k as u32,
                                FieldName::VonMises => 6,
                                _ => 7,
                            };
                            let d = self.k.dummy();
                            let slots = [
                                self.c, self.psi, phi, el.strain, el.local, el.eigen, d, self.tmp,
                            ];
                            let mut enc = self.k.encoder();
                            let o = Op { index, ..op() };
                            self.k.run(&mut enc, "derived_field", o, &slots, self.n);
                            self.k.submit(enc);
                            self.read(self.tmp)?
                        }
                        _ => vec![0.0; self.n],
                    }
                }
            };
            out.0.push((name, values));
        }
        Ok(out)
    }
}
