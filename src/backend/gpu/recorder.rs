//! Records a submission's dispatches into one compute pass.
//!
//! wgpu gives every compute pass its own command buffer (and a transition buffer for the
//! barriers before it). One pass per dispatch, as this backend first did, meant hundreds of
//! command buffers per step and thousands per elastic solve; lavapipe keeps per-command-buffer
//! memory that grew the process by tens of MB a second. Inside one pass wgpu still inserts the
//! storage barriers between dispatches (each dispatch is its own usage scope), so the results are
//! the same; the pass is closed only for a buffer copy.

/// A command encoder with at most one open compute pass.
pub struct Recorder {
    encoder: wgpu::CommandEncoder,
    pass: Option<wgpu::ComputePass<'static>>,
}

impl Recorder {
    pub fn new(device: &wgpu::Device) -> Self {
        Recorder {
            encoder: device.create_command_encoder(&Default::default()),
            pass: None,
        }
    }

    /// The open compute pass (opened on first use after a copy or at the start).
    pub fn pass(&mut self) -> &mut wgpu::ComputePass<'static> {
        let encoder = &mut self.encoder;
        self.pass.get_or_insert_with(|| {
            encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("swellfield"),
                    timestamp_writes: None,
                })
                .forget_lifetime()
        })
    }

    /// Records one dispatch of `pipeline` with `binds` as its bind groups 0, 1, …
    pub fn dispatch(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        binds: &[(&wgpu::BindGroup, &[u32])],
        groups: [u32; 2],
    ) {
        let pass = self.pass();
        pass.set_pipeline(pipeline);
        for (index, (bind, offsets)) in binds.iter().enumerate() {
            pass.set_bind_group(index as u32, *bind, offsets);
        }
        pass.dispatch_workgroups(groups[0], groups[1], 1);
    }

    /// Copies `size` bytes from the start of `from` to the start of `to` (closes the pass).
    pub fn copy(&mut self, from: &wgpu::Buffer, to: &wgpu::Buffer, size: u64) {
        self.pass = None;
        self.encoder.copy_buffer_to_buffer(from, 0, to, 0, size);
    }

    pub fn finish(mut self) -> wgpu::CommandBuffer {
        self.pass = None;
        self.encoder.finish()
    }
}
