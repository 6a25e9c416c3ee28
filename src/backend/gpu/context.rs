//! The wgpu adapter and device, opened once: the adapter's own limits (not WebGPU's
//! defaults), size checks that name the limit, and validation errors turned into `Error`s.

use crate::error::{Error, Result};

/// A device and its queue, with what the adapter is.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
}

impl GpuContext {
    /// Opens the adapter wgpu picks (`WGPU_BACKEND` and `WGPU_ADAPTER_NAME` honoured),
    /// preferring a discrete GPU; software adapters (lavapipe, llvmpipe) count too.
    pub fn new() -> Result<Self> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(&instance, None)).map_err(|e| {
            Error::BackendUnavailable {
                requested: "gpu".into(),
                reason: format!("no wgpu adapter found ({e})"),
                fix: "install a GPU driver, or Mesa's lavapipe (apt-get install mesa-vulkan-drivers) for a software adapter; or use --backend cpu".into(),
            }
        })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("swellfield"),
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).map_err(|e| {
            Error::BackendUnavailable {
                requested: "gpu".into(),
                reason: format!("the adapter {} refused a device ({e})", info.name),
                fix: "use --backend cpu".into(),
            }
        })?;
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
        })
    }

    /// A software rasteriser (lavapipe, llvmpipe): `auto` prefers the CPU backend over it.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Refuses a field of `voxels` × `bytes_per_voxel` that the adapter cannot bind, naming the
    /// limit and the largest power-of-two grids that fit.
    pub fn check_field(&self, what: &str, voxels: usize, bytes_per_voxel: usize) -> Result<()> {
        let max = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        let bytes = (voxels * bytes_per_voxel) as u64;
        if bytes <= max {
            return Ok(());
        }
        let fit = (max / bytes_per_voxel as u64).max(1);
        let side = |dim: u32| {
            let mut s = 1u64;
            while (2 * s).pow(dim) <= fit {
                s *= 2;
            }
            s
        };
        Err(Error::Gpu {
            what: what.into(),
            message: format!(
                "{voxels} voxels need a {bytes}-byte buffer; this adapter binds at most {max} bytes \
                 (max_storage_buffer_binding_size / max_buffer_size), which holds {fit} voxels: \
                 {}² or {}³ at most",
                side(2),
                side(3)
            ),
            fix: "use a smaller grid or --backend cpu".into(),
        })
    }

    /// Runs `f` inside a validation error scope and reports what wgpu objected to.
    pub fn checked<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        match pollster::block_on(scope.pop()) {
            None => Ok(out),
            Some(e) => Err(Error::Gpu {
                what: what.into(),
                message: e.to_string(),
                fix: "report this with the config; use --backend cpu meanwhile".into(),
            }),
        }
    }

    /// Copies a storage buffer back to the host as f32s (waits for the GPU).
    pub fn read_f32(&self, buffer: &wgpu::Buffer) -> Result<Vec<f32>> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: buffer.size(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
        self.queue.submit([enc.finish()]);
        staging.map_async(wgpu::MapMode::Read, .., |_| {});
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu {
                what: "read back".into(),
                message: e.to_string(),
                fix: "use --backend cpu".into(),
            })?;
        let view = staging.get_mapped_range(..).map_err(|e| Error::Gpu {
            what: "read back".into(),
            message: format!("{e:?}"),
            fix: "use --backend cpu".into(),
        })?;
        let out = bytemuck::cast_slice(&view).to_vec();
        drop(view);
        staging.unmap();
        Ok(out)
    }
}
