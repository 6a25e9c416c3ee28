//! Complex FFTs of power-of-two 3-D grids on the GPU: one compute pass per axis
//! (`shaders/fft.wgsl`), each line transformed in workgroup memory. Sizes the shader cannot do
//! (lines longer than 1024) are refused with an error, never silently changed (model.md §6).

use std::cell::RefCell;
use std::collections::HashMap;

use wgpu::util::DeviceExt;

use super::context::GpuContext;
use super::recorder::Recorder;
use super::shaders;
use crate::error::{Error, Result};

/// Parameters of one pass; twin of `struct FftParams` in shaders/fft.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FftParams {
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub axis: u32,
    pub len: u32,
    pub stride: u32,
    pub lines: u32,
    pub groups_x: u32,
    pub sign: f32,
    pub scale: f32,
    /// Length of the twiddle table (the longest axis).
    pub table_len: u32,
    pub sub_lines: u32,
    pub sub_stride: u32,
    pub elem_stride: u32,
    pub post_twiddle: u32,
    pub full_len: u32,
    pub batch: u32,
    pub pad3: u32,
    pub pad4: u32,
}

/// The longest line one workgroup transforms (`FFT_MAX_LEN` in fft.wgsl); longer axes are split
/// into two passes of at most this length (four-step), up to its square.
pub const MAX_LEN: usize = 1024;
const MAX_AXIS: usize = MAX_LEN * MAX_LEN;
/// Workgroups per dispatch dimension that wgpu allows.
const MAX_GROUPS: usize = 65_535;

/// A compiled FFT for one grid shape.
pub struct GpuFft {
    pub n: [usize; 3],
    pipeline: wgpu::ComputePipeline,
    permute: wgpu::ComputePipeline,
    /// The four-step's reordering target (one complex field), when an axis is split.
    scratch: Option<wgpu::Buffer>,
    /// exp(−2πi m / L) for m < L, L the longest axis: computed once in f64.
    table: wgpu::Buffer,
    /// Passes per direction: (inverse, permute, uniform, workgroups).
    params: Vec<(bool, bool, wgpu::Buffer, [u32; 2])>,
    binds: BindCache,
}

impl GpuFft {
    /// The complex transform over every axis longer than 1, the inverse divided by the count.
    pub fn new(ctx: &GpuContext, n: [usize; 3]) -> Result<Self> {
        let total = n[0] * n[1] * n[2];
        Self::with_axes(ctx, n, &[0, 1, 2], 1.0 / total as f32)
    }

