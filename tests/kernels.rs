//! Each entry point of the multi-material families (system.wgsl and those assembled with it) against its CPU mirror on the same seeded
//! input, on the adapter CI has (lavapipe). Tolerances are reasoned from f32 (24 bits, 6e-8):
//! a kernel that sums a few terms of order one carries a few 1e-7 relative; reported as the
//! worst voxel on failure.

mod common;

use rustfft::num_complex::Complex64;
use swellfield::backend::cpu::chemistry::site_mobility;
use swellfield::backend::cpu::elasticity::{
    Elasticity, WEIGHT, compatible_part, gamma0, mean_update, von_mises,
};
use swellfield::backend::gpu::context::GpuContext;
use swellfield::backend::gpu::kernels::{BufId, Kernels};
use swellfield::backend::gpu::params::Op;
use swellfield::backend::gpu::recorder::Recorder;
use swellfield::backend::gpu::system::layout;
use swellfield::initial::SplitMix64;
use swellfield::problem::Problem;

struct Bench {
    ctx: GpuContext,
    k: Kernels,
    problem: Problem,
}

fn bench(path: &str, sets: &[&str]) -> Bench {
    let problem = common::problem(path, sets);
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"));
    let (mut params, table) = layout(&problem);
    params.dt = 0.5;
    let k = Kernels::new(&ctx, &params, &table, 6 * problem.grid.len()).unwrap();
    Bench { ctx, k, problem }
}

impl Bench {
    fn run(&self, entry: &'static str, op: Op, slots: &[BufId], n: usize) {
        let mut enc = self.k.encoder();
        self.k.run(&mut enc, entry, op, slots, n);
        self.k.submit(enc);
    }

    fn read(&self, id: BufId) -> Vec<f64> {
        self.ctx
            .read_f32(self.k.buffer(id))
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect()
    }

    /// The device's scalar slots (the solves' rz, pq, α, …).
    fn scalars(&self) -> Vec<f64> {
        self.ctx
            .read_f32(&self.k.scalars)
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect()
    }

    /// Records the CG's step length from device reductions: Σw·num into slot 2 (rz), Σw·den
    /// into slot 3 (pq) over `len` values (w = 2 on a stacked tensor's shear thirds when
    /// `flag` = 1), and α = rz / pq into slot 4.
    fn record_alpha(
        &self,
        enc: &mut Recorder,
        flag: u32,
        len: usize,
        num: [BufId; 2],
        den: [BufId; 2],
    ) {
        let op = Op {
            flag,
            ..Op::default()
        };
        self.k.reduce(enc, "dot_partial", op, &num, len, (2, 0));
        self.k.reduce(enc, "dot_partial", op, &den, len, (3, 0));
        self.k.scalar(
            enc,
            Op {
                index: 0,
                a: 2,
                b: 3,
                dst: 4,
                ..Op::default()
            },
        );
    }
}

fn random(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut r = SplitMix64(seed);
    (0..n).map(|_| lo + (hi - lo) * r.next_f64()).collect()
}

/// Asserts |gpu − cpu| ≤ tol · max|cpu| everywhere; names the worst voxel.
fn assert_close(what: &str, cpu: &[f64], gpu: &[f64], tol: f64) {
    let scale = cpu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (d, at) = cpu
        .iter()
        .zip(gpu)
        .enumerate()
        .map(|(i, (a, b))| ((a - b).abs(), i))
        .fold((0.0, 0), |m, v| if v.0 > m.0 { v } else { m });
    println!(
        "{what}: worst |gpu − cpu| {d:.3e} = {:.2e} of {scale:.3e} at voxel {at}",
        d / scale
    );
    assert!(
        d <= tol * scale,
        "{what}: voxel {at}: cpu {} gpu {} (scale {scale:e})",
        cpu[at],
        gpu[at]
    );
}

/// A per-voxel chemistry entry point (bindings c, out, unused, ψ, ψ_m stacked) against its CPU
/// mirror, on Sn/HC (two one-segment hosts and pores) and on P2/O3, whose P2 has two segments
/// (c drawn across the junction at 0.35), with `width` outputs per voxel, c from `range`.
fn chemistry_field_matches_cpu(
    entry: &'static str,
    width: usize,
    seed: u64,
    range: (f64, f64),
    cpu_fn: impl Fn(&[f64], &swellfield::problem::Chemistry, &mut [f64]),
) {
    for (path, grid) in [
        ("configs/sn_hard_carbon.toml", "grid.n=[32, 32]"),
        ("configs/p2_o3_cathode.toml", "grid.n=[64, 64]"),
    ] {
        let mut b = bench(path, &[grid]);
        let p = &b.problem;
        let n = p.grid.len();
        let c = random(n, seed, range.0, range.1);
        let mut cpu = vec![0.0; width * n];
        cpu_fn(&c, &p.chemistry, &mut cpu);
        let (psi, psim) = (p.chemistry.psi.clone().unwrap(), stacked_psim(p));
        let (c, out, psi, psim) = (
            b.k.upload("c", &c),
            b.k.zeros("out", width * n),
            b.k.upload("psi", &psi),
            b.k.upload("psim", &psim),
        );
        let dummy = b.k.dummy();
        b.run(entry, Op::default(), &[c, out, dummy, psi, psim], n);
        assert_close(&format!("{entry} ({path})"), &cpu, &b.read(out), 1e-6);
    }
}

