//! Geometric multigrid on the device (shaders/multigrid.wgsl): the V-cycle that preconditions
//! the convex-splitting step's Newton systems, the same hierarchy and the same arithmetic as
//! `backend::cpu::multigrid` in f32. The coefficients of the finest level are written by the
//! caller's kernels into [`GpuMultigrid::fine`]; [`GpuMultigrid::setup`] builds the coarser
//! levels and the coarsest factor on the device, [`GpuMultigrid::apply`] records one cycle.

use super::context::GpuContext;
use super::recorder::Recorder;
use super::shaders;
use super::typed::{Binding, Kernel, Threads, module, storage, uniform};
use crate::bindings;
use crate::error::{Error, Result};
use crate::finite_volume::{Coarsening, DIRECT, coarsening};

/// The uniform of a level; twin of `struct Level` in multigrid.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LevelParams {
    /// Voxels per axis, and the dimension.
    pub n: [u32; 4],
    /// 2 along a coarsened axis, else 1; this level's voxels.
    pub factor: [u32; 4],
    /// The next coarser level's voxels per axis, and their count.
    pub coarse: [u32; 4],
}

impl LevelParams {
    pub fn new(shape: &Coarsening, dim: usize) -> LevelParams {
        let q = shape.coarse();
        let u = |v: usize| v as u32;
        LevelParams {
            n: [u(shape.n[0]), u(shape.n[1]), u(shape.n[2]), u(dim)],
            factor: [
                u(shape.factor[0]),
                u(shape.factor[1]),
                u(shape.factor[2]),
                u(shape.len()),
            ],
            coarse: [u(q[0]), u(q[1]), u(q[2]), u(q[0] * q[1] * q[2])],
        }
    }
}

const COARSEN: &[Binding] = bindings![
    level: Uniform @ 0, diag: Read @ 1, g: Read @ 2, mask: Read @ 3,
    coarse_diag: ReadWrite @ 8, coarse_g: ReadWrite @ 9, coarse_mask: ReadWrite @ 10,
];
const INVERT: &[Binding] = bindings![
    level: Uniform @ 0, diag: Read @ 1, g: Read @ 2, mask: Read @ 3, inverse: ReadWrite @ 4,
];
const RELAX: &[Binding] = bindings![
    level: Uniform @ 0, g: Read @ 2, inverse: ReadWrite @ 4, b: Read @ 5, x: ReadWrite @ 6,
];
const CLEAR: &[Binding] = bindings![level: Uniform @ 0, x: ReadWrite @ 6];
const RESIDUAL: &[Binding] = bindings![
    level: Uniform @ 0, diag: Read @ 1, g: Read @ 2, mask: Read @ 3, b: Read @ 5,
    x: ReadWrite @ 6, r: ReadWrite @ 7,
];
const RESTRICT_RESIDUAL: &[Binding] =
    bindings![level: Uniform @ 0, r: ReadWrite @ 7, coarse_b: ReadWrite @ 11];
const PROLONG: &[Binding] = bindings![
    level: Uniform @ 0, mask: Read @ 3, x: ReadWrite @ 6, coarse_x: Read @ 12,
];
const COARSE_FACTOR: &[Binding] = bindings![
    level: Uniform @ 0, diag: Read @ 1, g: Read @ 2, mask: Read @ 3, factor: ReadWrite @ 13,
];
const COARSE_SOLVE: &[Binding] = bindings![
    level: Uniform @ 0, mask: Read @ 3, b: Read @ 5, x: ReadWrite @ 6, factor: ReadWrite @ 13,
];

/// Every entry point of multigrid.wgsl with its bindings (for tests/shaders.rs).
pub const ENTRY_POINTS: [(&str, &[Binding]); 10] = [
    ("coarsen", COARSEN),
    ("invert", INVERT),
    ("relax_red", RELAX),
    ("relax_black", RELAX),
    ("clear", CLEAR),
    ("residual", RESIDUAL),
    ("restrict_residual", RESTRICT_RESIDUAL),
    ("prolong", PROLONG),
    ("coarse_factor", COARSE_FACTOR),
    ("coarse_solve", COARSE_SOLVE),
];

/// The multigrid family: one method per entry point, taking its buffers by name in binding
/// order (the `level` uniform first) and the number of voxels it runs over.
pub struct MultigridKernels {
    coarsen: Kernel,
    invert: Kernel,
    relax_red: Kernel,
    relax_black: Kernel,
    clear: Kernel,
    residual: Kernel,
    restrict_residual: Kernel,
    prolong: Kernel,
    coarse_factor: Kernel,
    coarse_solve: Kernel,
}