    /// The complex transform over `axes` (those longer than 1), the inverse multiplied by
    /// `inverse_scale`.
    pub fn with_axes(
        ctx: &GpuContext,
        n: [usize; 3],
        axes: &[usize],
        inverse_scale: f32,
    ) -> Result<Self> {
        if let Some(&bad) = n.iter().find(|&&v| v > MAX_AXIS) {
            return Err(Error::Gpu {
                what: "FFT".into(),
                message: format!(
                    "a grid axis of {bad} voxels is longer than the GPU FFT's {MAX_AXIS}"
                ),
                fix: format!("use at most {MAX_AXIS} voxels per axis, or --backend cpu"),
            });
        }
        let module = ctx.checked("FFT shader", || {
            ctx.device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some("fft"),
                    source: wgpu::ShaderSource::Wgsl(shaders::FFT.into()),
                })
        })?;
        let pipeline = ctx.checked("FFT pipeline", || {
            ctx.device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some("fft_pass"),
                    layout: None,
                    module: &module,
                    entry_point: Some("fft_pass"),
                    compilation_options: Default::default(),
                    cache: None,
                })
        })?;
        let permute = ctx.checked("FFT permute pipeline", || {
            ctx.device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some("fft_permute"),
                    layout: None,
                    module: &module,
                    entry_point: Some("fft_permute"),
                    compilation_options: Default::default(),
                    cache: None,
                })
        })?;
        let total = n[0] * n[1] * n[2];
        // The longest transformed axis: every transformed length (a power of two) divides it.
        let table_len = axes
            .iter()
            .filter(|&&a| n[a] > 1)
            .map(|&a| n[a])
            .max()
            .unwrap_or(2);
        let table = twiddle_table(ctx, table_len);
        let mut params = Vec::new();
        let uniform = |p: &FftParams| {
            ctx.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("fft params"),
                    contents: bytemuck::bytes_of(p),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
        };
        let groups = |count: usize| {
            let gx = count.clamp(1, MAX_GROUPS);
            [gx as u32, count.div_ceil(gx) as u32]
        };
        for inverse in [false, true] {
            let axes: Vec<usize> = (0..3).filter(|&a| n[a] > 1 && axes.contains(&a)).collect();
            for (k, &axis) in axes.iter().enumerate() {
                let len = n[axis];
                let others = total / len;
                let last = k + 1 == axes.len();
                let base = FftParams {
                    nx: n[0] as u32,
                    ny: n[1] as u32,
                    nz: n[2] as u32,
                    axis: axis as u32,
                    len: len as u32,
                    stride: [1, n[0], n[0] * n[1]][axis] as u32,
                    lines: others as u32,
                    groups_x: 0,
                    sign: if inverse { 1.0 } else { -1.0 },
                    scale: if inverse && last { inverse_scale } else { 1.0 },
                    table_len: table_len as u32,
                    sub_lines: 1,
                    sub_stride: 0,
                    elem_stride: 1,
                    post_twiddle: 0,
                    full_len: len as u32,
                    batch: 1,
                    pad3: 0,
                    pad4: 0,
                };
                // Each FFT pass: its uniform with the workgroup count filled in.
                let mut fft_pass = |mut p: FftParams| {
                    // Lines of a strided pass share a workgroup in groups of up to 16, as many
                    // as fit its 1024 values: their loads and stores coalesce.
                    let strided = p.elem_stride * p.stride > 1;
                    p.batch = if strided {
                        (MAX_LEN / p.len as usize).clamp(1, 16) as u32
                    } else {
                        1
                    };
                    let g = groups((p.lines as usize).div_ceil(p.batch as usize));
                    p.groups_x = g[0];
                    params.push((inverse, false, uniform(&p), g));
                };
                if len <= MAX_LEN {
                    fft_pass(base);
                    continue;
                }
                // Four-step: n = n1 n2; over j1 (stride n2) with the twiddle, then over j2
                // (contiguous), then the reordering.
                let n1 = 1usize << len.trailing_zeros().div_ceil(2);
                let n2 = len / n1;
                fft_pass(FftParams {
                    len: n1 as u32,
                    lines: (others * n2) as u32,
                    sub_lines: n2 as u32,
                    sub_stride: 1,
                    elem_stride: n2 as u32,
                    post_twiddle: 1,
                    scale: 1.0,
                    ..base
                });
                fft_pass(FftParams {
                    len: n2 as u32,
                    lines: (others * n1) as u32,
                    sub_lines: n1 as u32,
                    sub_stride: n2 as u32,
                    elem_stride: 1,
                    ..base
                });
                let g = groups(total.div_ceil(256));
                let p = FftParams {
                    len: n1 as u32,
                    groups_x: g[0],
                    ..base
                };
                params.push((inverse, true, uniform(&p), g));
            }
        }
        let scratch = params.iter().any(|p| p.1).then(|| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("fft scratch"),
                size: (total * 8) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        });
        Ok(GpuFft {
            n,
            pipeline,
            permute,
            scratch,
            table,
            params,
            binds: BindCache::default(),
        })
    }

    /// Records the forward (unnormalised) or inverse (divided by the voxel count) transform of
    /// `data`, a buffer of `vec2<f32>` in grid order, into `enc`.
    pub fn encode(&self, ctx: &GpuContext, enc: &mut Recorder, data: &wgpu::Buffer, inverse: bool) {
        for (_, permute, params, groups) in self.params.iter().filter(|p| p.0 == inverse) {
            let (pipeline, scratch) = match (permute, &self.scratch) {
                (true, Some(scratch)) => (&self.permute, Some(scratch)),
                _ => (&self.pipeline, None),
            };
            let third = match scratch {
                Some(s) => (3, s),
                None => (2, &self.table),
            };
            self.binds.dispatch(
                ctx,
                enc,
                pipeline,
                &[(0, data), (1, params), third],
                *groups,
            );
            if let Some(s) = scratch {
                enc.copy(s, data, s.size());
            }
        }
    }
}