/// `site_mobility` against `chemistry::site_mobility` (the factor vanishes at P2's junction): a
/// weighted sum of a few products of order one, 1e-6.
#[test]
fn site_mobility_matches_cpu() {
    chemistry_field_matches_cpu("site_mobility", 1, 1, (0.05, 0.95), site_mobility);
}

/// ψ_m of every component, stacked as the multi-material families read them.
fn stacked_psim(p: &Problem) -> Vec<f64> {
    let ones = vec![1.0; p.grid.len()];
    p.chemistry
        .components
        .iter()
        .flat_map(|m| m.psi.clone().unwrap_or_else(|| ones.clone()))
        .collect()
}

/// `chemical_potential` (Σ_m ψ_m g_m'/ψ − κ∇²c) against `Chemistry::mu_chemical` on Sn/HC's
/// two hosts (1e-6: logarithms of c in [0.01, 0.99]).
#[test]
fn chemistry_matches_cpu() {
    let mut b = bench("configs/sn_hard_carbon.toml", &["grid.n=[32, 32]"]);
    let p = b.problem.clone();
    let chem = &p.chemistry;
    let n = p.grid.len();
    let c = random(n, 3, 0.01, 0.99);
    let lap = random(n, 4, -1.0, 1.0);
    let (psi, psim) = (chem.psi.clone().unwrap(), stacked_psim(&p));
    let solid: Vec<bool> = (0..n).map(|i| chem.is_solid(i)).collect();
    let mu_cpu: Vec<f64> = (0..n)
        .map(|i| {
            if solid[i] {
                chem.mu_chemical(i, c[i]) - chem.kappa * lap[i]
            } else {
                0.0
            }
        })
        .collect();
    let ids = [
        b.k.upload("c", &c),
        b.k.upload("lap", &lap),
        b.k.zeros("mu", n),
        b.k.upload("psi", &psi),
        b.k.upload("psi_m", &psim),
    ];
    b.run("chemical_potential", Op::default(), &ids, n);
    let mu_gpu: Vec<f64> = b
        .read(ids[2])
        .iter()
        .zip(&solid)
        .map(|(v, &s)| if s { *v } else { 0.0 })
        .collect();
    assert_close("chemical_potential", &mu_cpu, &mu_gpu, 1e-6);
}

/// `update_material` (Voigt-mixed λ, μ and the eigenstrain from c) against
/// `Elasticity::update_material` on Si/MoSe2/C (five materials, MoSe2 anisotropic): 1e-6.
#[test]
fn update_material_matches_cpu() {
    let mut b = bench("configs/si_mose2_carbon.toml", &["grid.n=[32, 32]"]);
    let p = b.problem.clone();
    let n = p.grid.len();
    let mech = p.mechanics.clone().unwrap();
    let mut el = Elasticity::new(&p, &mech);
    let c = random(n, 5, 0.0, 1.0);
    el.update_material(&c);
    let micro = p.microstructure.as_ref().unwrap();
    let phi: Vec<f64> = micro.phi.iter().flatten().copied().collect();
    let axis: Vec<f64> = (0..3)
        .flat_map(|d| micro.axis.iter().map(move |a| a[d]))
        .collect();
    let ids = [
        b.k.upload("c", &c),
        b.k.upload("phi", &phi),
        b.k.upload("axis", &axis),
        b.k.zeros("local", 4 * n),
        b.k.zeros("eigen", 6 * n),
        b.k.zeros("deigen", 6 * n),
    ];
    assert!(mech.anisotropic, "the case exercises the c-axis");
    b.run("update_material", Op::default(), &ids, n);
    let (local, eigen) = (b.read(ids[3]), b.read(ids[4]));
    let lambda: Vec<f64> = el.local.iter().map(|l| l.lambda).collect();
    let mu: Vec<f64> = el.local.iter().map(|l| l.mu).collect();
    assert_close("update_material lambda", &lambda, &local[..n], 1e-6);
    assert_close("update_material mu", &mu, &local[n..2 * n], 1e-6);
    for k in 0..6 {
        let cpu: Vec<f64> = el.local.iter().map(|l| l.eigen[k]).collect();
        if cpu.iter().any(|v| *v != 0.0) {
            assert_close(
                &format!("update_material eigen[{k}]"),
                &cpu,
                &eigen[k * n..(k + 1) * n],
                1e-6,
            );
        }
    }
}

