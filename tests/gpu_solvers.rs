//! The convex-splitting step's linear solvers on the GPU against their CPU mirrors, on the
//! adapter CI has (lavapipe): each multigrid entry point, a whole V-cycle, and MINRES
//! preconditioned by it. Tolerances are reasoned from f32 (6e-8 per operation): an entry point
//! that sums a few terms carries a few 1e-7 relative; a V-cycle chains a few dozen such
//! operations and a Cholesky solve whose error grows with the coarsest level's condition
//! number, so it is held to 1e-4 at a contrast of 100.

use swellfield::backend::cpu::krylov::minres;
use swellfield::backend::cpu::multigrid::{self as cpu, Multigrid};
use swellfield::backend::gpu::context::GpuContext;
use swellfield::backend::gpu::minres::{GpuMinres, LinearOperator};
use swellfield::backend::gpu::multigrid::{GpuMultigrid, LevelParams, MultigridKernels};
use swellfield::backend::gpu::recorder::Recorder;
use swellfield::backend::gpu::typed::uniform;
use swellfield::finite_volume::{Coarsening, coarsening, neighbour};
use swellfield::initial::SplitMix64;
use wgpu::util::DeviceExt;

fn context() -> GpuContext {
    GpuContext::new().unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"))
}

fn upload(ctx: &GpuContext, data: &[f64]) -> wgpu::Buffer {
    let f: Vec<f32> = data.iter().map(|&v| v as f32).collect();
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("test"),
            contents: bytemuck::cast_slice(&f),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
        })
}

fn upload_mask(ctx: &GpuContext, mask: &[bool]) -> wgpu::Buffer {
    let u: Vec<u32> = mask.iter().map(|&m| m as u32).collect();
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("test mask"),
            contents: bytemuck::cast_slice(&u),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        })
}

