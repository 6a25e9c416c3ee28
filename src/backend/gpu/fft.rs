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
    pub pad1: u32,
}

/// The longest line one workgroup transforms (`FFT_MAX_LEN` in fft.wgsl).
pub const MAX_LEN: usize = 1024;
/// Workgroups per dispatch dimension that wgpu allows.
const MAX_GROUPS: usize = 65_535;

/// A compiled FFT for one grid shape.
pub struct GpuFft {
    pub n: [usize; 3],
    pipeline: wgpu::ComputePipeline,
    /// exp(−2πi m / L) for m < L, L the longest axis: computed once in f64.
    table: wgpu::Buffer,
    /// Uniforms per axis, forward and inverse.
    params: Vec<(usize, bool, wgpu::Buffer, [u32; 2])>,
}

impl GpuFft {
    pub fn new(ctx: &GpuContext, n: [usize; 3]) -> Result<Self> {
        if let Some(&bad) = n.iter().find(|&&v| v > MAX_LEN) {
            return Err(Error::Gpu {
                what: "FFT".into(),
                message: format!(
                    "a grid axis of {bad} voxels is longer than the GPU FFT's {MAX_LEN}"
                ),
                fix: "use at most 1024 voxels per axis, or --backend cpu".into(),
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
        for inverse in [false, true] {
            let axes: Vec<usize> = (0..3).filter(|&a| n[a] > 1).collect();
            for (k, &axis) in axes.iter().enumerate() {
                let lines = total / n[axis];
                let groups_x = lines.min(MAX_GROUPS);
                let groups_y = lines.div_ceil(groups_x);
                let last = k + 1 == axes.len();
                let p = FftParams {
                    nx: n[0] as u32,
                    ny: n[1] as u32,
                    nz: n[2] as u32,
                    axis: axis as u32,
                    len: n[axis] as u32,
                    stride: [1, n[0], n[0] * n[1]][axis] as u32,
                    lines: lines as u32,
                    groups_x: groups_x as u32,
                    sign: if inverse { 1.0 } else { -1.0 },
                    scale: if inverse && last {
                        1.0 / total as f32
                    } else {
                        1.0
                    },
                    table_len: table_len as u32,
                    pad1: 0,
                };
                let buffer = ctx
                    .device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("fft params"),
                        contents: bytemuck::bytes_of(&p),
                        usage: wgpu::BufferUsages::UNIFORM,
                    });
                params.push((axis, inverse, buffer, [groups_x as u32, groups_y as u32]));
            }
        }
        Ok(GpuFft {
            n,
            pipeline,
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
        let layout = self.pipeline.get_bind_group_layout(0);
        for (_, inv, params, groups) in self.params.iter().filter(|p| p.1 == inverse) {
            debug_assert_eq!(*inv, inverse);
            let bind = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("fft"),
                layout: &layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: data.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: params.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: self.table.as_entire_binding(),
                    },
                ],
            });
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("fft"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(groups[0], groups[1], 1);
        }
    }
}
