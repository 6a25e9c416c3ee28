//! The GPU backend: WGSL compute shaders through wgpu, fields in f32 on the device. The steps
//! of the CPU behind one `GpuBackend`: the Fourier-spectral step for one host filling the cell
//! (this file), and the multi-material step with pores, elasticity and drive (`system/`),
//! whose chemistry is the convex-splitting step (`convex_split.rs`) in cells with faces and the
//! spectral step with mechanics otherwise.

pub mod context;
pub mod convex_split;
pub mod fft;
pub mod kernels;
pub mod minres;
pub mod multigrid;
pub mod params;
pub mod recorder;
pub mod shaders;
pub mod system;
pub mod typed;

use wgpu::util::DeviceExt;

use self::context::GpuContext;
use self::fft::GpuFft;
use self::params::{AxisParams, Params, WORKGROUP};
use self::recorder::Recorder;
use crate::backend::{Backend, BackendKind, Observables, StepReport};
use crate::error::{Error, Result};
use crate::fields::{FieldName, Fields};
use crate::free_energy::FreeEnergy;
use crate::problem::{Mobility, Problem};

/// One host filling the cell without mechanics: the lean spectral step of this file runs it;
/// everything else runs the multi-material step.
fn one_host_spectral(problem: &Problem) -> bool {
    let chem = &problem.chemistry;
    chem.psi.is_none()
        && chem.components.len() == 1
        && chem.flux.is_none()
        && problem.mechanics.is_none()
        && problem.drive.is_none()
}

/// Why this problem cannot run on the GPU backend, if it cannot.
pub fn unsupported(problem: &Problem) -> Option<String> {
    if problem.mechanics.as_ref().is_some_and(|m| m.plastic()) {
        return Some(
            "J2 plasticity (a material's yield_stress_gpa: the plastic solve is CPU-only until \
             its WGSL port; remove the yield keys to run elastic on the GPU)"
                .into(),
        );
    }
    if problem
        .mechanics
        .as_ref()
        .is_some_and(|m| m.mixing == crate::config::Mixing::Laminate)
    {
        return Some(
            "mechanics.mixing = \"laminate\" (CPU-only until its WGSL port; mixing = \"voigt\" \
             runs on the GPU)"
                .into(),
        );
    }
    if problem.chemistry.faces.is_some() {
        if let Some(why) = convex_split::unsupported(problem) {
            return Some(why);
        }
        if !problem.grid.n.iter().all(|v| v.is_power_of_two()) {
            return Some(format!(
                "grid.n = {:?} under the convex-splitting step (its multigrid on the device \
                 coarsens through even axes: use a power of two along each axis)",
                problem.grid.n
            ));
        }
    }
    if !one_host_spectral(problem) {
        return system::unsupported(problem);
    }
    if let FreeEnergy::RegularSolution { segments } = &problem.chemistry.components[0].free_energy
        && segments.len() > 4
    {
        return Some("more than four segments".into());
    }
    None
}

/// Names of the Cahn–Hilliard family's entry points, in pipeline order.
const ENTRIES: [&str; 10] = [
    "load_c",
    "laplacian",
    "chemical_potential",
    "gradient_component",
    "mobility_flux",
    "accumulate_divergence",
    "filter_increment",
    "commit_and_reduce",
    "observe_reduce",
    "finish_reduce",
];

/// The GPU backend: every field on the device in f32.
pub struct GpuBackend {
    inner: Inner,
}

enum Inner {
    Spectral(Box<SpectralStep>),
    System(Box<system::SystemStep>),
}

/// One host filling the cell: the Fourier-spectral step; per step only eight floats come back.
pub struct SpectralStep {
    ctx: GpuContext,
    fft: GpuFft,
    params: Params,
    params_buffer: wgpu::Buffer,
    c: wgpu::Buffer,
    c_hat: wgpu::Buffer,
    mu: wgpu::Buffer,
    scratch: wgpu::Buffer,
    div: wgpu::Buffer,
    result: wgpu::Buffer,
    pipelines: Vec<wgpu::ComputePipeline>,
    /// One bind group per axis uniform (axis 0 marks the first of the divergence sum).
    binds: Vec<wgpu::BindGroup>,
    groups: [u32; 2],
    dim: usize,
    voxel_volume: f64,
    kappa: f64,
}