fn read(ctx: &GpuContext, b: &wgpu::Buffer) -> Vec<f64> {
    ctx.read_f32(b)
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn read_mask(ctx: &GpuContext, b: &wgpu::Buffer) -> Vec<bool> {
    ctx.read_f32(b)
        .unwrap()
        .into_iter()
        .map(|v| v.to_bits() != 0)
        .collect()
}

fn submit(ctx: &GpuContext, enc: Recorder) {
    ctx.queue.submit([enc.finish()]);
}

/// Largest |gpu − cpu| over the largest |cpu|.
fn relative(gpu: &[f64], cpu: &[f64]) -> f64 {
    assert_eq!(gpu.len(), cpu.len());
    let scale = cpu.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let diff = gpu
        .iter()
        .zip(cpu)
        .fold(0.0_f64, |m, (g, c)| m.max((g - c).abs()));
    diff / scale.max(f64::MIN_POSITIVE)
}

/// A block of the step's form on grid n: a positive diagonal on the active voxels, a square
/// pore (inactive, no faces) and checkerboard conductances of the given contrast; axis-major.
struct Block {
    n: [usize; 3],
    dim: usize,
    diag: Vec<f64>,
    g: Vec<Vec<f64>>,
    mask: Vec<bool>,
}

fn block(n: [usize; 3], dim: usize, contrast: f64, seed: u64) -> Block {
    let len = n[0] * n[1] * n[2];
    let mut rng = SplitMix64(seed);
    let coords = |i: usize| [i % n[0], (i / n[0]) % n[1], i / (n[0] * n[1])];
    let mask: Vec<bool> = (0..len)
        .map(|i| {
            let c = coords(i);
            !(c[..dim]
                .iter()
                .all(|&v| (n[0] / 4..n[0] / 4 + 3).contains(&v)))
        })
        .collect();
    let diag: Vec<f64> = (0..len)
        .map(|i| {
            if mask[i] {
                0.01 + 0.1 * rng.next_f64()
            } else {
                0.0
            }
        })
        .collect();
    let g = (0..dim)
        .map(|a| {
            (0..len)
                .map(|i| {
                    let j = neighbour(n, i, a, true);
                    if !(mask[i] && mask[j]) {
                        return 0.0;
                    }
                    let c = coords(i);
                    let fast = (c[0] / 4 + c[1] / 4 + c[2] / 4) % 2 == 0;
                    (if fast { contrast } else { 1.0 }) * (0.5 + rng.next_f64())
                })
                .collect()
        })
        .collect();
    Block {
        n,
        dim,
        diag,
        g,
        mask,
    }
}

impl Block {
    fn flat_g(&self) -> Vec<f64> {
        self.g.concat()
    }
}

fn field(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64(seed);
    (0..len).map(|_| rng.next_f64() - 0.5).collect()
}

/// Each entry point of multigrid.wgsl against its CPU mirror, on the finest level of a 2-D
/// and a 3-D block and on its coarsest level for the Cholesky pair.
#[test]
fn multigrid_entry_points_match_their_cpu_mirrors() {
    let ctx = context();
    let k = MultigridKernels::new(&ctx).unwrap();
    for (n, dim) in [([16, 16, 1], 2), ([8, 8, 8], 3)] {
        let blk = block(n, dim, 100.0, 7);
        let shape = coarsening(n, dim)[0];
        let len = shape.len();
        let q = shape.coarse();
        let clen = q[0] * q[1] * q[2];
        let level = uniform(&ctx, "level", &LevelParams::new(&shape, dim));
        let g = blk.flat_g();
        let (diag_b, g_b, mask_b) = (
            upload(&ctx, &blk.diag),
            upload(&ctx, &g),
            upload_mask(&ctx, &blk.mask),
        );
        let tol = 1e-6;

        // coarsen
        let (cd, cg, cm) = (
            upload(&ctx, &vec![0.0; clen]),
            upload(&ctx, &vec![0.0; dim * clen]),
            upload(&ctx, &vec![0.0; clen]),
        );
        let mut enc = Recorder::new(&ctx.device);
        k.coarsen(
            &mut enc, &level, &diag_b, &g_b, &mask_b, &cd, &cg, &cm, clen,
        );
        submit(&ctx, enc);
        let (mut d_cpu, mut g_cpu, mut m_cpu) =
            (vec![0.0; clen], vec![0.0; dim * clen], vec![false; clen]);
        cpu::coarsen(
            &shape, dim, &blk.diag, &g, &blk.mask, &mut d_cpu, &mut g_cpu, &mut m_cpu,
        );
        assert!(
            relative(&read(&ctx, &cd), &d_cpu) < tol,
            "coarsen diag {n:?}"
        );
        assert!(relative(&read(&ctx, &cg), &g_cpu) < tol, "coarsen g {n:?}");
        assert_eq!(read_mask(&ctx, &cm), m_cpu, "coarsen mask {n:?}");

        // invert
        let inv_b = upload(&ctx, &vec![0.0; len]);
        let mut enc = Recorder::new(&ctx.device);
        k.invert(&mut enc, &level, &diag_b, &g_b, &mask_b, &inv_b, len);
        submit(&ctx, enc);
        let mut inv = vec![0.0; len];
        cpu::invert(&shape, dim, &blk.diag, &g, &blk.mask, &mut inv);
        assert!(relative(&read(&ctx, &inv_b), &inv) < tol, "invert {n:?}");

        // relax_red, relax_black, residual: from a nonzero x
        let b = field(len, 11);
        let x0: Vec<f64> = field(len, 13)
            .iter()
            .zip(&blk.mask)
            .map(|(v, &m)| if m { *v } else { 0.0 })
            .collect();
        let b_b = upload(&ctx, &b);
        let x_b = upload(&ctx, &x0);
        let r_b = upload(&ctx, &vec![0.0; len]);
        let mut enc = Recorder::new(&ctx.device);
        k.relax_red(&mut enc, &level, &g_b, &inv_b, &b_b, &x_b, len);
        submit(&ctx, enc);
        let mut x = x0.clone();
        cpu::relax_red(&shape, dim, &g, &inv, &b, &mut x, true);
        assert!(relative(&read(&ctx, &x_b), &x) < tol, "relax_red {n:?}");
        let mut enc = Recorder::new(&ctx.device);
        k.relax_black(&mut enc, &level, &g_b, &inv_b, &b_b, &x_b, len);
        submit(&ctx, enc);
        cpu::relax_black(&shape, dim, &g, &inv, &b, &mut x, true);
        assert!(relative(&read(&ctx, &x_b), &x) < tol, "relax_black {n:?}");
        let mut enc = Recorder::new(&ctx.device);
        k.residual(
            &mut enc, &level, &diag_b, &g_b, &mask_b, &b_b, &x_b, &r_b, len,
        );
        submit(&ctx, enc);
        let mut r = vec![0.0; len];
        cpu::residual(&shape, dim, &blk.diag, &g, &blk.mask, &b, &x, &mut r);
        // A residual cancels terms of the size of b: relative to them.
        assert!(relative(&read(&ctx, &r_b), &r) < 1e-5, "residual {n:?}");

        // restrict_residual, prolong
        let cb = upload(&ctx, &vec![0.0; clen]);
        let mut enc = Recorder::new(&ctx.device);
        k.restrict_residual(&mut enc, &level, &b_b, &cb, clen);
        submit(&ctx, enc);
        let mut cb_cpu = vec![0.0; clen];
        cpu::restrict_residual(&shape, &b, &mut cb_cpu);
        assert!(relative(&read(&ctx, &cb), &cb_cpu) < tol, "restrict {n:?}");
        let cx = field(clen, 17);
        let cx_b = upload(&ctx, &cx);
        let mut enc = Recorder::new(&ctx.device);
        k.prolong(&mut enc, &level, &mask_b, &x_b, &cx_b, len);
        submit(&ctx, enc);
        cpu::prolong(&shape, &blk.mask, &cx, &mut x);
        assert!(relative(&read(&ctx, &x_b), &x) < tol, "prolong {n:?}");

        // clear
        let mut enc = Recorder::new(&ctx.device);
        k.clear(&mut enc, &level, &x_b, len);
        submit(&ctx, enc);
        assert!(read(&ctx, &x_b).iter().all(|&v| v == 0.0), "clear {n:?}");

        // coarse_factor, coarse_solve on a level of at most 64 voxels
        let small: [usize; 3] = std::array::from_fn(|a| if a < dim { 4 } else { 1 });
        let blk = block(small, dim, 100.0, 19);
        let shape = Coarsening {
            n: small,
            factor: [1; 3],
        };
        let m = shape.len();
        let level = uniform(&ctx, "coarsest", &LevelParams::new(&shape, dim));
        let g = blk.flat_g();
        let (diag_b, g_b, mask_b) = (
            upload(&ctx, &blk.diag),
            upload(&ctx, &g),
            upload_mask(&ctx, &blk.mask),
        );
        let factor_b = upload(&ctx, &vec![0.0; m * m]);
        let b = field(m, 23);
        let (b_b, x_b) = (upload(&ctx, &b), upload(&ctx, &vec![0.0; m]));
        let mut enc = Recorder::new(&ctx.device);
        k.coarse_factor(&mut enc, &level, &diag_b, &g_b, &mask_b, &factor_b);
        k.coarse_solve(&mut enc, &level, &mask_b, &b_b, &x_b, &factor_b);
        submit(&ctx, enc);
        let mut factor = vec![0.0; m * m];
        cpu::coarse_factor(&shape, dim, &blk.diag, &g, &blk.mask, &mut factor);
        assert!(
            relative(&read(&ctx, &factor_b), &factor) < 1e-5,
            "coarse_factor {n:?}"
        );
        // Cholesky is backward stable: the device's x solves the f64 matrix L Lᵀ up to a
        // backward error of a few m ε (its forward error grows with the condition number,
        // ~1e4 here).
        let x = read(&ctx, &x_b);
        let a: Vec<f64> = (0..m * m)
            .map(|ij| {
                let (i, j) = (ij / m, ij % m);
                (0..=i.min(j))
                    .map(|k| factor[i * m + k] * factor[j * m + k])
                    .sum()
            })
            .collect();
        let norm_a = (0..m)
            .map(|i| (0..m).map(|j| a[i * m + j].abs()).sum::<f64>())
            .fold(0.0, f64::max);
        let max = |v: &[f64]| v.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
        // The inactive voxels' identity rows are answered by 0, not solved.
        let residual: Vec<f64> = (0..m)
            .filter(|&i| blk.mask[i])
            .map(|i| (0..m).map(|j| a[i * m + j] * x[j]).sum::<f64>() - b[i])
            .collect();
        let eta = max(&residual) / (norm_a * max(&x) + max(&b));
        assert!(
            eta < m as f64 * f32::EPSILON as f64,
            "coarse_solve {n:?}: {eta:e}"
        );
        let mut x_cpu = vec![0.0; m];
        cpu::coarse_solve(&shape, &blk.mask, &factor, &b, &mut x_cpu);
        for i in 0..m {
            if !blk.mask[i] {
                assert_eq!((x[i], x_cpu[i]), (0.0, 0.0), "coarse_solve off the mask");
            }
        }
    }
}

fn gpu_cycle(ctx: &GpuContext, blk: &Block) -> (GpuMultigrid, Multigrid) {
    let kernels = std::rc::Rc::new(MultigridKernels::new(ctx).unwrap());
    let mg = GpuMultigrid::new(ctx, kernels, blk.n, blk.dim).unwrap();
    let (diag, g, mask) = mg.fine();
    let f32s = |v: &[f64]| -> Vec<f32> { v.iter().map(|&x| x as f32).collect() };
    ctx.queue
        .write_buffer(diag, 0, bytemuck::cast_slice(&f32s(&blk.diag)));
    ctx.queue
        .write_buffer(g, 0, bytemuck::cast_slice(&f32s(&blk.flat_g())));
    let m: Vec<u32> = blk.mask.iter().map(|&v| v as u32).collect();
    ctx.queue.write_buffer(mask, 0, bytemuck::cast_slice(&m));
    let mut enc = Recorder::new(&ctx.device);
    mg.setup(&mut enc);
    submit(ctx, enc);
    let mut cpu = Multigrid::new(blk.n, blk.dim);
    cpu.setup(&blk.diag, &blk.g, &blk.mask);
    assert_eq!(mg.depth(), cpu.depth());
    (mg, cpu)
}

/// A whole V-cycle on the device against the CPU's, in 2-D and 3-D at a contrast of 100.
#[test]
fn v_cycle_matches_the_cpu() {
    let ctx = context();
    for (n, dim) in [([32, 32, 1], 2), ([16, 16, 16], 3)] {
        let blk = block(n, dim, 100.0, 29);
        let (mg, mut cpu) = gpu_cycle(&ctx, &blk);
        let len = blk.diag.len();
        let r: Vec<f64> = field(len, 31)
            .iter()
            .zip(&blk.mask)
            .map(|(v, &m)| if m { *v } else { 0.0 })
            .collect();
        let (r_b, z_b) = (upload(&ctx, &r), upload(&ctx, &vec![0.0; len]));
        let mut enc = Recorder::new(&ctx.device);
        mg.apply(&mut enc, &r_b, &z_b);
        submit(&ctx, enc);
        let mut z = vec![0.0; len];
        cpu.apply(&r, &mut z);
        let err = relative(&read(&ctx, &z_b), &z);
        assert!(err < 1e-4, "V-cycle {n:?}: {err:e}");
    }
}

/// `v ↦ −B v` (the multigrid family's residual against a zero right-hand side) preconditioned
/// by B's V-cycle: a symmetric negative-definite test system for MINRES.
struct NegatedBlock<'a> {
    mg: &'a GpuMultigrid,
    kernels: MultigridKernels,
    level: wgpu::Buffer,
    diag: wgpu::Buffer,
    g: wgpu::Buffer,
    mask: wgpu::Buffer,
    zero: wgpu::Buffer,
    len: usize,
}