/// Real-to-complex and complex-to-real transforms of a real grid (x fastest, nx even): the
/// spectrum holds the nx/2 + 1 non-negative x modes, (nx/2 + 1) × ny × nz complex values, x
/// fastest. The real line is read as nx/2 complex values and transformed at half length, then
/// split into its modes (`r2c_split` in fft.wgsl) before the y and z transforms; the inverse
/// runs the same steps backwards. Half the work and memory traffic of the complex transform.
pub struct GpuRfft {
    pub n: [usize; 3],
    x: GpuFft,
    yz: GpuFft,
    split: wgpu::ComputePipeline,
    merge: wgpu::ComputePipeline,
    table: wgpu::Buffer,
    forward_params: wgpu::Buffer,
    inverse_params: wgpu::Buffer,
    groups: [[u32; 2]; 2],
    binds: BindCache,
}

impl GpuRfft {
    pub fn new(ctx: &GpuContext, n: [usize; 3]) -> Result<Self> {
        if n[0] < 2 || !n[0].is_power_of_two() {
            return Err(Error::Gpu {
                what: "real FFT".into(),
                message: format!(
                    "the x axis has {} voxels; the real transform needs an even power of two",
                    n[0]
                ),
                fix: "use a power-of-two nx of at least 2".into(),
            });
        }
        let m = n[0] / 2;
        let x = GpuFft::with_axes(ctx, [m, n[1], n[2]], &[0], 1.0 / (m * n[1] * n[2]) as f32)?;
        let yz = GpuFft::with_axes(ctx, [m + 1, n[1], n[2]], &[1, 2], 1.0)?;
        let module = ctx.checked("FFT shader", || {
            ctx.device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some("fft"),
                    source: wgpu::ShaderSource::Wgsl(shaders::FFT.into()),
                })
        })?;
        let pipeline = |entry: &str| {
            ctx.checked("real FFT pipeline", || {
                ctx.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: None,
                        module: &module,
                        entry_point: Some(entry),
                        compilation_options: Default::default(),
                        cache: None,
                    })
            })
        };
        let (split, merge) = (pipeline("r2c_split")?, pipeline("c2r_merge")?);
        let table_len = n.iter().copied().max().unwrap_or(2);
        let table = twiddle_table(ctx, table_len);
        let groups = |count: usize| {
            let blocks = count.div_ceil(256).max(1);
            let gx = blocks.min(MAX_GROUPS);
            [gx as u32, blocks.div_ceil(gx) as u32]
        };
        let rows = n[1] * n[2];
        let g = [groups((m + 1) * rows), groups(m * rows)];
        let uniform = |sign: f32, gx: u32| {
            let p = FftParams {
                nx: m as u32,
                ny: n[1] as u32,
                nz: n[2] as u32,
                axis: 0,
                len: (m + 1) as u32,
                stride: 1,
                lines: 0,
                groups_x: gx,
                sign,
                scale: 1.0,
                table_len: table_len as u32,
                sub_lines: 1,
                sub_stride: 0,
                elem_stride: 1,
                post_twiddle: 0,
                full_len: 0,
                batch: 1,
                pad3: 0,
                pad4: 0,
            };
            ctx.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("real fft params"),
                    contents: bytemuck::bytes_of(&p),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
        };
        Ok(GpuRfft {
            n,
            x,
            yz,
            split,
            merge,
            table,
            forward_params: uniform(-1.0, g[0][0]),
            inverse_params: uniform(1.0, g[1][0]),
            groups: g,
            binds: BindCache::default(),
        })
    }

    /// Complex values in the spectrum.
    pub fn spectrum_len(&self) -> usize {
        (self.n[0] / 2 + 1) * self.n[1] * self.n[2]
    }

    fn reorder(
        &self,
        ctx: &GpuContext,
        enc: &mut Recorder,
        from: &wgpu::Buffer,
        to: &wgpu::Buffer,
        inverse: bool,
    ) {
        let (pipeline, params, groups) = if inverse {
            (&self.merge, &self.inverse_params, self.groups[1])
        } else {
            (&self.split, &self.forward_params, self.groups[0])
        };
        self.binds.dispatch(
            ctx,
            enc,
            pipeline,
            &[(0, from), (1, params), (2, &self.table), (3, to)],
            groups,
        );
    }

    /// `spectrum` ← R2C(`real`) (unnormalised); `real` is left holding an intermediate.
    pub fn forward(
        &self,
        ctx: &GpuContext,
        enc: &mut Recorder,
        real: &wgpu::Buffer,
        spectrum: &wgpu::Buffer,
    ) {
        self.x.encode(ctx, enc, real, false);
        self.reorder(ctx, enc, real, spectrum, false);
        self.yz.encode(ctx, enc, spectrum, false);
    }

    /// `real` ← C2R(`spectrum`) divided by the voxel count; `spectrum` is overwritten.
    pub fn inverse(
        &self,
        ctx: &GpuContext,
        enc: &mut Recorder,
        spectrum: &wgpu::Buffer,
        real: &wgpu::Buffer,
    ) {
        self.yz.encode(ctx, enc, spectrum, true);
        self.reorder(ctx, enc, spectrum, real, true);
        self.x.encode(ctx, enc, real, true);
    }
}