impl GpuBackend {
    /// Builds the backend for `problem`, or says why it cannot.
    pub fn new(problem: &Problem) -> Result<Self> {
        if let Some(what) = unsupported(problem) {
            return Err(Error::BackendUnavailable {
                requested: "gpu".into(),
                reason: format!("the GPU backend does not run configs with {what} yet"),
                fix: "use --backend cpu (or auto)".into(),
            });
        }
        Self::with_context(GpuContext::new()?, problem)
    }

    /// As [`GpuBackend::new`], on an already opened device.
    pub fn with_context(ctx: GpuContext, problem: &Problem) -> Result<Self> {
        if let Some(what) = unsupported(problem) {
            return Err(Error::BackendUnavailable {
                requested: "gpu".into(),
                reason: format!("the GPU backend does not run configs with {what} yet"),
                fix: "use --backend cpu (or auto)".into(),
            });
        }
        let inner = if one_host_spectral(problem) {
            Inner::Spectral(Box::new(SpectralStep::new(ctx, problem)?))
        } else {
            Inner::System(Box::new(system::SystemStep::new(ctx, problem)?))
        };
        Ok(GpuBackend { inner })
    }

    /// The adapter this backend runs on.
    pub fn adapter(&self) -> &wgpu::AdapterInfo {
        match &self.inner {
            Inner::Spectral(s) => &s.ctx.info,
            Inner::System(s) => &s.context().info,
        }
    }
}

impl Backend for GpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }

    fn step(&mut self, dt: f64) -> Result<StepReport> {
        match &mut self.inner {
            Inner::Spectral(s) => s.step(dt),
            Inner::System(s) => s.step(dt),
        }
    }

    fn observe(&mut self) -> Result<Observables> {
        match &mut self.inner {
            Inner::Spectral(s) => s.observe(),
            Inner::System(s) => s.observe(),
        }
    }

    fn fields(&mut self, names: &[FieldName]) -> Result<Fields> {
        match &mut self.inner {
            Inner::Spectral(s) => s.fields(names),
            Inner::System(s) => s.fields(names),
        }
    }
}