#[test]
fn derived_field_matches_cpu() {
    let mut b = bench("configs/si_mose2_carbon.toml", &["grid.n=[32, 32]"]);
    let p = b.problem.clone();
    let n = p.grid.len();
    let mech = p.mechanics.clone().unwrap();
    let mut el = Elasticity::new(&p, &mech);
    let c = random(n, 17, 0.0, 1.0);
    el.update_material(&c);
    for (k, e) in el.strain.iter_mut().enumerate() {
        *e = random(n, 40 + k as u64, -0.05, 0.05);
    }
    let micro = p.microstructure.as_ref().unwrap();
    let phi: Vec<f64> = micro.phi.iter().flatten().copied().collect();
    let local: Vec<f64> = [
        el.local.iter().map(|l| l.lambda).collect::<Vec<_>>(),
        el.local.iter().map(|l| l.mu).collect(),
        el.local.iter().map(|l| l.dlambda).collect(),
        el.local.iter().map(|l| l.dmu).collect(),
    ]
    .concat();
    let eigen: Vec<f64> = (0..6)
        .flat_map(|k| el.local.iter().map(move |l| l.eigen[k]))
        .collect();
    let strain: Vec<f64> = el.strain.concat();
    let d = b.k.dummy();
    let out = b.k.zeros("derived", n);
    let slots = [
        b.k.upload("c", &c),
        b.k.upload("psi", &vec![1.0; n]),
        b.k.upload("phi", &phi),
        b.k.upload("strain", &strain),
        b.k.upload("local", &local),
        b.k.upload("eigen", &eigen),
        d,
        out,
    ];
    let stress: Vec<[f64; 6]> = (0..n).map(|i| el.stress_at(i)).collect();
    for index in 0..8u32 {
        let cpu: Vec<f64> = match index {
            0..6 => stress.iter().map(|s| s[index as usize]).collect(),
            6 => stress.iter().map(|s| von_mises(*s)).collect(),
            _ => (0..n)
                .map(|i| el.strain[0][i] + el.strain[1][i] + el.strain[2][i])
                .collect(),
        };
        let o = Op {
            index,
            ..Op::default()
        };
        b.run("derived_field", o, &slots, n);
        assert_close(&format!("derived_field {index}"), &cpu, &b.read(out), 1e-6);
    }
}

/// `project` (the compatible part of six complex spectra at every mode) against
/// `compatible_part` in 3-D, where every component varies and all means are free: 1e-6.
#[test]
fn project_matches_cpu() {
    let mut b = bench(
        "configs/verification/eshelby_3d.toml",
        &[
            "grid.n=[8, 8, 8]",
            "grid.length_nm=[20.0, 20.0, 20.0]",
            "mechanics.boundary=\"free\"",
        ],
    );
    let p = b.problem.clone();
    let n = p.grid.len();
    let t: Vec<Vec<f64>> = (0..6)
        .map(|k| random(2 * n, 10 + k as u64, -1.0, 1.0))
        .collect();
    let slots: Vec<BufId> = t.iter().map(|v| b.k.upload("spectrum", v)).collect();
    let mut all = vec![b.k.dummy(), b.k.dummy()];
    all.extend_from_slice(&slots);
    b.run("project", Op::default(), &all, n);
    let gpu: Vec<Vec<f64>> = slots.iter().map(|&s| b.read(s)).collect();
    let g = &p.grid;
    let mut cpu: Vec<Vec<f64>> = vec![vec![0.0; 2 * n]; 6];
    for i in 0..n {
        let (x, y, z) = (i % g.n[0], (i / g.n[0]) % g.n[1], i / (g.n[0] * g.n[1]));
        let tau: [Complex64; 6] =
            std::array::from_fn(|k| Complex64::new(t[k][2 * i], t[k][2 * i + 1]));
        let out = if i == 0 {
            tau
        } else {
            compatible_part(
                tau,
                [
                    g.derivative_wavenumber(0, x),
                    g.derivative_wavenumber(1, y),
                    g.derivative_wavenumber(2, z),
                ],
            )
        };
        for k in 0..6 {
            cpu[k][2 * i] = out[k].re;
            cpu[k][2 * i + 1] = out[k].im;
        }
    }
    for k in 0..6 {
        assert_close(&format!("project component {k}"), &cpu[k], &gpu[k], 1e-6);
    }
}