impl LinearOperator for NegatedBlock<'_> {
    fn apply(&self, enc: &mut Recorder, v: &wgpu::Buffer, out: &wgpu::Buffer) {
        self.kernels.residual(
            enc,
            &self.level,
            &self.diag,
            &self.g,
            &self.mask,
            &self.zero,
            v,
            out,
            self.len,
        );
    }

    fn precondition(&self, enc: &mut Recorder, r: &wgpu::Buffer, out: &wgpu::Buffer) {
        self.mg.apply(enc, r, out);
    }
}

/// MINRES on the device against the CPU's on the same system: the same iteration count within
/// two and the same solution to 1e-3, at a contrast of 100; at a contrast of 1e5 the device
/// solve still reaches its tolerance in an iteration count within 50 % of the CPU's (the
/// V-cycle keeps the count flat in the contrast on both).
#[test]
fn minres_matches_the_cpu() {
    let ctx = context();
    for contrast in [100.0, 1e5] {
        let blk = block([32, 32, 1], 2, contrast, 37);
        let (mg, mut cpu) = gpu_cycle(&ctx, &blk);
        let len = blk.diag.len();
        let shape = coarsening(blk.n, 2)[0];
        let op = NegatedBlock {
            mg: &mg,
            kernels: MultigridKernels::new(&ctx).unwrap(),
            level: uniform(&ctx, "level", &LevelParams::new(&shape, 2)),
            diag: upload(&ctx, &blk.diag),
            g: upload(&ctx, &blk.flat_g()),
            mask: upload_mask(&ctx, &blk.mask),
            zero: upload(&ctx, &vec![0.0; len]),
            len,
        };
        let rhs: Vec<f64> = field(len, 41)
            .iter()
            .zip(&blk.mask)
            .map(|(v, &m)| if m { *v } else { 0.0 })
            .collect();
        let (rhs_b, x_b) = (upload(&ctx, &rhs), upload(&ctx, &vec![0.0; len]));
        let solver = GpuMinres::new(&ctx, len).unwrap();
        let tolerance = 1e-5;
        let gpu = solver
            .solve(&ctx, &op, &rhs_b, &x_b, tolerance, 500)
            .unwrap();
        let g = blk.flat_g();
        let apply = |v: &[f64], out: &mut [f64]| {
            cpu::residual(&shape, 2, &blk.diag, &g, &blk.mask, &vec![0.0; len], v, out);
        };
        let mut x = vec![0.0; len];
        let solved = minres(apply, |r, z| cpu.apply(r, z), &rhs, &mut x, tolerance, 500);
        assert!(gpu.relative_residual <= tolerance, "{contrast}: {gpu:?}");
        if contrast == 100.0 {
            assert!(
                gpu.iterations.abs_diff(solved.iterations) <= 2,
                "{gpu:?} against {solved:?}"
            );
            let err = relative(&read(&ctx, &x_b), &x);
            assert!(err < 1e-3, "solution: {err:e}");
        } else {
            assert!(
                (gpu.iterations as f64) <= 1.5 * solved.iterations as f64,
                "{gpu:?} against {solved:?}"
            );
        }
    }
}
