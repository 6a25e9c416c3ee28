//! Preconditioned MINRES on the device (shaders/minres.wgsl), the GPU's twin of
//! `backend::cpu::krylov::minres`: the same sequence of entry points with the same rotations of
//! its vectors, the scalars kept on the device. The operator and the preconditioner are the
//! caller's ([`LinearOperator`]), as on the CPU. The host reads the solver's state once per
//! batch of [`BATCH`] iterations.

use super::context::GpuContext;
use super::recorder::Recorder;
use super::shaders;
use super::typed::{Binding, Kernel, Threads, module, storage};
use crate::bindings;
use crate::error::Result;

/// Iterations recorded between two reads of the solver's state.
pub const BATCH: usize = 16;

/// The solver's scalars; twin of `struct MinresState` in minres.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GpuMinresState {
    pub tolerance: f32,
    pub beta1: f32,
    pub beta: f32,
    pub oldb: f32,
    pub alpha: f32,
    pub dbar: f32,
    pub epsln: f32,
    pub oldeps: f32,
    pub delta: f32,
    pub phi: f32,
    pub phibar: f32,
    pub cs: f32,
    pub sn: f32,
    pub denom: f32,
    pub iterations: u32,
    pub done: u32,
}

const START: &[Binding] = bindings![
    rhs: Read @ 2, x: ReadWrite @ 3, r2: ReadWrite @ 7, w: ReadWrite @ 8, w1: ReadWrite @ 9,
    w2: ReadWrite @ 10,
];
const DOT_PARTIAL: &[Binding] =
    bindings![partials: ReadWrite @ 1, left: Read @ 11, right: Read @ 12];
const FOLD: &[Binding] = bindings![minres: ReadWrite @ 0, partials: ReadWrite @ 1];
const NORMALISE: &[Binding] = bindings![minres: ReadWrite @ 0, v: ReadWrite @ 4, y: ReadWrite @ 5];
const LANCZOS_PREVIOUS: &[Binding] =
    bindings![minres: ReadWrite @ 0, y: ReadWrite @ 5, r1: ReadWrite @ 6];
const LANCZOS: &[Binding] = bindings![minres: ReadWrite @ 0, y: ReadWrite @ 5, r2: ReadWrite @ 7];
const UPDATE: &[Binding] = bindings![
    minres: ReadWrite @ 0, x: ReadWrite @ 3, v: ReadWrite @ 4, w: ReadWrite @ 8,
    w1: ReadWrite @ 9, w2: ReadWrite @ 10,
];

/// Every entry point of minres.wgsl with its bindings (for tests/shaders.rs).
pub const ENTRY_POINTS: [(&str, &[Binding]); 9] = [
    ("minres_start", START),
    ("dot_partial", DOT_PARTIAL),
    ("minres_begin", FOLD),
    ("minres_normalise", NORMALISE),
    ("minres_lanczos_previous", LANCZOS_PREVIOUS),
    ("minres_alpha", FOLD),
    ("minres_lanczos", LANCZOS),
    ("minres_rotate", FOLD),
    ("minres_update", UPDATE),
];

type B = wgpu::Buffer;

/// The MINRES family: one method per entry point, buffers by name in binding order.
pub struct MinresKernels {
    start: Kernel,
    dot_partial: Kernel,
    begin: Kernel,
    normalise: Kernel,
    lanczos_previous: Kernel,
    alpha: Kernel,
    lanczos: Kernel,
    rotate: Kernel,
    update: Kernel,
}