impl SpectralStep {
    fn new(ctx: GpuContext, problem: &Problem) -> Result<Self> {
        let grid = &problem.grid;
        let count = grid.len();
        ctx.check_field("complex field", count, 8)?;
        let fft = GpuFft::new(&ctx, grid.n)?;
        let chem = &problem.chemistry;
        let mut seg = [[0.0f32; 4]; 4];
        let (fe_kind, segments, rho, well_a, well_b) = match &chem.components[0].free_energy {
            FreeEnergy::DoubleWell { rho, a, b } => (0, 0, *rho as f32, *a as f32, *b as f32),
            FreeEnergy::RegularSolution { segments } => {
                for (k, s) in segments.iter().enumerate() {
                    seg[k] = [s.c_min as f32, s.c_max as f32, s.u0 as f32, s.omega as f32];
                }
                (1, segments.len() as u32, 0.0, 0.0, 0.0)
            }
        };
        let blocks = count.div_ceil(WORKGROUP as usize);
        let gx = blocks.min(65_535);
        let gy = blocks.div_ceil(gx);
        let params = Params {
            nx: grid.n[0] as u32,
            ny: grid.n[1] as u32,
            nz: grid.n[2] as u32,
            count: count as u32,
            hx: grid.spacing[0] as f32,
            hy: grid.spacing[1] as f32,
            hz: grid.spacing[2] as f32,
            dt: 0.0,
            kappa: chem.kappa as f32,
            stab: (chem.stabilization * chem.mobility_max) as f32,
            s: chem.stabilization_s as f32,
            mobility_kind: match chem.mobility {
                Mobility::Constant => 0,
                Mobility::SiteBlocking => 1,
            },
            fe_kind,
            segments,
            partials: (gx * gy) as u32,
            pad0: 0,
            rho,
            well_a,
            well_b,
            pad1: 0.0,
            seg,
        };
        let dev = &ctx.device;
        use wgpu::BufferUsages as U;
        let storage = |label: &str, bytes: usize| {
            dev.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes as u64,
                usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let initial: Vec<f32> = problem.initial_c.iter().map(|&v| v as f32).collect();
        let c = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("c"),
            contents: bytemuck::cast_slice(&initial),
            usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
        });
        let (c_hat, mu, scratch, div) = (
            storage("c_hat", count * 8),
            storage("mu", count * 8),
            storage("scratch", count * 8),
            storage("div", count * 8),
        );
        let partial = storage("partials", 2 * gx * gy * 16);
        let result = storage("result", 2 * 16);
        let params_buffer = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::bytes_of(&params),
            usage: U::UNIFORM | U::COPY_DST,
        });
        let axis_buffers: Vec<wgpu::Buffer> = (0..3)
            .map(|a| {
                let p = AxisParams {
                    axis: a,
                    first: (a == 0) as u32,
                    pad0: 0,
                    pad1: 0,
                };
                dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("axis"),
                    contents: bytemuck::bytes_of(&p),
                    usage: U::UNIFORM,
                })
            })
            .collect();
        // One explicit layout for every entry point, so one bind group serves all of them.
        let entry = |binding: u32, uniform: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: if uniform {
                    wgpu::BufferBindingType::Uniform
                } else {
                    wgpu::BufferBindingType::Storage { read_only: false }
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let entries: Vec<wgpu::BindGroupLayoutEntry> = (0..9).map(|b| entry(b, b < 2)).collect();
        let (layout, pipelines) = ctx.checked("Cahn–Hilliard pipelines", || {
            let layout = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("cahn_hilliard"),
                entries: &entries,
            });
            let pipeline_layout = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("cahn_hilliard"),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("cahn_hilliard"),
                source: wgpu::ShaderSource::Wgsl(shaders::CAHN_HILLIARD.into()),
            });
            let pipelines: Vec<wgpu::ComputePipeline> = ENTRIES
                .iter()
                .map(|name| {
                    dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(name),
                        layout: Some(&pipeline_layout),
                        module: &module,
                        entry_point: Some(name),
                        compilation_options: Default::default(),
                        cache: None,
                    })
                })
                .collect();
            (layout, pipelines)
        })?;
        let binds = axis_buffers
            .iter()
            .map(|axis| {
                let buffers = [
                    &params_buffer,
                    axis,
                    &c,
                    &c_hat,
                    &mu,
                    &scratch,
                    &div,
                    &partial,
                    &result,
                ];
                let entries: Vec<wgpu::BindGroupEntry> = buffers
                    .iter()
                    .enumerate()
                    .map(|(b, buf)| wgpu::BindGroupEntry {
                        binding: b as u32,
                        resource: buf.as_entire_binding(),
                    })
                    .collect();
                dev.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("cahn_hilliard"),
                    layout: &layout,
                    entries: &entries,
                })
            })
            .collect();
        Ok(SpectralStep {
            fft,
            params,
            params_buffer,
            c,
            c_hat,
            mu,
            scratch,
            div,
            result,
            pipelines,
            binds,
            groups: [gx as u32, gy as u32],
            dim: grid.dim(),
            voxel_volume: grid.voxel_volume(),
            kappa: chem.kappa,
            ctx,
        })
    }

    fn dispatch(&self, enc: &mut Recorder, entry: &str, axis: usize) {
        let k = ENTRIES
            .iter()
            .position(|e| *e == entry)
            .expect("a known entry point");
        let groups = if entry == "finish_reduce" {
            [1, 1]
        } else {
            self.groups
        };
        enc.dispatch(&self.pipelines[k], &[(&self.binds[axis], &[])], groups);
    }

    /// Records μ into `mu` (real part) from the current c; leaves F(c) in `c_hat`.
    fn encode_chemical_potential(&self, enc: &mut Recorder) {
        self.dispatch(enc, "load_c", 0);
        self.fft.encode(&self.ctx, enc, &self.c_hat, false);
        self.dispatch(enc, "laplacian", 0);
        self.fft.encode(&self.ctx, enc, &self.scratch, true);
        self.dispatch(enc, "chemical_potential", 0);
    }

    /// Submits `enc` with a copy of the two reduction results and reads them.
    fn finish_and_read(&self, mut enc: Recorder) -> Result<[f32; 8]> {
        self.dispatch(&mut enc, "finish_reduce", 0);
        self.ctx.queue.submit([enc.finish()]);
        let v = self.ctx.read_f32(&self.result)?;
        Ok(std::array::from_fn(|i| v[i]))
    }
}

