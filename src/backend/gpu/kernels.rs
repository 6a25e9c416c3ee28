//! The runner of the multi-material families (shaders/system.wgsl and the families assembled
//! with it): one pipeline per entry point over one pair of bind-group layouts, fields kept in an
//! arena and bound to eight generic slots per dispatch, and a ring of per-dispatch `Op`
//! uniforms written once per submission (dynamic offsets), so recording a dispatch costs no
//! upload of its own.

use std::cell::RefCell;
use std::collections::HashMap;

use wgpu::util::DeviceExt;

use super::context::GpuContext;
use super::params::{Op, SystemParams, WORKGROUP};
use super::recorder::Recorder;
use super::shaders;
use crate::error::Result;

/// A field in the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufId(usize);

/// Every entry point of the assembled module.
const ENTRIES: [&str; 30] = [
    "copy",
    "fill",
    "zero_if_unloaded",
    "axpy",
    "xpay",
    "lincomb",
    "dot_partial",
    "sum_partial",
    "finish",
    "scalar",
    "gather_nearest",
    "site_mobility",
    "chemical_potential",
    "elastic_potential",
    "elastic_stiffness",
    "commit",
    "mobility_flux",
    "accumulate_divergence",
    "weighted_to_complex",
    "add_weighted_real",
    "scale_modes",
    "update_material",
    "hooke_to_spectra",
    "project",
    "compatible_norm_partial",
    "range_partial",
    "gamma0",
    "spectra_to_tensor",
    "observe_partial",
    "derived_field",
];

/// Entry points that reduce into partials (a `finish` must follow).
const REDUCING: [&str; 6] = [
    "dot_partial",
    "sum_partial",
    "commit",
    "observe_partial",
    "compatible_norm_partial",
    "range_partial",
];

/// Op records per submission (256-byte aligned each, the largest storage offset alignment).
const RING: usize = 8192;
const OP_STRIDE: u64 = 256;
/// Device scalars (system.wgsl's slots).
pub const SCALARS: usize = 256;

pub struct Kernels {
    device: wgpu::Device,
    queue: wgpu::Queue,
    buffers: Vec<wgpu::Buffer>,
    dummy: BufId,
    layout: wgpu::BindGroupLayout,
    bind0: wgpu::BindGroup,
    pipelines: HashMap<&'static str, wgpu::ComputePipeline>,
    binds: RefCell<HashMap<[BufId; 8], wgpu::BindGroup>>,
    ops: RefCell<Vec<Op>>,
    ring: wgpu::Buffer,
    pub params: wgpu::Buffer,
    pub scalars: wgpu::Buffer,
}