/// The fixed point's kernels against their CPU mirrors: `range_partial` (the bounds of the local
/// λ and μ, exact: max and min of f32 values lose nothing), `gamma0` (the Green operator of the
/// reference medium halfway between them at every mode, `mean_update` at k = 0) against
/// `gamma0` and `mean_update` (a few products of order one: 1e-6), and
/// `compatible_norm_partial` (Parseval's ‖P τ‖²) against the f64 sum of |compatible_part|²/N
/// (a sum of 6N squares in f32: 1e-5). In 3-D with every mean free, and in 2-D with
/// `clamped_inplane`, where one normal mean is free, the others held, and the antiplane shears
/// (free, uniform) kept only at k = 0.
#[test]
fn fixed_point_kernels_match_cpu() {
    for (path, sets) in [
        (
            "configs/verification/eshelby_3d.toml",
            vec![
                "grid.n=[8, 8, 8]",
                "grid.length_nm=[20.0, 20.0, 20.0]",
                "mechanics.boundary=\"free\"",
            ],
        ),
        (
            "configs/verification/eshelby_2d.toml",
            vec!["grid.n=[16, 16]", "mechanics.boundary=\"clamped_inplane\""],
        ),
    ] {
        let mut b = bench(path, &sets);
        let p = b.problem.clone();
        let n = p.grid.len();
        let mech = p.mechanics.clone().unwrap();
        let free = mech.free_means(p.grid.dim());
        let spectral =
            mech.spectral_components(p.grid.dim(), &p.microstructure.as_ref().unwrap().axis);
        // λ and μ as f32 holds them, so that the host's bounds are the device's.
        let f32s = |v: Vec<f64>| -> Vec<f64> { v.iter().map(|&x| x as f32 as f64).collect() };
        let lambda = f32s(random(n, 40, 1.0, 5.0));
        let mu = f32s(random(n, 41, 0.5, 3.0));
        let local: Vec<f64> = [lambda.clone(), mu.clone(), vec![0.0; 2 * n]].concat();
        let local_id = b.k.upload("local", &local);
        let t: Vec<Vec<f64>> = (0..6)
            .map(|k| random(2 * n, 50 + k as u64, -1.0, 1.0))
            .collect();
        let slots: Vec<BufId> = t.iter().map(|v| b.k.upload("spectrum", v)).collect();
        let mut all = vec![b.k.dummy(), b.k.dummy()];
        all.extend_from_slice(&slots);
        let mut enc = b.k.encoder();
        for (index, dst) in [(0, 10), (1, 12)] {
            let o = Op {
                index,
                ..Op::default()
            };
            b.k.reduce(&mut enc, "range_partial", o, &[local_id], n, (dst, 3));
        }
        b.k.reduce(
            &mut enc,
            "compatible_norm_partial",
            Op::default(),
            &all,
            n,
            (0, 0),
        );
        b.k.run(&mut enc, "gamma0", Op::default(), &all, n);
        b.k.submit(enc);
        let s: Vec<f64> = b
            .ctx
            .read_f32(&b.k.scalars)
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        let bounds = |v: &[f64]| {
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            (hi, lo)
        };
        let ((lhi, llo), (mhi, mlo)) = (bounds(&lambda), bounds(&mu));
        assert_eq!(
            (s[10], s[11], s[12], s[13]),
            (lhi, llo, mhi, mlo),
            "range_partial"
        );
        let (l0, m0) = (0.5 * (lhi + llo), 0.5 * (mhi + mlo));
        let gpu: Vec<Vec<f64>> = slots.iter().map(|&id| b.read(id)).collect();
        let g = &p.grid;
        let mut cpu: Vec<Vec<f64>> = vec![vec![0.0; 2 * n]; 6];
        let mut norm = 0.0;
        for i in 0..n {
            let (x, y, z) = (i % g.n[0], (i / g.n[0]) % g.n[1], i / (g.n[0] * g.n[1]));
            let tau: [Complex64; 6] =
                std::array::from_fn(|k| Complex64::new(t[k][2 * i], t[k][2 * i + 1]));
            let (update, projected) = if i == 0 {
                let re = mean_update(tau.map(|v| v.re), free, l0, m0);
                let im = mean_update(tau.map(|v| v.im), free, l0, m0);
                let kept: [Complex64; 6] = std::array::from_fn(|k| {
                    if free[k] {
                        tau[k]
                    } else {
                        Complex64::default()
                    }
                });
                (std::array::from_fn(|k| Complex64::new(re[k], im[k])), kept)
            } else {
                let xi = [
                    g.derivative_wavenumber(0, x),
                    g.derivative_wavenumber(1, y),
                    g.derivative_wavenumber(2, z),
                ];
                let mask = |v: [Complex64; 6]| -> [Complex64; 6] {
                    std::array::from_fn(|k| {
                        if spectral[k] {
                            v[k]
                        } else {
                            Complex64::default()
                        }
                    })
                };
                (
                    mask(gamma0(tau, xi, l0, m0)),
                    mask(compatible_part(tau, xi)),
                )
            };
            for k in 0..6 {
                cpu[k][2 * i] = update[k].re;
                cpu[k][2 * i + 1] = update[k].im;
                norm += WEIGHT[k] * projected[k].norm_sqr() / n as f64;
            }
        }
        for k in 0..6 {
            assert_close(
                &format!("{path} gamma0 component {k}"),
                &cpu[k],
                &gpu[k],
                1e-6,
            );
        }
        println!("{path} compatible_norm_partial: gpu {} cpu {norm}", s[0]);
        assert!(
            (s[0] - norm).abs() <= 1e-5 * norm,
            "{path} compatible_norm_partial: gpu {} cpu {norm}",
            s[0]
        );
    }
}

