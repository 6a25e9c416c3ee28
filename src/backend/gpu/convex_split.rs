//! The convex-splitting step on the device (shaders/convex_split.wgsl, model.md §8): the same
//! Newton iteration on (μ, c, μ_e) as `backend::cpu::convex_split`, each linear system solved
//! by MINRES (`GpuMinres`) preconditioned by two V-cycles (`GpuMultigrid`), in f32, with each
//! voxel's convex potential ν kept beside its c (the WGSL file says why). The host reads a few
//! scalars per Newton iteration and per batch of MINRES iterations; fields stay on the device.

use std::rc::Rc;

use wgpu::util::DeviceExt;

use super::context::GpuContext;
use super::minres::{GpuMinres, LinearOperator};
use super::multigrid::{GpuMultigrid, MultigridKernels};
use super::recorder::Recorder;
use super::shaders;
use super::typed::{Binding, Kernel, Threads, module, storage, uniform};
use crate::bindings;
use crate::config::{DriveMode, Exchange};
use crate::convex_split::{
    MAX_LINEAR, MAX_NEWTON, NotConverged, Outcome, TOLERANCE_C, TOLERANCE_MU, forcing,
};
use crate::error::{Error, Result};
use crate::free_energy::FreeEnergy;
use crate::problem::{Mobility, Problem};

/// The tightest relative residual a MINRES solve in f32 is asked for: below it the solve
/// stalls on round-off.
const F32_LINEAR: f64 = 1e-6;

pub use crate::convex_split::{ConvexParams, HostParams, Iterate, MIXED, OFF, Old, Site, Status};

const BEGIN_STEP: &[Binding] = bindings![
    params: Uniform @ 0, hosts: Read @ 1, weights: Read @ 2, site: Read @ 3,
    old: ReadWrite @ 7, iterate: ReadWrite @ 8, stress_mu: Read @ 9,
    stress_stiffness: Read @ 25,
];
const FACE_CONDUCTANCE: &[Binding] = bindings![
    params: Uniform @ 0, flux: Read @ 4, conduct: ReadWrite @ 6, old: ReadWrite @ 7,
    schur_g: ReadWrite @ 17,
];
const START_POTENTIAL: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, gradient: Read @ 5, old: ReadWrite @ 7,
    iterate: ReadWrite @ 8, partials: ReadWrite @ 14,
];
const FOLD_START: &[Binding] =
    bindings![params: Uniform @ 0, partials: ReadWrite @ 14, status: ReadWrite @ 15];