/// exp(−2πi m / len) for m < len, computed in f64 and stored in f32 (fft.wgsl's `table`).
fn twiddle_table(ctx: &GpuContext, len: usize) -> wgpu::Buffer {
    let twiddles: Vec<f32> = (0..len)
        .flat_map(|m| {
            let a = -std::f64::consts::TAU * m as f64 / len as f64;
            [a.cos() as f32, a.sin() as f32]
        })
        .collect();
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("fft twiddles"),
            contents: bytemuck::cast_slice(&twiddles),
            usage: wgpu::BufferUsages::STORAGE,
        })
}

/// The bind groups of the (pipeline, buffers) combinations a transform has recorded: a step
/// transforms the same few fields again and again, so each combination is created once.
#[derive(Default)]
struct BindCache(RefCell<HashMap<BindKey, wgpu::BindGroup>>);

type BindKey = (wgpu::ComputePipeline, Vec<(u32, wgpu::Buffer)>);

impl BindCache {
    /// Records one dispatch of an fft.wgsl entry point over `groups` workgroups with each
    /// (binding, buffer) pair bound.
    fn dispatch(
        &self,
        ctx: &GpuContext,
        enc: &mut Recorder,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &wgpu::Buffer)],
        groups: [u32; 2],
    ) {
        let key: BindKey = (
            pipeline.clone(),
            buffers
                .iter()
                .map(|(b, buf)| (*b, (*buf).clone()))
                .collect(),
        );
        let bind = self
            .0
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                let entries: Vec<wgpu::BindGroupEntry> = buffers
                    .iter()
                    .map(|(binding, buffer)| wgpu::BindGroupEntry {
                        binding: *binding,
                        resource: buffer.as_entire_binding(),
                    })
                    .collect();
                ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("fft"),
                    layout: &pipeline.get_bind_group_layout(0),
                    entries: &entries,
                })
            })
            .clone();
        enc.dispatch(pipeline, &[(&bind, &[])], groups);
    }
}