/// A grid the adapter cannot bind is refused before anything is allocated, with the limit and
/// the largest grids that fit.
#[test]
fn an_unbindable_grid_names_the_limit_and_what_fits() {
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"));
    let err = ctx
        .check_field("complex field", 1 << 36, 8)
        .expect_err("2^36 voxels do not fit")
        .to_string();
    assert!(
        err.contains("68719476736 voxels")
            && err.contains("max_storage_buffer_binding_size")
            && err.contains("²")
            && err.contains("³")
            && err.contains("--backend cpu"),
        "{err}"
    );
    ctx.check_field("complex field", 64 * 64, 8).unwrap();
}

/// The linalg family against plain f64 loops: a tensor dot (shear thirds weighted twice), an
/// axpy by a device scalar, and the CG scalar programs (α = rz/pq, the stopping test). A sum
/// of 6144 products of order one in f32: 1e-5 relative.
#[test]
fn linalg_matches_cpu() {
    let mut b = bench("configs/verification/eshelby_2d.toml", &["grid.n=[32, 32]"]);
    let n = b.problem.grid.len();
    let (x, y) = (random(6 * n, 31, -1.0, 1.0), random(6 * n, 32, -1.0, 1.0));
    let want: f64 = (0..6 * n)
        .map(|i| if i >= 3 * n { 2.0 } else { 1.0 } * x[i] * y[i])
        .sum();
    let (xi, yi) = (b.k.upload("x", &x), b.k.upload("y", &y));
    // α = Σxx / Σxy (Frobenius weights) into slot 4, then y += α x.
    let mut enc = b.k.encoder();
    b.record_alpha(&mut enc, 1, 6 * n, [xi, xi], [xi, yi]);
    b.k.run(
        &mut enc,
        "axpy",
        Op {
            a: 4,
            f: 1.0,
            ..Op::default()
        },
        &[xi, yi],
        6 * n,
    );
    b.k.submit(enc);
    let s = b.scalars();
    let xx: f64 = (0..6 * n)
        .map(|i| if i >= 3 * n { 2.0 } else { 1.0 } * x[i] * x[i])
        .sum();
    println!(
        "dot: gpu {} cpu {want}; alpha gpu {} cpu {}",
        s[3],
        s[4],
        xx / want
    );
    assert!(
        (s[3] - want).abs() <= 1e-5 * xx,
        "dot: gpu {} cpu {want}",
        s[3]
    );
    assert!(
        (s[4] - xx / want).abs() <= 1e-4 * (xx / want).abs(),
        "alpha"
    );
    let alpha = s[4];
    let cpu: Vec<f64> = (0..6 * n).map(|i| y[i] + alpha * x[i]).collect();
    assert_close("axpy", &cpu, &b.read(yi), 1e-6);
    // The stopping test: ‖r‖² (slot 0) against tol² ‖b‖² (slot 1).
    let mut enc = b.k.encoder();
    b.k.reduce(&mut enc, "dot_partial", Op::default(), &[xi, xi], n, (1, 0));
    b.k.reduce(&mut enc, "dot_partial", Op::default(), &[xi, xi], n, (0, 0));
    b.k.scalar(
        &mut enc,
        Op {
            index: 1,
            f: 0.5,
            ..Op::default()
        },
    );
    b.k.submit(enc);
    assert_eq!(b.scalars()[6], 0.0, "‖r‖ = ‖b‖ is not below half of it");
    let mut enc = b.k.encoder();
    b.k.scalar(
        &mut enc,
        Op {
            index: 1,
            f: 2.0,
            ..Op::default()
        },
    );
    b.k.submit(enc);
    assert_eq!(b.scalars()[6], 1.0, "‖r‖² ≤ 2 ‖b‖² stops the solve");
}