const RESIDUALS: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, gradient: Read @ 5, conduct: ReadWrite @ 6,
    old: ReadWrite @ 7, iterate: ReadWrite @ 8, rhs: ReadWrite @ 10, partials: ReadWrite @ 14,
    status: ReadWrite @ 15,
];
const FOLD_RESIDUALS: &[Binding] = bindings![
    params: Uniform @ 0, rhs: ReadWrite @ 10, partials: ReadWrite @ 14, status: ReadWrite @ 15,
];
const NEWTON_BLOCKS: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, gradient: Read @ 5, old: ReadWrite @ 7,
    iterate: ReadWrite @ 8, schur_diag: ReadWrite @ 16, h_diag: ReadWrite @ 18,
];
const APPLY_SADDLE: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, gradient: Read @ 5, conduct: ReadWrite @ 6,
    old: ReadWrite @ 7, iterate: ReadWrite @ 8, operand: Read @ 12, product: ReadWrite @ 13,
    partials: ReadWrite @ 14,
];
const APPLY_NODE: &[Binding] = bindings![
    params: Uniform @ 0, operand: Read @ 12, product: ReadWrite @ 13, partials: ReadWrite @ 14,
    status: ReadWrite @ 15,
];
const PRECONDITION_SPLIT: &[Binding] = bindings![
    params: Uniform @ 0, operand: Read @ 12, block_mu: ReadWrite @ 19, block_c: ReadWrite @ 20,
];
const PRECONDITION_JOIN: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, operand: Read @ 12, product: ReadWrite @ 13,
    status: ReadWrite @ 15, z_mu: Read @ 21, z_c: Read @ 22,
];
const NEWTON_UPDATE: &[Binding] = bindings![
    params: Uniform @ 0, hosts: Read @ 1, weights: Read @ 2, site: Read @ 3,
    iterate: ReadWrite @ 8, solution: Read @ 11, status: ReadWrite @ 15,
];
const SETTLE_GALVANOSTAT: &[Binding] = bindings![params: Uniform @ 0, status: ReadWrite @ 15];
const FLUX_FORM: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, conduct: ReadWrite @ 6, old: ReadWrite @ 7,
    iterate: ReadWrite @ 8, partials: ReadWrite @ 14, status: ReadWrite @ 15,
    c_new: ReadWrite @ 26,
];
const COMMIT: &[Binding] = bindings![
    params: Uniform @ 0, site: Read @ 3, old: ReadWrite @ 7, iterate: ReadWrite @ 8,
    c_field: ReadWrite @ 23, c_new: ReadWrite @ 26,
];
const FOLD_COMMIT: &[Binding] = bindings![partials: ReadWrite @ 14, status: ReadWrite @ 15];
const POTENTIAL_FIELD: &[Binding] = bindings![
    params: Uniform @ 0, hosts: Read @ 1, weights: Read @ 2, site: Read @ 3, gradient: Read @ 5,
    old: ReadWrite @ 7, stress_mu: Read @ 9, mu_field: ReadWrite @ 24,
];
const GRADIENT_ENERGY: &[Binding] = bindings![
    params: Uniform @ 0, gradient: Read @ 5, old: ReadWrite @ 7, partials: ReadWrite @ 14,
];

/// Every entry point of convex_split.wgsl with its bindings (for tests/shaders.rs).
pub const ENTRY_POINTS: [(&str, &[Binding]); 19] = [
    ("begin_step", BEGIN_STEP),
    ("face_conductance", FACE_CONDUCTANCE),
    ("start_potential", START_POTENTIAL),
    ("fold_start", FOLD_START),
    ("residuals", RESIDUALS),
    ("fold_residuals", FOLD_RESIDUALS),
    ("newton_blocks", NEWTON_BLOCKS),
    ("apply_saddle", APPLY_SADDLE),
    ("apply_node", APPLY_NODE),
    ("precondition_split", PRECONDITION_SPLIT),
    ("precondition_join", PRECONDITION_JOIN),
    ("newton_update", NEWTON_UPDATE),
    ("settle_galvanostat", SETTLE_GALVANOSTAT),
    ("flux_form", FLUX_FORM),
    ("fold_commit", FOLD_COMMIT),
    ("commit", COMMIT),
    ("potential_field", POTENTIAL_FIELD),
    ("gradient_energy", GRADIENT_ENERGY),
    ("fold_gradient_energy", FOLD_COMMIT),
];

type B = wgpu::Buffer;

/// The convex-splitting family's pipelines, one per entry point. Its methods bind the step's
/// named buffers ([`Fields`]) in each entry point's binding order.
pub struct ConvexSplitKernels {
    kernels: Vec<Kernel>,
}

impl ConvexSplitKernels {
    pub fn new(ctx: &GpuContext) -> Result<ConvexSplitKernels> {
        let m = module(ctx, "convex_split", shaders::CONVEX_SPLIT)?;
        let kernels = ENTRY_POINTS
            .iter()
            .map(|&(entry, bindings)| Kernel::new(ctx, &m, entry, bindings))
            .collect::<Result<_>>()?;
        Ok(ConvexSplitKernels { kernels })
    }

    fn kernel(&self, entry: &str) -> &Kernel {
        let k = ENTRY_POINTS
            .iter()
            .position(|(e, _)| *e == entry)
            .expect("an entry point of convex_split.wgsl");
        &self.kernels[k]
    }

    /// Records `entry` with the fields its bindings name, from `f`.
    fn run(&self, enc: &mut Recorder, entry: &str, f: &Fields, threads: Threads) {
        let k = self.kernel(entry);
        let buffers: Vec<&B> = k.bindings.iter().map(|b| f.named(b.name)).collect();
        k.record(enc, &buffers, threads);
    }
}

