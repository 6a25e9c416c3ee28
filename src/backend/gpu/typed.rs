//! Kernels declared once with their bindings and bound by name (architecture.md §3, vello's
//! `add_shader!`). A WGSL family declares each named buffer once, at its own binding number;
//! an entry point binds the subset it uses. Here a [`Kernel`] is that entry point with its
//! binding list, and each family is a Rust type whose methods take the entry point's buffers
//! by name, in binding order, so the compiler checks what a slot number could not.
//! `tests/shaders.rs` checks every declared binding list against naga's reflection of the
//! entry point.

use std::cell::RefCell;
use std::collections::HashMap;

use super::context::GpuContext;
use super::recorder::Recorder;
use crate::error::Result;

/// Invocations per workgroup of the voxel-parallel entry points of the typed families
/// (`VOXELS` in their WGSL).
pub const VOXELS: u32 = 256;

/// How an entry point uses one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Uniform,
    Read,
    ReadWrite,
}

/// One binding of an entry point: its number in group 0 and its access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub name: &'static str,
    pub binding: u32,
    pub access: Access,
}

/// How many workgroups a dispatch has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// One invocation per element, [`VOXELS`] to a workgroup (2-D beyond 65535 groups).
    PerElement(usize),
    /// A single workgroup.
    One,
}

impl Threads {
    /// The dispatch's workgroups along x and y (what a reduction's partials are sized by).
    pub fn groups(self) -> [u32; 2] {
        match self {
            Threads::PerElement(n) => {
                let blocks = n.div_ceil(VOXELS as usize).max(1);
                let gx = blocks.min(65_535);
                [gx as u32, blocks.div_ceil(gx) as u32]
            }
            Threads::One => [1, 1],
        }
    }
}

/// One entry point: its pipeline, its bind-group layout and the bind groups made for it, one
/// per set of buffers it has been given (a solver binds the same few sets over and over).
pub struct Kernel {
    pub entry: &'static str,
    pub bindings: &'static [Binding],
    device: wgpu::Device,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
    groups: RefCell<HashMap<Vec<wgpu::Buffer>, wgpu::BindGroup>>,
}

impl Kernel {
    /// The pipeline of `entry` in `module` with layout `bindings`.
    pub fn new(
        ctx: &GpuContext,
        module: &wgpu::ShaderModule,
        entry: &'static str,
        bindings: &'static [Binding],
    ) -> Result<Kernel> {
        let dev = &ctx.device;
        ctx.checked(entry, || {
            let entries: Vec<_> = bindings
                .iter()
                .map(|b| wgpu::BindGroupLayoutEntry {
                    binding: b.binding,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: match b.access {
                            Access::Uniform => wgpu::BufferBindingType::Uniform,
                            Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                            Access::ReadWrite => {
                                wgpu::BufferBindingType::Storage { read_only: false }
                            }
                        },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                })
                .collect();
            let layout = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(entry),
                entries: &entries,
            });
            let pipeline_layout = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(entry),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
            Kernel {
                entry,
                bindings,
                device: dev.clone(),
                layout,
                pipeline,
                groups: RefCell::new(HashMap::new()),
            }
        })
    }

    /// Records one dispatch with `buffers` bound in the order of [`Self::bindings`].
    pub fn record(&self, enc: &mut Recorder, buffers: &[&wgpu::Buffer], threads: Threads) {
        assert_eq!(
            buffers.len(),
            self.bindings.len(),
            "{}: {} buffers for {} bindings",
            self.entry,
            buffers.len(),
            self.bindings.len()
        );
        let key: Vec<wgpu::Buffer> = buffers.iter().map(|&b| b.clone()).collect();
        let mut groups = self.groups.borrow_mut();
        let group = groups.entry(key).or_insert_with(|| {
            let entries: Vec<_> = self
                .bindings
                .iter()
                .zip(buffers)
                .map(|(b, buffer)| wgpu::BindGroupEntry {
                    binding: b.binding,
                    resource: buffer.as_entire_binding(),
                })
                .collect();
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(self.entry),
                layout: &self.layout,
                entries: &entries,
            })
        });
        enc.dispatch(&self.pipeline, &[(group, &[])], threads.groups());
    }
}

/// Compiles one family's assembled WGSL.
pub fn module(ctx: &GpuContext, label: &str, source: &str) -> Result<wgpu::ShaderModule> {
    ctx.checked(label, || {
        ctx.device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            })
    })
}

/// A storage buffer of `len` f32 (or u32) elements, zeroed, readable back and writable from the
/// host.
pub fn storage(ctx: &GpuContext, label: &str, len: usize) -> wgpu::Buffer {
    use wgpu::BufferUsages as U;
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (4 * len.max(1)) as u64,
        usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
        mapped_at_creation: false,
    })
}

/// A uniform buffer holding `value`.
pub fn uniform<T: bytemuck::Pod>(ctx: &GpuContext, label: &str, value: &T) -> wgpu::Buffer {
    use wgpu::util::DeviceExt;
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(value),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        })
}

/// Declares a binding list: `bindings![level: Uniform @ 0, diag: Read @ 1]`.
#[macro_export]
macro_rules! bindings {
    ($($name:ident : $access:ident @ $n:literal),* $(,)?) => {
        &[$($crate::backend::gpu::typed::Binding {
            name: stringify!($name),
            binding: $n,
            access: $crate::backend::gpu::typed::Access::$access,
        }),*]
    };
}