/// linalg's vector updates against their CPU loops (cpu/implicit.rs, cpu/elasticity.rs): `xpay`
/// (the CG direction update p ← z + β p), `lincomb` (s2 ← s0 + f s1), `copy`, and
/// `zero_if_unloaded`, which clears the solution only when the right-hand side's norm is 0 (an
/// unloaded solve). Each sums at most two f32 products of order one: 1e-6 of the largest value.
#[test]
fn vector_updates_match_cpu() {
    let mut b = bench("configs/verification/eshelby_2d.toml", &["grid.n=[32, 32]"]);
    let n = b.problem.grid.len();
    let (x, y) = (random(n, 41, -1.0, 1.0), random(n, 42, -1.0, 1.0));
    let (xi, yi) = (b.k.upload("x", &x), b.k.upload("y", &y));
    let (zi, wi) = (b.k.zeros("z", n), b.k.zeros("w", n));
    let zero = b.k.zeros("zero", n);
    // A scalar of order one from the device's own reductions: β = Σxy / Σxx into slot 4.
    let mut enc = b.k.encoder();
    b.record_alpha(&mut enc, 0, n, [xi, yi], [xi, xi]);
    b.k.run(
        &mut enc,
        "xpay",
        Op {
            a: 4,
            ..Op::default()
        },
        &[xi, yi],
        n,
    );
    b.k.run(
        &mut enc,
        "lincomb",
        Op {
            f: -0.75,
            ..Op::default()
        },
        &[xi, yi, zi],
        n,
    );
    b.k.run(&mut enc, "copy", Op::default(), &[zi, wi], n);
    b.k.submit(enc);
    let beta = b.scalars()[4];
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let sxx: f64 = x.iter().map(|a| a * a).sum();
    assert!((beta - sxy / sxx).abs() <= 1e-4 * (sxy / sxx).abs().max(1e-3));
    let p: Vec<f64> = (0..n).map(|i| x[i] + beta * y[i]).collect();
    assert_close("xpay", &p, &b.read(yi), 1e-6);
    let z: Vec<f64> = (0..n).map(|i| x[i] - 0.75 * p[i]).collect();
    let z_gpu = b.read(zi);
    assert_close("lincomb", &z, &z_gpu, 1e-6);
    assert_eq!(b.read(wi), z_gpu, "copy is not exact");
    // ‖b‖² (slot 1) nonzero: the solution stays; zero: it is cleared.
    for (rhs, cleared) in [(xi, false), (zero, true)] {
        let mut enc = b.k.encoder();
        b.k.reduce(
            &mut enc,
            "dot_partial",
            Op::default(),
            &[rhs, rhs],
            n,
            (1, 0),
        );
        b.k.run(&mut enc, "zero_if_unloaded", Op::default(), &[wi], n);
        b.k.submit(enc);
        let want = if cleared { vec![0.0; n] } else { z_gpu.clone() };
        assert!(
            b.read(wi) == want,
            "zero_if_unloaded with ‖b‖ {}: expected the solution {}",
            if cleared { "0" } else { "> 0" },
            if cleared { "cleared" } else { "kept" }
        );
    }
}

/// Resident memory of this process, kB.
fn resident_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A long run must not grow the process. The op record steers `scalar`'s control flow; bound
/// as a uniform it made lavapipe compile and keep a shader variant per dispatch (~100 kB each,
/// 1 GB per 10⁴ dispatches), which is why it is bound as read-only storage.
#[test]
fn dispatches_do_not_grow_memory() {
    let b = bench("configs/verification/galvanostatic.toml", &[]);
    let burst = |b: &Bench| {
        for _ in 0..20 {
            let mut enc = b.k.encoder();
            for _ in 0..50 {
                b.k.scalar(&mut enc, Op::default());
            }
            b.k.submit(enc);
            b.ctx.read_f32(&b.k.scalars).unwrap();
        }
    };
    burst(&b);
    let before = resident_kb();
    for _ in 0..3 {
        burst(&b);
    }
    let grown = resident_kb() - before;
    assert!(
        grown < 16 * 1024,
        "3000 dispatches of `scalar` grew the process by {grown} kB (a leak would be ~300 MB)"
    );
}

/// The CPU's local (λ, μ, ∂λ/∂c, ∂μ/∂c) stacked as the device holds them.
fn stacked_lame(el: &Elasticity) -> Vec<f64> {
    (0..4)
        .flat_map(|q| {
            el.local.iter().map(move |l| match q {
                0 => l.lambda,
                1 => l.mu,
                2 => l.dlambda,
                _ => l.dmu,
            })
        })
        .collect()
}

/// `elastic_potential` (μ's elastic part, (−σ : ∂ε*/∂c + ½ e : ∂C/∂c : e)/ψ) against
/// `cpu::elastic_potential` on the P2/O3 lens particle, whose configs couple stress back to μ,
/// with the CPU's stiffness and eigenstrain for a random c and a random strain of the size c
/// gives (2 %). A handful of products of order one in f32: 1e-5 of the largest value.
#[test]
fn elastic_potential_matches_cpu() {
    use swellfield::backend::cpu::elastic_potential;
    let mut b = bench("configs/p2_o3_cathode.toml", &["grid.n=[32, 32]"]);
    let p = b.problem.clone();
    let n = p.grid.len();
    let mech = p.mechanics.clone().unwrap();
    assert!(mech.stress_coupling, "the case must couple stress to μ");
    let mut el = Elasticity::new(&p, &mech);
    let c = random(n, 51, 0.0, 1.0);
    el.update_material(&c);
    let strain = random(6 * n, 52, -0.02, 0.02);
    for k in 0..6 {
        el.strain[k].copy_from_slice(&strain[k * n..(k + 1) * n]);
    }
    let psi = p.chemistry.psi.clone().unwrap();
    let solid: Vec<bool> = (0..n).map(|i| p.chemistry.is_solid(i)).collect();
    let cpu: Vec<f64> = (0..n)
        .map(|i| {
            if solid[i] {
                elastic_potential(&el, i, psi[i].max(p.chemistry.psi_floor))
            } else {
                0.0
            }
        })
        .collect();
    let stack6 = |f: &dyn Fn(usize, usize) -> f64| -> Vec<f64> {
        (0..6)
            .flat_map(|k| (0..n).map(move |i| (k, i)))
            .map(|(k, i)| f(k, i))
            .collect()
    };
    let eigen = stack6(&|k, i| el.local[i].eigen[k]);
    let deigen = stack6(&|k, i| el.local[i].deigen[k]);
    let local = stacked_lame(&el);
    let ids = [
        b.k.zeros("mu", n),
        b.k.upload("strain", &strain),
        b.k.upload("eigen", &eigen),
        b.k.upload("deigen", &deigen),
        b.k.upload("local", &local),
        b.k.upload("psi", &psi),
    ];
    b.run("elastic_potential", Op::default(), &ids, n);
    let gpu: Vec<f64> = b
        .read(ids[0])
        .iter()
        .zip(&solid)
        .map(|(v, &s)| if s { *v } else { 0.0 })
        .collect();
    assert!(
        cpu.iter().any(|v| v.abs() > 1.0),
        "μ_el must be of consequence"
    );
    assert_close("elastic_potential", &cpu, &gpu, 1e-5);
}