/// The step's buffers, each under the name its WGSL binding has. The Newton vectors' roles
/// (operand, product, solution) are assigned per dispatch by [`Fields::with`].
#[derive(Clone)]
pub struct Fields {
    pub params: B,
    pub hosts: B,
    pub weights: B,
    pub site: B,
    pub flux: B,
    pub gradient: B,
    pub conduct: B,
    pub old: B,
    pub iterate: B,
    pub stress_mu: B,
    pub stress_stiffness: B,
    pub rhs: B,
    pub solution: B,
    pub partials: B,
    pub status: B,
    pub schur_diag: B,
    pub schur_g: B,
    pub h_diag: B,
    pub block_mu: B,
    pub block_c: B,
    pub z_mu: B,
    pub z_c: B,
    pub c_field: B,
    /// The step's flux-formed c, made the state by `commit`.
    pub c_new: B,
    pub mu_field: B,
    /// The operand and product of the operator or the preconditioner being recorded.
    pub operand: B,
    pub product: B,
}

impl Fields {
    fn named(&self, name: &str) -> &B {
        match name {
            "params" => &self.params,
            "hosts" => &self.hosts,
            "weights" => &self.weights,
            "site" => &self.site,
            "flux" => &self.flux,
            "gradient" => &self.gradient,
            "conduct" => &self.conduct,
            "old" => &self.old,
            "iterate" => &self.iterate,
            "stress_mu" => &self.stress_mu,
            "stress_stiffness" => &self.stress_stiffness,
            "rhs" => &self.rhs,
            "solution" => &self.solution,
            "operand" => &self.operand,
            "product" => &self.product,
            "partials" => &self.partials,
            "status" => &self.status,
            "schur_diag" => &self.schur_diag,
            "schur_g" => &self.schur_g,
            "h_diag" => &self.h_diag,
            "block_mu" => &self.block_mu,
            "block_c" => &self.block_c,
            "z_mu" => &self.z_mu,
            "z_c" => &self.z_c,
            "c_field" => &self.c_field,
            "c_new" => &self.c_new,
            "mu_field" => &self.mu_field,
            other => panic!("convex_split.wgsl has no binding {other}"),
        }
    }

    /// These fields with `operand` and `product` bound to the given vectors.
    fn with(&self, operand: &B, product: &B) -> Fields {
        Fields {
            operand: operand.clone(),
            product: product.clone(),
            ..self.clone()
        }
    }
}

/// Why this problem cannot run on the device's convex-splitting step, if it cannot.
pub fn unsupported(problem: &Problem) -> Option<String> {
    let chem = &problem.chemistry;
    for comp in &chem.components {
        match &comp.free_energy {
            FreeEnergy::DoubleWell { .. } => {
                return Some(
                    "the double well in a cell with pores or several hosts (its convex part is \
                     empty, so the device's step in the convex potential cannot hold it)"
                        .into(),
                );
            }
            FreeEnergy::RegularSolution { segments } if segments.len() > 4 => {
                return Some("more than four segments".into());
            }
            FreeEnergy::RegularSolution { .. } => {}
        }
    }
    None
}

/// The saddle-point operator of one Newton iteration and its block preconditioner.
struct SaddlePoint<'a> {
    kernels: &'a ConvexSplitKernels,
    fields: &'a Fields,
    schur: &'a GpuMultigrid,
    h: &'a GpuMultigrid,
    len: usize,
}

impl LinearOperator for SaddlePoint<'_> {
    fn apply(&self, enc: &mut Recorder, v: &B, out: &B) {
        let f = self.fields.with(v, out);
        self.kernels
            .run(enc, "apply_saddle", &f, Threads::PerElement(self.len));
        self.kernels.run(enc, "apply_node", &f, Threads::One);
    }

    fn precondition(&self, enc: &mut Recorder, r: &B, out: &B) {
        let f = self.fields.with(r, out);
        let k = self.kernels;
        k.run(enc, "precondition_split", &f, Threads::PerElement(self.len));
        self.schur.apply(enc, &f.block_mu, &f.z_mu);
        self.h.apply(enc, &f.block_c, &f.z_c);
        k.run(enc, "precondition_join", &f, Threads::PerElement(self.len));
    }
}

