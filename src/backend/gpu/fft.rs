//! Complex FFTs of power-of-two 3-D grids on the GPU: one compute pass per axis
//! (`shaders/fft.wgsl`), each line transformed in workgroup memory. Sizes the shader cannot do
//! (lines longer than 1024) are refused with an error, never silently changed (model.md §6).

use wgpu::util::DeviceExt;

use super::context::GpuContext;
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
    pub pad2: u32,
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
}

impl GpuFft {
    pub fn new(ctx: &GpuContext, n: [usize; 3]) -> Result<Self> {
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
        let table_len = n.iter().copied().max().unwrap_or(1).max(2);
        let twiddles: Vec<f32> = (0..table_len)
            .flat_map(|m| {
                let a = -std::f64::consts::TAU * m as f64 / table_len as f64;
                [a.cos() as f32, a.sin() as f32]
            })
            .collect();
        let table = ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("fft twiddles"),
                contents: bytemuck::cast_slice(&twiddles),
                usage: wgpu::BufferUsages::STORAGE,
            });
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
            let axes: Vec<usize> = (0..3).filter(|&a| n[a] > 1).collect();
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
                    scale: if inverse && last {
                        1.0 / total as f32
                    } else {
                        1.0
                    },
                    table_len: table_len as u32,
                    sub_lines: 1,
                    sub_stride: 0,
                    elem_stride: 1,
                    post_twiddle: 0,
                    full_len: len as u32,
                    pad2: 0,
                    pad3: 0,
                    pad4: 0,
                };
                // Each FFT pass: its uniform with the workgroup count filled in.
                let mut fft_pass = |mut p: FftParams| {
                    let g = groups(p.lines as usize);
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
        })
    }

    /// Records the forward (unnormalised) or inverse (divided by the voxel count) transform of
    /// `data`, a buffer of `vec2<f32>` in grid order, into `enc`.
    pub fn encode(
        &self,
        ctx: &GpuContext,
        enc: &mut wgpu::CommandEncoder,
        data: &wgpu::Buffer,
        inverse: bool,
    ) {
        for (_, permute, params, groups) in self.params.iter().filter(|p| p.0 == inverse) {
            let (pipeline, scratch) = match (permute, &self.scratch) {
                (true, Some(scratch)) => (&self.permute, Some(scratch)),
                _ => (&self.pipeline, None),
            };
            let layout = pipeline.get_bind_group_layout(0);
            let mut entries = vec![
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: data.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: params.as_entire_binding(),
                },
            ];
            match scratch {
                Some(s) => entries.push(wgpu::BindGroupEntry {
                    binding: 3,
                    resource: s.as_entire_binding(),
                }),
                None => entries.push(wgpu::BindGroupEntry {
                    binding: 2,
                    resource: self.table.as_entire_binding(),
                }),
            }
            let bind = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("fft"),
                layout: &layout,
                entries: &entries,
            });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("fft"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(groups[0], groups[1], 1);
            }
            if let Some(s) = scratch {
                enc.copy_buffer_to_buffer(s, 0, data, 0, s.size());
            }
        }
    }
}