/// `elastic_stiffness` (the convex-splitting step's stabiliser for the explicit stress term,
/// ½ A : C⁺ : A / ψ) against `cpu::elastic_stiffness` on the P2/O3 lens particle at a random c.
/// A dozen products of order one in f32: 1e-5 of the largest value.
#[test]
fn elastic_stiffness_matches_cpu() {
    use swellfield::backend::cpu::elastic_stiffness;
    let mut b = bench("configs/p2_o3_cathode.toml", &["grid.n=[32, 32]"]);
    let p = b.problem.clone();
    let n = p.grid.len();
    let mech = p.mechanics.clone().unwrap();
    let mut el = Elasticity::new(&p, &mech);
    el.update_material(&random(n, 53, 0.0, 1.0));
    let psi = p.chemistry.psi.clone().unwrap();
    let solid: Vec<bool> = (0..n).map(|i| p.chemistry.is_solid(i)).collect();
    let cpu: Vec<f64> = (0..n)
        .map(|i| {
            if solid[i] {
                elastic_stiffness(&el, i, psi[i].max(p.chemistry.psi_floor))
            } else {
                0.0
            }
        })
        .collect();
    let deigen: Vec<f64> = (0..6)
        .flat_map(|k| el.local.iter().map(move |l| l.deigen[k]))
        .collect();
    let local = stacked_lame(&el);
    let ids = [
        b.k.zeros("stiffness", n),
        b.k.upload("deigen", &deigen),
        b.k.upload("local", &local),
        b.k.upload("psi", &psi),
    ];
    b.run("elastic_stiffness", Op::default(), &ids, n);
    let gpu = b.read(ids[0]);
    assert!(
        cpu.iter().any(|v| *v > 1.0),
        "the stiffness must be of consequence"
    );
    assert_close("elastic_stiffness", &cpu, &gpu, 1e-5);
}

/// A copy on the device is exact: the GPU's f32 equals the CPU's value rounded to f32.
fn assert_exact(what: &str, cpu: &[f64], gpu: &[f64]) {
    assert_eq!(cpu.len(), gpu.len());
    if let Some(i) = (0..cpu.len()).find(|&i| cpu[i] as f32 as f64 != gpu[i]) {
        panic!("{what}: voxel {i}: cpu {} gpu {}", cpu[i], gpu[i]);
    }
}