/// The device's convex-splitting step: its fields, its two V-cycles and its MINRES.
pub struct GpuConvexSplit {
    kernels: ConvexSplitKernels,
    fields: Fields,
    params: ConvexParams,
    schur: GpuMultigrid,
    h: GpuMultigrid,
    minres: GpuMinres,
    len: usize,
    dv: f64,
    driven: bool,
    /// The potentials' reference (kT) and the potentiostat's μ_e, exact.
    reference: f64,
    /// The hosts' free energies and their segments' own u0 in f64 (the device's are shifted by
    /// the reference).
    hosts: Vec<HostParams>,
    u0: Vec<[f64; 4]>,
    potentiostat: Option<f64>,
    /// Whether the last committed step left a non-finite c.
    non_finite: bool,
    /// Σ ψ over the solid: the cell's sites, in the units of `Status::ions`.
    sites: f64,
}

fn buffer<T: bytemuck::Pod>(ctx: &GpuContext, label: &str, data: &[T]) -> B {
    use wgpu::BufferUsages as U;
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(data),
            usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
        })
}

impl GpuConvexSplit {
    /// The step for `problem` (a cell with faces), starting from its state `c`. `c_field` is
    /// the device field each committed c is copied to, `mu_field` the one [`Self::potential`]
    /// writes; `stress` the fields holding the stress term of μ and its stabiliser's stiffness
    /// (`elastic_potential`, `elastic_stiffness`) when stress acts on μ.
    pub fn new(
        ctx: &GpuContext,
        problem: &Problem,
        c: &[f64],
        (c_field, mu_field): (&B, &B),
        stress: Option<(&B, &B)>,
    ) -> Result<Self> {
        let grid = &problem.grid;
        let chem = &problem.chemistry;
        let faces = chem
            .faces
            .as_ref()
            .expect("the convex-splitting step runs on cells with faces");
        let (len, dim) = (grid.len(), grid.dim());
        let kk = chem.components.len();
        let mut hosts = Vec::with_capacity(kk);
        let mut u0 = Vec::with_capacity(kk);
        for comp in &chem.components {
            let FreeEnergy::RegularSolution { segments } = &comp.free_energy else {
                return Err(unsupported_error(problem));
            };
            let mut h = HostParams {
                segments: segments.len() as u32,
                ..HostParams::default()
            };
            let mut own = [0.0; 4];
            for (j, s) in segments.iter().enumerate() {
                h.seg[j] = [s.c_min as f32, s.c_max as f32, s.u0 as f32, s.omega as f32];
                own[j] = s.u0;
            }
            hosts.push(h);
            u0.push(own);
        }
        let drive = problem.drive.as_ref();
        // The potentials' first reference: the potentiostat's μ_e, else the mean ν of the
        // surface (where a galvanostat's μ_e settles near) or of the solid.
        let mean_nu = |on: &dyn Fn(usize) -> bool| {
            let v: Vec<f64> = (0..len)
                .filter(|&i| faces.solid[i] && on(i))
                .map(|i| chem.convex_split_at(i, c[i]).0)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let reference = match drive {
            Some(d) if d.mode == DriveMode::Potentiostatic => d.mu_e,
            Some(d) => mean_nu(&|i| d.rate[i] > 0.0),
            None => mean_nu(&|_| true),
        };
        let mut weights = vec![0.0f32; kk * len];
        let mut site = vec![Site::default(); len];
        let mut old = vec![Old::default(); len];
        let rate = problem.drive.as_ref().map(|d| &d.rate);
        for i in 0..len {
            let w: Vec<f64> = chem
                .components
                .iter()
                .map(|comp| comp.psi.as_ref().map_or(1.0, |p| p[i]).max(0.0))
                .collect();
            let total: f64 = w.iter().sum();
            let present: Vec<usize> = (0..kk).filter(|&k| w[k] > 0.0).collect();
            if !faces.solid[i] || total <= 0.0 {
                site[i].only = OFF;
                old[i].c = c[i] as f32;
                continue;
            }
            for (k, wk) in w.iter().enumerate() {
                weights[k * len + i] = (wk / total) as f32;
            }
            site[i] = Site {
                psi: chem.psi_at(i) as f32,
                rate: rate.map_or(0.0, |r| r[i]) as f32,
                hosts: match &chem.psi {
                    Some(psi) => total / psi[i].max(chem.psi_floor),
                    None => total,
                } as f32,
                only: if present.len() == 1 {
                    present[0] as u32
                } else {
                    MIXED
                },
            };
            old[i].c = c[i] as f32;
            old[i].nu = (chem.convex_split_at(i, c[i]).0 - reference) as f32;
        }
        let flat = |g: &[Vec<f64>]| -> Vec<f32> {
            g.iter()
                .take(dim)
                .flat_map(|a| a.iter().map(|&v| v as f32))
                .collect()
        };
        let newton = 2 * len + 1;
        let [gx, gy] = Threads::PerElement(len).groups();
        let parts = (gx * gy) as usize;
        let potentiostat = drive
            .filter(|d| d.mode == DriveMode::Potentiostatic)
            .map(|d| d.mu_e);
        let params = ConvexParams {
            n: [
                grid.n[0] as u32,
                grid.n[1] as u32,
                grid.n[2] as u32,
                dim as u32,
            ],
            len: len as u32,
            components: kk as u32,
            mobility: (chem.mobility == Mobility::SiteBlocking) as u32,
            exchange: drive.is_some_and(|d| d.exchange == Exchange::SiteLimited) as u32,
            kappa: chem.kappa as f32,
            dt: 0.0,
            galvanostatic: drive.is_some_and(|d| d.mode == DriveMode::Galvanostatic) as u32,
            current: drive.map_or(0.0, |d| d.current / grid.voxel_volume()) as f32,
            mu_e: potentiostat.map_or(0.0, |m| m - reference) as f32,
            reference: reference as f32,
            ..ConvexParams::default()
        };
        let mg_kernels = Rc::new(MultigridKernels::new(ctx)?);
        let schur = GpuMultigrid::new(ctx, mg_kernels.clone(), grid.n, dim)?;
        let h = GpuMultigrid::new(ctx, mg_kernels, grid.n, dim)?;
        // The masks of both V-cycles and H's conductances κ ψ_f/Δx² are fixed for the run.
        let mask: Vec<u32> = faces.solid.iter().map(|&s| s as u32).collect();
        let kappa_g: Vec<f32> = flat(&faces.gradient)
            .iter()
            .map(|&v| (chem.kappa as f32) * v)
            .collect();
        for mg in [&schur, &h] {
            ctx.queue
                .write_buffer(mg.fine().2, 0, bytemuck::cast_slice(&mask));
        }
        ctx.queue
            .write_buffer(h.fine().1, 0, bytemuck::cast_slice(&kappa_g));
        // The galvanostat starts from the reference.
        let status = Status::default();
        let fields = Fields {
            params: uniform(ctx, "convex params", &params),
            hosts: buffer(ctx, "hosts", &shifted(&hosts, &u0, reference)),
            weights: buffer(ctx, "host weights", &weights),
            site: buffer(ctx, "sites", &site),
            flux: buffer(ctx, "flux faces", &flat(&faces.flux)),
            gradient: buffer(ctx, "gradient faces", &flat(&faces.gradient)),
            conduct: storage(ctx, "conductances", dim * len),
            old: buffer(ctx, "old state", &old),
            iterate: buffer(ctx, "iterate", &vec![Iterate::default(); len]),
            stress_mu: stress.map_or_else(|| storage(ctx, "no stress term", len), |s| s.0.clone()),
            stress_stiffness: stress
                .map_or_else(|| storage(ctx, "no stress stiffness", len), |s| s.1.clone()),
            rhs: storage(ctx, "newton rhs", newton),
            solution: storage(ctx, "newton solution", newton),
            partials: buffer(ctx, "convex partials", &vec![[0.0f32; 4]; parts]),
            status: buffer(ctx, "convex status", &[status]),
            schur_diag: schur.fine().0.clone(),
            schur_g: schur.fine().1.clone(),
            h_diag: h.fine().0.clone(),
            block_mu: storage(ctx, "block mu", len),
            block_c: storage(ctx, "block c", len),
            z_mu: storage(ctx, "z mu", len),
            z_c: storage(ctx, "z c", len),
            c_field: c_field.clone(),
            c_new: storage(ctx, "c new", len),
            mu_field: mu_field.clone(),
            operand: storage(ctx, "operand", 1),
            product: storage(ctx, "product", 1),
        };
        Ok(GpuConvexSplit {
            kernels: ConvexSplitKernels::new(ctx)?,
            fields,
            params,
            schur,
            h,
            minres: GpuMinres::new(ctx, newton)?,
            len,
            dv: grid.voxel_volume(),
            driven: drive.is_some(),
            non_finite: false,
            sites: site
                .iter()
                .filter(|s| s.only != OFF)
                .map(|s| f64::from(s.psi))
                .sum(),
            reference,
            hosts,
            u0,
            potentiostat,
        })
    }

    fn status(&self, ctx: &GpuContext) -> Result<Status> {
        let words = ctx.read_f32(&self.fields.status)?;
        Ok(*bytemuck::from_bytes::<Status>(bytemuck::cast_slice(
            &words[..12],
        )))
    }

    /// One step of `dt` from the device's state (committed on success; untouched otherwise).
    pub fn step(
        &mut self,
        ctx: &GpuContext,
        dt: f64,
    ) -> Result<std::result::Result<Outcome, NotConverged>> {
        // The reference moves to the last μ_e (a galvanostat's drifts with the state): the
        // state's ν and μ_e move by the difference at begin_step, once.
        if self.driven && self.potentiostat.is_none() {
            let mu_e = self.reference + f64::from(self.status(ctx)?.mu_e);
            self.params.shift = (self.reference - mu_e) as f32;
            self.reference = mu_e;
            ctx.queue.write_buffer(
                &self.fields.hosts,
                0,
                bytemuck::cast_slice(&shifted(&self.hosts, &self.u0, mu_e)),
            );
        }
        self.params.reference = self.reference as f32;
        if let Some(m) = self.potentiostat {
            self.params.mu_e = (m - self.reference) as f32;
        }
        let (k, f, n) = (&self.kernels, &self.fields, self.len);
        let voxels = Threads::PerElement(n);
        self.params.dt = dt as f32;
        ctx.queue
            .write_buffer(&f.params, 0, bytemuck::bytes_of(&self.params));
        let mut enc = Recorder::new(&ctx.device);
        k.run(&mut enc, "begin_step", f, voxels);
        k.run(&mut enc, "face_conductance", f, voxels);
        k.run(&mut enc, "start_potential", f, voxels);
        k.run(&mut enc, "fold_start", f, Threads::One);
        ctx.checked("convex step", || ctx.queue.submit([enc.finish()]))?;
        self.params.shift = 0.0;
        let (mut newton, mut linear) = (0, 0);
        loop {
            let mut enc = Recorder::new(&ctx.device);
            k.run(&mut enc, "residuals", f, voxels);
            k.run(&mut enc, "fold_residuals", f, Threads::One);
            ctx.queue.submit([enc.finish()]);
            let s = self.status(ctx)?;
            let (r1, r2, rg) = (f64::from(s.r1), f64::from(s.r2), f64::from(s.rg));
            let tol_mu = TOLERANCE_MU.max(64.0 * f64::from(f32::EPSILON) * f64::from(s.mu_e).abs());
            if !(r1.is_finite() && r2.is_finite() && rg.is_finite()) {
                return Ok(Err(NotConverged {
                    residual_c: r1,
                    residual_mu: r2.max(rg),
                }));
            }
            if r1 <= TOLERANCE_C && r2 <= TOLERANCE_MU && rg <= tol_mu {
                let mut enc = Recorder::new(&ctx.device);
                k.run(&mut enc, "settle_galvanostat", f, Threads::One);
                k.run(&mut enc, "flux_form", f, voxels);
                k.run(&mut enc, "fold_commit", f, Threads::One);
                ctx.queue.submit([enc.finish()]);
                let s = self.status(ctx)?;
                // Where a voxel's fluxes carry more than f32 resolves of its content (a nearly
                // drained voxel at a long step), its flux-formed c can fall outside (0, 1) and
                // it keeps Newton's c, which the fluxes do not balance. Beyond f32's resolution
                // of the cell's ion count the step is not resolved: it is refused, and the
                // halving driver takes it in two halves.
                if f64::from(s.unbalanced) > f64::from(f32::EPSILON) * self.sites {
                    return Ok(Err(NotConverged {
                        residual_c: f64::from(s.unbalanced) / self.sites,
                        residual_mu: 0.0,
                    }));
                }
                let mut enc = Recorder::new(&ctx.device);
                k.run(&mut enc, "commit", f, voxels);
                ctx.queue.submit([enc.finish()]);
                self.non_finite = s.non_finite > 0.0;
                return Ok(Ok(Outcome {
                    mu_e: self.driven.then_some(self.reference + f64::from(s.mu_e)),
                    ions_added: f64::from(s.ions) * self.dv,
                    newton_iterations: newton,
                    linear_iterations: linear,
                    max_dc: f64::from(s.max_dc),
                }));
            }
            if newton == MAX_NEWTON {
                return Ok(Err(NotConverged {
                    residual_c: r1,
                    residual_mu: r2.max(rg),
                }));
            }
            newton += 1;
            let forcing = forcing(r1, r2, rg, tol_mu, F32_LINEAR);
            let mut enc = Recorder::new(&ctx.device);
            k.run(&mut enc, "newton_blocks", f, voxels);
            self.schur.setup(&mut enc);
            self.h.setup(&mut enc);
            ctx.queue.submit([enc.finish()]);
            let op = SaddlePoint {
                kernels: k,
                fields: f,
                schur: &self.schur,
                h: &self.h,
                len: n,
            };
            let solved = self
                .minres
                .solve(ctx, &op, &f.rhs, &f.solution, forcing, MAX_LINEAR)?;
            linear += solved.iterations;
            let mut enc = Recorder::new(&ctx.device);
            k.run(&mut enc, "newton_update", f, voxels);
            ctx.queue.submit([enc.finish()]);
        }
    }

    /// Records μ of the committed state into the μ field (solid voxels).
    pub fn potential(&self, enc: &mut Recorder) {
        self.kernels.run(
            enc,
            "potential_field",
            &self.fields,
            Threads::PerElement(self.len),
        );
    }

    /// `κ/2 Σ_faces ψ_f (c_i − c_j)²/Δx² ΔV` at the committed state.
    pub fn gradient_energy(&self, ctx: &GpuContext) -> Result<f64> {
        let mut enc = Recorder::new(&ctx.device);
        let f = &self.fields;
        self.kernels.run(
            &mut enc,
            "gradient_energy",
            f,
            Threads::PerElement(self.len),
        );
        self.kernels
            .run(&mut enc, "fold_gradient_energy", f, Threads::One);
        ctx.queue.submit([enc.finish()]);
        let s = self.status(ctx)?;
        Ok(0.5 * f64::from(self.params.kappa) * f64::from(s.gradient) * self.dv)
    }

    /// Voxels the last step left non-finite (1 for any: the run stops on it).
    pub fn non_finite(&self) -> u64 {
        self.non_finite as u64
    }

    /// The uniform as last written.
    pub fn params(&self) -> &ConvexParams {
        &self.params
    }

    /// The voxels' static data, as uploaded.
    pub fn sites(&self, ctx: &GpuContext) -> Result<Vec<Site>> {
        let words = ctx.read_f32(&self.fields.site)?;
        Ok(bytemuck::cast_slice::<f32, Site>(&words).to_vec())
    }

    /// The Newton iterate per voxel.
    pub fn iterate(&self, ctx: &GpuContext) -> Result<Vec<Iterate>> {
        let words = ctx.read_f32(&self.fields.iterate)?;
        Ok(bytemuck::cast_slice::<f32, Iterate>(&words).to_vec())
    }

    /// Sets dt for [`Self::write`] (for the mirror tests; a step sets its own).
    pub fn set_dt(&mut self, dt: f64) {
        self.params.dt = dt as f32;
    }

    /// The V-cycles' diagonals as `newton_blocks` left them: (Ŝ, H's own ψ f').
    pub fn blocks(&self, ctx: &GpuContext) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((
            ctx.read_f32(&self.fields.schur_diag)?,
            ctx.read_f32(&self.fields.h_diag)?,
        ))
    }