impl SpectralStep {
    fn step(&mut self, dt: f64) -> Result<StepReport> {
        self.params.dt = dt as f32;
        self.ctx
            .queue
            .write_buffer(&self.params_buffer, 0, bytemuck::bytes_of(&self.params));
        let mut enc = Recorder::new(&self.ctx.device);
        self.encode_chemical_potential(&mut enc);
        self.fft.encode(&self.ctx, &mut enc, &self.mu, false);
        for axis in 0..self.dim {
            self.dispatch(&mut enc, "gradient_component", axis);
            self.fft.encode(&self.ctx, &mut enc, &self.scratch, true);
            self.dispatch(&mut enc, "mobility_flux", axis);
            self.fft.encode(&self.ctx, &mut enc, &self.scratch, false);
            self.dispatch(&mut enc, "accumulate_divergence", axis);
        }
        self.dispatch(&mut enc, "filter_increment", 0);
        self.fft.encode(&self.ctx, &mut enc, &self.div, true);
        self.dispatch(&mut enc, "commit_and_reduce", 0);
        let r = self.ctx.checked("step", || self.finish_and_read(enc))??;
        Ok(StepReport {
            max_dc: r[4] as f64,
            non_finite: r[5] as u64,
            ..StepReport::default()
        })
    }

    fn observe(&mut self) -> Result<Observables> {
        let mut enc = Recorder::new(&self.ctx.device);
        self.dispatch(&mut enc, "load_c", 0);
        self.fft.encode(&self.ctx, &mut enc, &self.c_hat, false);
        self.dispatch(&mut enc, "observe_reduce", 0);
        let r = self
            .ctx
            .checked("observe", || self.finish_and_read(enc))??;
        let n = self.params.count as f64;
        let dv = self.voxel_volume;
        let bad = r[5] as u64;
        Ok(Observables {
            mean_c: r[0] as f64 / n,
            c_min: r[1] as f64,
            c_max: r[2] as f64,
            total_c: r[0] as f64 * dv,
            energy_chemical: r[3] as f64 * dv,
            energy_gradient: 0.5 * self.kappa * r[6] as f64 / n * dv,
            energy_elastic: 0.0,
            mean_strain: [0.0; 6],
            mean_stress: [0.0; 6],
            materials: Vec::new(),
            overstressed_fraction: 0.0,
            non_finite: bad,
            elastic_solve: None,
        })
    }

    fn fields(&mut self, names: &[FieldName]) -> Result<Fields> {
        let mut out = Fields::default();
        for &name in names {
            let values: Vec<f64> = match name {
                FieldName::C => self
                    .ctx
                    .read_f32(&self.c)?
                    .into_iter()
                    .map(f64::from)
                    .collect(),
                FieldName::Mu => {
                    let mut enc = Recorder::new(&self.ctx.device);
                    self.encode_chemical_potential(&mut enc);
                    self.ctx.queue.submit([enc.finish()]);
                    self.ctx
                        .read_f32(&self.mu)?
                        .chunks(2)
                        .map(|p| f64::from(p[0]))
                        .collect()
                }
                _ => vec![0.0; self.params.count as usize],
            };
            out.0.push((name, values));
        }
        Ok(out)
    }
}