/// The multi-material families' plain pointwise entries against their CPU mirrors on Sn/HC
/// (pores, so a nearest-solid map; a 1e5 contrast in ψ d): `gather_nearest` against
/// `cpu::extend` (a copy: exact), `mobility_flux` against `cahn_hilliard::mobility_flux` (a
/// product of three: 1e-6, and the imaginary half cleared), and `commit` against `cahn_hilliard::commit` (the copy
/// exact; max |Δc| over the solid voxels inside [−1, 2], 1e-6 relative: a difference of two
/// f32 values of order one; the count of solid voxels the step took outside [−1, 2] exact).
#[test]
fn pointwise_step_entries_match_cpu() {
    use swellfield::backend::cpu::cahn_hilliard::{commit, mobility_flux};
    let mut b = bench("configs/sn_hard_carbon.toml", &["grid.n=[32, 32]"]);
    let p = b.problem.clone();
    let chem = &p.chemistry;
    let n = p.grid.len();
    let near = chem.nearest_solid.clone().expect("Sn/HC has pores");
    assert!(near.iter().enumerate().any(|(i, &j)| j as usize != i));

    let field = random(n, 51, -1.0, 1.0);
    let mut cpu = field.clone();
    swellfield::backend::cpu::extend(&mut cpu, &near);
    let near_f: Vec<f64> = near.iter().map(|&j| j as f64).collect();
    let (f, out, nf) = (
        b.k.upload("field", &field),
        b.k.zeros("out", n),
        b.k.upload("nearest", &near_f),
    );
    b.run("gather_nearest", Op::default(), &[f, out, nf], n);
    assert_exact("gather_nearest", &cpu, &b.read(out));

    let grad: Vec<Complex64> = random(2 * n, 53, -1.0, 1.0)
        .chunks(2)
        .map(|v| Complex64::new(v[0], v[1]))
        .collect();
    let interleaved: Vec<f64> = grad.iter().flat_map(|z| [z.re, z.im]).collect();
    let flux = chem.flux.clone().unwrap();
    let m = random(n, 54, 0.0, 0.25);
    let mut cpu: Vec<f64> = grad.iter().map(|z| z.re).collect();
    mobility_flux(&m, &mut cpu, Some(&flux));
    let (mi, gi, fi) = (
        b.k.upload("m", &m),
        b.k.upload("grad", &interleaved),
        b.k.upload("flux", &flux),
    );
    b.run(
        "mobility_flux",
        Op {
            flag: 1,
            ..Op::default()
        },
        &[mi, gi, fi],
        n,
    );
    let gpu = b.read(gi);
    let re: Vec<f64> = gpu.iter().step_by(2).copied().collect();
    assert_close("mobility_flux", &cpu, &re, 1e-6);
    assert!(gpu.iter().skip(1).step_by(2).all(|&v| v == 0.0));

    let psi = chem.psi.clone().unwrap();
    let old = random(n, 55, 0.0, 1.0);
    let mut new = random(n, 56, 0.0, 1.0);
    // Two solid voxels the step took out of [−1, 2], one pore voxel far outside (not counted).
    let solid: Vec<usize> = (0..n).filter(|&i| chem.is_solid(i)).collect();
    let pore = (0..n).find(|&i| !chem.is_solid(i)).expect("a pore");
    new[solid[3]] = -1.5;
    new[solid[7]] = 2.5;
    new[pore] = 7.0;
    let mut cpu = old.clone();
    let (max_dc, bad) = commit(&mut cpu, &new, |i| chem.is_solid(i));
    assert_eq!(bad, 2);
    let (ci, wi, pi) = (
        b.k.upload("c", &old),
        b.k.upload("c_new", &new),
        b.k.upload("psi", &psi),
    );
    let mut enc = b.k.encoder();
    b.k.reduce(&mut enc, "commit", Op::default(), &[ci, wi, pi], n, (24, 1));
    b.k.submit(enc);
    assert_exact("commit", &cpu, &b.read(ci));
    let s = b.scalars();
    // Slots 24..28 as the step uses them: (·, max |Δc|, ·, count). Both skip the diverged voxels.
    assert!(
        max_dc > 0.5,
        "the seeded fields differ by up to 1: {max_dc}"
    );
    assert!(
        (s[25] - max_dc).abs() <= 1e-6 * max_dc,
        "max |Δc| {} against {max_dc}",
        s[25]
    );
    assert_eq!(s[27], bad as f64, "voxels counted outside [−1, 2]");
}

/// elasticity's `hooke_to_spectra` against `elasticity::hooke` (C : e into six complex fields,
/// their imaginary halves 0: λ tr e + 2μ e, a few products of order one, 1e-6), then
/// `spectra_to_tensor` back (the real parts, a copy: exact), on a random strain-like tensor and a
/// random local stiffness.
#[test]
fn hooke_to_spectra_and_back_match_cpu() {
    use swellfield::backend::cpu::elasticity::hooke;
    let mut b = bench("configs/verification/eshelby_2d.toml", &["grid.n=[32, 32]"]);
    let n = b.problem.grid.len();
    let e = random(6 * n, 61, -1e-2, 1e-2);
    let (lambda, mu) = (random(n, 62, 0.5, 2.0), random(n, 63, 0.2, 1.5));
    let local: Vec<f64> = lambda
        .iter()
        .chain(&mu)
        .copied()
        .chain(random(2 * n, 64, -1.0, 1.0))
        .collect();
    let mut cpu = vec![0.0; 6 * n];
    for i in 0..n {
        let s = hooke(lambda[i], mu[i], std::array::from_fn(|k| e[k * n + i]));
        for k in 0..6 {
            cpu[k * n + i] = s[k];
        }
    }
    let (ei, li) = (b.k.upload("e", &e), b.k.upload("local", &local));
    let spectra: Vec<BufId> = (0..6).map(|_| b.k.zeros("spectrum", 2 * n)).collect();
    let back = b.k.zeros("back", 6 * n);
    let mut slots = vec![ei, li];
    slots.extend(&spectra);
    b.run("hooke_to_spectra", Op::default(), &slots, n);
    let mut re = vec![0.0; 6 * n];
    for (k, &s) in spectra.iter().enumerate() {
        let z = b.read(s);
        assert!(
            z.iter().skip(1).step_by(2).all(|&v| v == 0.0),
            "component {k}: imaginary"
        );
        for i in 0..n {
            re[k * n + i] = z[2 * i];
        }
    }
    assert_close("hooke_to_spectra", &cpu, &re, 1e-6);
    let mut slots = vec![back, li];
    slots.extend(&spectra);
    b.run("spectra_to_tensor", Op::default(), &slots, n);
    assert_eq!(b.read(back), re, "spectra_to_tensor copies the real parts");
}