type B = wgpu::Buffer;

impl MultigridKernels {
    pub fn new(ctx: &GpuContext) -> Result<MultigridKernels> {
        let m = module(ctx, "multigrid", shaders::MULTIGRID)?;
        let k = |(entry, bindings): (&'static str, &'static [Binding])| {
            Kernel::new(ctx, &m, entry, bindings)
        };
        let [c, i, rr, rb, cl, re, rs, p, cf, cs] = ENTRY_POINTS;
        Ok(MultigridKernels {
            coarsen: k(c)?,
            invert: k(i)?,
            relax_red: k(rr)?,
            relax_black: k(rb)?,
            clear: k(cl)?,
            residual: k(re)?,
            restrict_residual: k(rs)?,
            prolong: k(p)?,
            coarse_factor: k(cf)?,
            coarse_solve: k(cs)?,
        })
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn coarsen(
        &self,
        enc: &mut Recorder,
        level: &B,
        diag: &B,
        g: &B,
        mask: &B,
        coarse_diag: &B,
        coarse_g: &B,
        coarse_mask: &B,
        coarse_voxels: usize,
    ) {
        self.coarsen.record(
            enc,
            &[level, diag, g, mask, coarse_diag, coarse_g, coarse_mask],
            Threads::PerElement(coarse_voxels),
        );
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn invert(
        &self,
        enc: &mut Recorder,
        level: &B,
        diag: &B,
        g: &B,
        mask: &B,
        inverse: &B,
        voxels: usize,
    ) {
        self.invert.record(
            enc,
            &[level, diag, g, mask, inverse],
            Threads::PerElement(voxels),
        );
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn relax_red(
        &self,
        enc: &mut Recorder,
        level: &B,
        g: &B,
        inverse: &B,
        b: &B,
        x: &B,
        voxels: usize,
    ) {
        self.relax_red
            .record(enc, &[level, g, inverse, b, x], Threads::PerElement(voxels));
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn relax_black(
        &self,
        enc: &mut Recorder,
        level: &B,
        g: &B,
        inverse: &B,
        b: &B,
        x: &B,
        voxels: usize,
    ) {
        self.relax_black
            .record(enc, &[level, g, inverse, b, x], Threads::PerElement(voxels));
    }

    pub fn clear(&self, enc: &mut Recorder, level: &B, x: &B, voxels: usize) {
        self.clear
            .record(enc, &[level, x], Threads::PerElement(voxels));
    }

    #[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
    pub fn residual(
        &self,
        enc: &mut Recorder,
        level: &B,
        diag: &B,
        g: &B,
        mask: &B,
        b: &B,
        x: &B,
        r: &B,
        voxels: usize,
    ) {
        self.residual.record(
            enc,
            &[level, diag, g, mask, b, x, r],
            Threads::PerElement(voxels),
        );
    }

    pub fn restrict_residual(
        &self,
        enc: &mut Recorder,
        level: &B,
        r: &B,
        coarse_b: &B,
        coarse: usize,
    ) {
        self.restrict_residual
            .record(enc, &[level, r, coarse_b], Threads::PerElement(coarse));
    }

    pub fn prolong(
        &self,
        enc: &mut Recorder,
        level: &B,
        mask: &B,
        x: &B,
        coarse_x: &B,
        voxels: usize,
    ) {
        self.prolong.record(
            enc,
            &[level, mask, x, coarse_x],
            Threads::PerElement(voxels),
        );
    }

    pub fn coarse_factor(
        &self,
        enc: &mut Recorder,
        level: &B,
        diag: &B,
        g: &B,
        mask: &B,
        factor: &B,
    ) {
        self.coarse_factor
            .record(enc, &[level, diag, g, mask, factor], Threads::One);
    }

    pub fn coarse_solve(&self, enc: &mut Recorder, level: &B, mask: &B, b: &B, x: &B, factor: &B) {
        self.coarse_solve
            .record(enc, &[level, mask, b, x, factor], Threads::One);
    }
}

/// One level's uniform, coefficients and workspace on the device.
struct Level {
    shape: Coarsening,
    params: B,
    diag: B,
    g: B,
    mask: B,
    inverse: B,
    /// The cycle's right-hand side and iterate (the caller's on the finest level).
    b: B,
    x: B,
    r: B,
}

/// The hierarchy of one grid on the device.
pub struct GpuMultigrid {
    kernels: std::rc::Rc<MultigridKernels>,
    levels: Vec<Level>,
    factor: B,
}

impl GpuMultigrid {
    /// The levels of grid `n` ([`coarsening`]). Every level the cycle smooths must have even
    /// axes (two colours that never meet across the periodic wrap, so each colour updates at
    /// once), and the coarsest at most [`DIRECT`] voxels: powers of two give both.
    pub fn new(
        ctx: &GpuContext,
        kernels: std::rc::Rc<MultigridKernels>,
        n: [usize; 3],
        dim: usize,
    ) -> Result<GpuMultigrid> {
        let shapes = coarsening(n, dim);
        let coarsest = shapes.last().expect("one level").len();
        let odd = shapes[..shapes.len() - 1]
            .iter()
            .any(|s| s.n.iter().any(|&v| v > 1 && v % 2 == 1));
        if odd || coarsest > DIRECT {
            return Err(Error::Gpu {
                what: "multigrid".into(),
                message: format!(
                    "grid {n:?} does not coarsen to at most {DIRECT} voxels through even axes"
                ),
                fix: "use a power of two along each axis, or --backend cpu".into(),
            });
        }
        let levels = shapes
            .iter()
            .enumerate()
            .map(|(l, shape)| {
                let len = shape.len();
                let name = |what: &str| format!("multigrid {what} {l}");
                let fine = l == 0;
                Level {
                    shape: *shape,
                    params: uniform(ctx, &name("level"), &LevelParams::new(shape, dim)),
                    diag: storage(ctx, &name("diag"), len),
                    g: storage(ctx, &name("g"), dim * len),
                    mask: storage(ctx, &name("mask"), len),
                    inverse: storage(ctx, &name("inverse"), len),
                    b: storage(ctx, &name("b"), if fine { 1 } else { len }),
                    x: storage(ctx, &name("x"), if fine { 1 } else { len }),
                    r: storage(ctx, &name("r"), len),
                }
            })
            .collect();
        Ok(GpuMultigrid {
            kernels,
            levels,
            factor: storage(ctx, "multigrid factor", coarsest * coarsest),
        })
    }

    /// Number of levels.
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// The finest level's diagonal, axis-major conductances and mask flags (u32), for the
    /// caller to fill before [`Self::setup`].
    pub fn fine(&self) -> (&B, &B, &B) {
        let f = &self.levels[0];
        (&f.diag, &f.g, &f.mask)
    }

    /// Records the coarser levels' coefficients, every level's divisors and the coarsest
    /// factor, from the finest level's coefficients.
    pub fn setup(&self, enc: &mut Recorder) {
        let k = &self.kernels;
        for pair in self.levels.windows(2) {
            let (f, c) = (&pair[0], &pair[1]);
            k.coarsen(
                enc,
                &f.params,
                &f.diag,
                &f.g,
                &f.mask,
                &c.diag,
                &c.g,
                &c.mask,
                c.shape.len(),
            );
        }
        for l in &self.levels {
            k.invert(
                enc,
                &l.params,
                &l.diag,
                &l.g,
                &l.mask,
                &l.inverse,
                l.shape.len(),
            );
        }
        let last = self.levels.last().expect("one level");
        k.coarse_factor(
            enc,
            &last.params,
            &last.diag,
            &last.g,
            &last.mask,
            &self.factor,
        );
    }

    /// Records z ← one V-cycle applied to r, from a zero guess.
    pub fn apply(&self, enc: &mut Recorder, r: &B, z: &B) {
        self.cycle(enc, 0, r, z);
    }

    fn cycle(&self, enc: &mut Recorder, l: usize, b: &B, x: &B) {
        let k = &self.kernels;
        let level = &self.levels[l];
        let len = level.shape.len();
        if l + 1 == self.levels.len() {
            k.coarse_solve(enc, &level.params, &level.mask, b, x, &self.factor);
            return;
        }
        let (p, g, inv) = (&level.params, &level.g, &level.inverse);
        k.clear(enc, p, x, len);
        k.relax_red(enc, p, g, inv, b, x, len);
        k.relax_black(enc, p, g, inv, b, x, len);
        k.residual(enc, p, &level.diag, g, &level.mask, b, x, &level.r, len);
        let coarse = &self.levels[l + 1];
        k.restrict_residual(enc, p, &level.r, &coarse.b, coarse.shape.len());
        self.cycle(enc, l + 1, &coarse.b, &coarse.x);
        k.prolong(enc, p, &level.mask, x, &coarse.x, len);
        k.relax_black(enc, p, g, inv, b, x, len);
        k.relax_red(enc, p, g, inv, b, x, len);
    }
}