    /// This step's face conductances, axis-major.
    pub fn conductances(&self, ctx: &GpuContext) -> Result<Vec<f32>> {
        ctx.read_f32(&self.fields.conduct)
    }

    /// The Newton right-hand side (μ block, c block, μ_e row).
    pub fn rhs(&self, ctx: &GpuContext) -> Result<Vec<f32>> {
        ctx.read_f32(&self.fields.rhs)
    }

    /// The step's scalars.
    pub fn scalars(&self, ctx: &GpuContext) -> Result<Status> {
        self.status(ctx)
    }

    /// Records the Newton system's operator on `operand` into `product` and runs it.
    pub fn apply(&self, ctx: &GpuContext, operand: &B, product: &B) {
        let mut enc = Recorder::new(&ctx.device);
        let f = self.fields.with(operand, product);
        self.kernels
            .run(&mut enc, "apply_saddle", &f, Threads::PerElement(self.len));
        self.kernels.run(&mut enc, "apply_node", &f, Threads::One);
        ctx.queue.submit([enc.finish()]);
    }

    /// Sets the old state, the iterate and the Newton solution vector (for the mirror tests of
    /// single entry points).
    pub fn write(&self, ctx: &GpuContext, old: &[Old], iterate: &[Iterate], solution: &[f32]) {
        let q = &ctx.queue;
        q.write_buffer(&self.fields.old, 0, bytemuck::cast_slice(old));
        q.write_buffer(&self.fields.iterate, 0, bytemuck::cast_slice(iterate));
        q.write_buffer(&self.fields.solution, 0, bytemuck::cast_slice(solution));
        q.write_buffer(&self.fields.params, 0, bytemuck::bytes_of(&self.params));
    }