impl MinresKernels {
    pub fn new(ctx: &GpuContext) -> Result<MinresKernels> {
        let m = module(ctx, "minres", shaders::MINRES)?;
        let k = |(entry, bindings): (&'static str, &'static [Binding])| {
            Kernel::new(ctx, &m, entry, bindings)
        };
        let [s, d, b, n, lp, a, l, r, u] = ENTRY_POINTS;
        Ok(MinresKernels {
            start: k(s)?,
            dot_partial: k(d)?,
            begin: k(b)?,
            normalise: k(n)?,
            lanczos_previous: k(lp)?,
            alpha: k(a)?,
            lanczos: k(l)?,
            rotate: k(r)?,
            update: k(u)?,
        })
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn minres_start(
        &self,
        enc: &mut Recorder,
        rhs: &B,
        x: &B,
        r2: &B,
        w: &B,
        w1: &B,
        w2: &B,
        len: usize,
    ) {
        self.start
            .record(enc, &[rhs, x, r2, w, w1, w2], Threads::PerElement(len));
    }

    pub fn dot_partial(&self, enc: &mut Recorder, partials: &B, left: &B, right: &B, len: usize) {
        self.dot_partial
            .record(enc, &[partials, left, right], Threads::PerElement(len));
    }

    pub fn minres_begin(&self, enc: &mut Recorder, minres: &B, partials: &B) {
        self.begin.record(enc, &[minres, partials], Threads::One);
    }

    pub fn minres_normalise(&self, enc: &mut Recorder, minres: &B, v: &B, y: &B, len: usize) {
        self.normalise
            .record(enc, &[minres, v, y], Threads::PerElement(len));
    }

    pub fn minres_lanczos_previous(
        &self,
        enc: &mut Recorder,
        minres: &B,
        y: &B,
        r1: &B,
        len: usize,
    ) {
        self.lanczos_previous
            .record(enc, &[minres, y, r1], Threads::PerElement(len));
    }

    pub fn minres_alpha(&self, enc: &mut Recorder, minres: &B, partials: &B) {
        self.alpha.record(enc, &[minres, partials], Threads::One);
    }

    pub fn minres_lanczos(&self, enc: &mut Recorder, minres: &B, y: &B, r2: &B, len: usize) {
        self.lanczos
            .record(enc, &[minres, y, r2], Threads::PerElement(len));
    }

    pub fn minres_rotate(&self, enc: &mut Recorder, minres: &B, partials: &B) {
        self.rotate.record(enc, &[minres, partials], Threads::One);
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn minres_update(
        &self,
        enc: &mut Recorder,
        minres: &B,
        x: &B,
        v: &B,
        w: &B,
        w1: &B,
        w2: &B,
        len: usize,
    ) {
        self.update
            .record(enc, &[minres, x, v, w, w1, w2], Threads::PerElement(len));
    }
}

/// What a solve's operator and preconditioner record: `out = A v` and `out = M⁻¹ r`, each a
/// symmetric linear map, M positive definite.
pub trait LinearOperator {
    fn apply(&self, enc: &mut Recorder, v: &B, out: &B);
    fn precondition(&self, enc: &mut Recorder, r: &B, out: &B);
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solved {
    pub iterations: usize,
    /// The preconditioned residual norm over the right-hand side's.
    pub relative_residual: f64,
}

/// A MINRES solver for vectors of one length, with its workspace on the device.
pub struct GpuMinres {
    kernels: MinresKernels,
    len: usize,
    pub state: B,
    partials: B,
    v: B,
    /// r1, r2 and y, whose roles rotate every iteration.
    r: [B; 3],
    /// w1, w2 and w, likewise.
    w: [B; 3],
}

impl GpuMinres {
    pub fn new(ctx: &GpuContext, len: usize) -> Result<GpuMinres> {
        let [gx, gy] = Threads::PerElement(len).groups();
        let parts = (gx * gy) as usize;
        let v = |name: &str| storage(ctx, name, len);
        Ok(GpuMinres {
            kernels: MinresKernels::new(ctx)?,
            len,
            state: storage(ctx, "minres state", 16),
            partials: storage(ctx, "minres partials", parts),
            v: v("minres v"),
            r: [v("minres r1"), v("minres r2"), v("minres y")],
            w: [v("minres w1"), v("minres w2"), v("minres w")],
        })
    }

    /// Solves `A x = rhs` from x = 0 until the preconditioned residual falls to `tolerance` of
    /// the right-hand side's or `max_iterations` pass (rounded up to a whole batch).
    pub fn solve(
        &self,
        ctx: &GpuContext,
        op: &impl LinearOperator,
        rhs: &B,
        x: &B,
        tolerance: f64,
        max_iterations: usize,
    ) -> Result<Solved> {
        let (k, n, st, p) = (&self.kernels, self.len, &self.state, &self.partials);
        let start = GpuMinresState {
            tolerance: tolerance as f32,
            ..GpuMinresState::default()
        };
        ctx.queue.write_buffer(st, 0, bytemuck::bytes_of(&start));
        // Indices of (r1, r2, y) and of (w1, w2, w) in `self.r` and `self.w`.
        let (mut r, mut w) = ([0, 1, 2], [0, 1, 2]);
        let mut enc = Recorder::new(&ctx.device);
        let [w1, w2, w0] = &self.w;
        k.minres_start(&mut enc, rhs, x, &self.r[r[1]], w0, w1, w2, n);
        op.precondition(&mut enc, &self.r[r[1]], &self.r[r[2]]);
        k.dot_partial(&mut enc, p, &self.r[r[1]], &self.r[r[2]], n);
        k.minres_begin(&mut enc, st, p);
        let mut state;
        loop {
            for _ in 0..BATCH {
                let (r1, r2, y) = (&self.r[r[0]], &self.r[r[1]], &self.r[r[2]]);
                k.minres_normalise(&mut enc, st, &self.v, y, n);
                op.apply(&mut enc, &self.v, y);
                k.minres_lanczos_previous(&mut enc, st, y, r1, n);
                k.dot_partial(&mut enc, p, &self.v, y, n);
                k.minres_alpha(&mut enc, st, p);
                k.minres_lanczos(&mut enc, st, y, r2, n);
                r = [r[1], r[2], r[0]];
                let (r2, y) = (&self.r[r[1]], &self.r[r[2]]);
                op.precondition(&mut enc, r2, y);
                k.dot_partial(&mut enc, p, r2, y, n);
                k.minres_rotate(&mut enc, st, p);
                w = [w[1], w[2], w[0]];
                let (w1, w2, w0) = (&self.w[w[0]], &self.w[w[1]], &self.w[w[2]]);
                k.minres_update(&mut enc, st, x, &self.v, w0, w1, w2, n);
            }
            ctx.checked("minres", || ctx.queue.submit([enc.finish()]))?;
            let words = ctx.read_f32(st)?;
            state = *bytemuck::from_bytes::<GpuMinresState>(bytemuck::cast_slice(&words[..16]));
            if state.done != 0 || state.iterations as usize >= max_iterations {
                break;
            }
            enc = Recorder::new(&ctx.device);
        }
        Ok(Solved {
            iterations: state.iterations as usize,
            relative_residual: if state.beta1 > 0.0 {
                f64::from(state.phibar / state.beta1)
            } else {
                0.0
            },
        })
    }
}