impl Kernels {
    /// Compiles the module and sets up the fixed bindings; `largest` is the longest field a
    /// reduction runs over (it sizes the partials).
    pub fn new(
        ctx: &GpuContext,
        params: &SystemParams,
        table: &[f32],
        largest: usize,
    ) -> Result<Self> {
        let dev = &ctx.device;
        use wgpu::BufferUsages as U;
        let entry =
            |binding: u32, ty: wgpu::BufferBindingType, dynamic: bool| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty,
                    has_dynamic_offset: dynamic,
                    min_binding_size: None,
                },
                count: None,
            };
        let rw = wgpu::BufferBindingType::Storage { read_only: false };
        let ro = wgpu::BufferBindingType::Storage { read_only: true };
        let un = wgpu::BufferBindingType::Uniform;
        let params_buffer = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("system params"),
            contents: bytemuck::bytes_of(params),
            usage: U::UNIFORM | U::COPY_DST,
        });
        let ring = dev.create_buffer(&wgpu::BufferDescriptor {
            label: Some("op ring"),
            size: RING as u64 * OP_STRIDE,
            // Storage, not uniform: lavapipe (Mesa 22.3) compiles a shader variant for the
            // values of a uniform that steers control flow and never frees it, so an op uniform
            // grew the process by ~100 kB per dispatch of `scalar` and recompiled the kernels
            // over and over. Read-only storage costs a real GPU nothing here.
            usage: U::STORAGE | U::COPY_DST,
            mapped_at_creation: false,
        });
        let mut init = [0.0f32; SCALARS];
        init[9] = 1.0;
        let scalars = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("scalars"),
            contents: bytemuck::cast_slice(&init),
            usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
        });
        let partial = dev.create_buffer(&wgpu::BufferDescriptor {
            label: Some("partials"),
            size: (largest.div_ceil(WORKGROUP as usize).max(1) * 16) as u64,
            usage: U::STORAGE,
            mapped_at_creation: false,
        });
        let mut table = table.to_vec();
        table.push(0.0);
        let table = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("table"),
            contents: bytemuck::cast_slice(&table),
            usage: U::STORAGE,
        });
        let (layout0, layout, pipelines) = ctx.checked("system pipelines", || {
            let layout0 = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("system fixed"),
                entries: &[
                    entry(0, un, false),
                    entry(1, ro, true),
                    entry(2, rw, false),
                    entry(3, rw, false),
                    entry(4, ro, false),
                ],
            });
            let slots: Vec<_> = (0..8).map(|b| entry(b, rw, false)).collect();
            let layout = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("system slots"),
                entries: &slots,
            });
            let pipeline_layout = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("system"),
                bind_group_layouts: &[Some(&layout0), Some(&layout)],
                immediate_size: 0,
            });
            let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("system"),
                source: wgpu::ShaderSource::Wgsl(shaders::SYSTEM.into()),
            });
            let pipelines = ENTRIES
                .iter()
                .map(|&name| {
                    let p = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(name),
                        layout: Some(&pipeline_layout),
                        module: &module,
                        entry_point: Some(name),
                        compilation_options: Default::default(),
                        cache: None,
                    });
                    (name, p)
                })
                .collect::<HashMap<_, _>>();
            (layout0, layout, pipelines)
        })?;
        let bind0 = dev.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("system fixed"),
            layout: &layout0,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params_buffer.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &ring,
                        offset: 0,
                        size: std::num::NonZeroU64::new(std::mem::size_of::<Op>() as u64),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: scalars.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: partial.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: table.as_entire_binding(),
                },
            ],
        });
        let mut k = Kernels {
            device: dev.clone(),
            queue: ctx.queue.clone(),
            buffers: Vec::new(),
            dummy: BufId(0),
            layout,
            bind0,
            pipelines,
            binds: RefCell::new(HashMap::new()),
            ops: RefCell::new(Vec::new()),
            ring,
            params: params_buffer,
            scalars,
        };
        k.dummy = k.zeros("unused slot", 4);
        Ok(k)
    }

    /// A new zeroed field of `len` f32s.
    pub fn zeros(&mut self, label: &str, len: usize) -> BufId {
        let b = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (len.max(4) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.buffers.push(b);
        BufId(self.buffers.len() - 1)
    }

    /// A new field holding `data` (converted to f32).
    pub fn upload(&mut self, label: &str, data: &[f64]) -> BufId {
        let mut v: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        v.resize(v.len().max(4), 0.0);
        let b = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(&v),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            });
        self.buffers.push(b);
        BufId(self.buffers.len() - 1)
    }

    /// A slot filler for entries that leave a slot unused.
    pub fn dummy(&self) -> BufId {
        self.dummy
    }

    pub fn buffer(&self, id: BufId) -> &wgpu::Buffer {
        &self.buffers[id.0]
    }

    /// The bind group of these slots (cached: a step binds the same few combinations).
    fn bind(&self, slots: &[BufId]) -> wgpu::BindGroup {
        let mut key = [self.dummy; 8];
        key[..slots.len()].copy_from_slice(slots);
        self.binds
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                let entries: Vec<wgpu::BindGroupEntry> = key
                    .iter()
                    .enumerate()
                    .map(|(b, id)| wgpu::BindGroupEntry {
                        binding: b as u32,
                        resource: self.buffers[id.0].as_entire_binding(),
                    })
                    .collect();
                self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("system slots"),
                    layout: &self.layout,
                    entries: &entries,
                })
            })
            .clone()
    }

    fn groups(n: usize) -> [u32; 2] {
        let blocks = n.div_ceil(WORKGROUP as usize).max(1);
        let gx = blocks.min(65_535);
        [gx as u32, blocks.div_ceil(gx) as u32]
    }

    /// Records `entry` over `n` elements with `op` (its `n` and `parts` filled in here).
    pub fn run(
        &self,
        enc: &mut Recorder,
        entry: &'static str,
        mut op: Op,
        slots: &[BufId],
        n: usize,
    ) {
        let groups = if entry == "finish" || entry == "scalar" {
            [1, 1]
        } else {
            Self::groups(n)
        };
        op.n = n as u32;
        if op.parts == 0 {
            op.parts = groups[0] * groups[1];
        }
        let offset = {
            let mut ops = self.ops.borrow_mut();
            assert!(
                ops.len() < RING,
                "more than {RING} dispatches in one submission"
            );
            ops.push(op);
            (ops.len() - 1) as u64 * OP_STRIDE
        };
        let bind = self.bind(slots);
        enc.dispatch(
            &self.pipelines[entry],
            &[(&self.bind0, &[offset as u32]), (&bind, &[])],
            groups,
        );
    }

    /// Records a reducing entry and the `finish` that folds it into scal[dst] (flag as in
    /// linalg.wgsl's `finish`).
    pub fn reduce(
        &self,
        enc: &mut Recorder,
        entry: &'static str,
        op: Op,
        slots: &[BufId],
        n: usize,
        (dst, flag): (u32, u32),
    ) {
        debug_assert!(REDUCING.contains(&entry));
        self.run(enc, entry, op, slots, n);
        let parts = {
            let g = Self::groups(n);
            g[0] * g[1]
        };
        self.run(
            enc,
            "finish",
            Op {
                dst,
                flag,
                parts,
                b: op.b,
                ..Op::default()
            },
            &[],
            1,
        );
    }

    /// Runs a scalar program.
    pub fn scalar(&self, enc: &mut Recorder, op: Op) {
        self.run(enc, "scalar", op, &[], 1);
    }

    pub fn encoder(&self) -> Recorder {
        Recorder::new(&self.device)
    }

    /// Uploads the recorded ops and submits `enc`.
    pub fn submit(&self, enc: Recorder) {
        let ops = std::mem::take(&mut *self.ops.borrow_mut());
        let mut bytes = vec![0u8; ops.len() * OP_STRIDE as usize];
        for (k, op) in ops.iter().enumerate() {
            let at = k * OP_STRIDE as usize;
            bytes[at..at + std::mem::size_of::<Op>()].copy_from_slice(bytemuck::bytes_of(op));
        }
        if !bytes.is_empty() {
            self.queue.write_buffer(&self.ring, 0, &bytes);
        }
        self.queue.submit([enc.finish()]);
    }

    /// Rewrites the uniform (before the next submission).
    pub fn write_params(&self, params: &SystemParams) {
        self.queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(params));
    }
}