    /// Runs one entry point over the voxels (a one-workgroup entry once), alone.
    pub fn run_entry(&self, ctx: &GpuContext, entry: &str) {
        let mut enc = Recorder::new(&ctx.device);
        let threads = match ENTRY_POINTS.iter().find(|(e, _)| *e == entry) {
            Some(_) if entry.starts_with("fold") || entry == "apply_node" => Threads::One,
            Some(_) if entry == "settle_galvanostat" => Threads::One,
            Some(_) => Threads::PerElement(self.len),
            None => panic!("no entry point {entry}"),
        };
        self.kernels.run(&mut enc, entry, &self.fields, threads);
        ctx.queue.submit([enc.finish()]);
    }

    /// The state as (c, ν) per voxel.
    pub fn state(&self, ctx: &GpuContext) -> Result<Vec<Old>> {
        let words = ctx.read_f32(&self.fields.old)?;
        Ok(bytemuck::cast_slice::<f32, Old>(&words).to_vec())
    }
}

/// The hosts with each segment's u0 raised by `reference`, so that ν + u0 = (ν − reference) +
/// (u0 + reference): the device's potentials are relative to the reference.
fn shifted(hosts: &[HostParams], u0: &[[f64; 4]], reference: f64) -> Vec<HostParams> {
    hosts
        .iter()
        .zip(u0)
        .map(|(h, own)| {
            let mut h = *h;
            for (seg, u) in h.seg.iter_mut().zip(own).take(h.segments as usize) {
                seg[2] = (u + reference) as f32;
            }
            h
        })
        .collect()
}

fn unsupported_error(problem: &Problem) -> Error {
    Error::BackendUnavailable {
        requested: "gpu".into(),
        reason: unsupported(problem).unwrap_or_default(),
        fix: "use --backend cpu".into(),
    }
}
