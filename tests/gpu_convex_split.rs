//! The convex-splitting family's entry points (convex_split.wgsl) against their CPU mirrors
//! (cpu/convex_split.rs) on the device's own inputs, on random states of the Sn/HC and P2/O3
//! cells, on the adapter CI has (lavapipe). The whole step against the CPU's is in
//! tests/gpu_system.rs.

mod common;

/// Largest |gpu − cpu| / (absolute + relative |cpu|) over the voxels, and where.
fn excess(cpu: &[f64], gpu: &[f64], absolute: f64, relative: f64) -> (f64, usize) {
    cpu.iter()
        .zip(gpu)
        .enumerate()
        .map(|(i, (a, b))| ((a - b).abs() / (absolute + relative * a.abs()), i))
        .fold((0.0, 0), |m, v| if v.0 > m.0 { v } else { m })
}

/// `begin_step` and `newton_update`, the step's pointwise chemistry (c(ν) in closed form for one
/// host, by the bracketed inversion in a mixture and for hard carbon's convex interaction, P2's
/// sublattices), against their CPU mirrors on random states of the Sn/HC and P2/O3 cells: c
/// from 1e-4 to 1 − 1e-4 (uniform in its logit), a random Newton vector (δμ ±0.1 kT, δc ±0.01).
/// ν reaches f32 as its offset from a reference of up to 125 kT, formed back at 7.6e-6 kT:
/// ν' and the blocking (relative to y(1 − y)) carry that, 1e-4 relative allows it; the
/// explicit interaction ω (1 − 2y) 1e-4 kT. The update starts both sides from the device's
/// iterate.
#[test]
fn pointwise_entry_points_match_their_cpu_mirrors() {
    use swellfield::backend::cpu::convex_split::{begin_step, newton_update};
    use swellfield::backend::gpu::context::GpuContext;
    use swellfield::backend::gpu::convex_split::{GpuConvexSplit, Iterate, OFF, Old, Status};
    use swellfield::backend::gpu::typed::storage;
    use swellfield::free_energy::logistic;
    use swellfield::initial::SplitMix64;
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"));
    for name in ["configs/sn_hard_carbon.toml", "configs/p2_o3_cathode.toml"] {
        let problem = common::problem(name, &["grid.n=[32, 32]"]);
        let n = problem.grid.len();
        let (cf, mf) = (storage(&ctx, "c", n), storage(&ctx, "mu", n));
        let step =
            GpuConvexSplit::new(&ctx, &problem, &problem.initial_c, (&cf, &mf), None).unwrap();
        let chem = &problem.chemistry;
        let sites = step.sites(&ctx).unwrap();
        let params = *step.params();
        let reference = f64::from(params.reference);
        let mut rng = SplitMix64(17);
        let mut old = vec![Old::default(); n];
        for (i, o) in old.iter_mut().enumerate() {
            o.c = logistic(-9.2 + 18.4 * rng.next_f64()) as f32;
            if sites[i].only != OFF {
                o.nu = (chem.convex_split_at(i, f64::from(o.c)).0 - reference) as f32;
            }
        }
        let solution: Vec<f64> = (0..2 * n + 1)
            .map(|k| {
                let r = 2.0 * rng.next_f64() - 1.0;
                if k < n { 0.1 * r } else { 0.01 * r }
            })
            .collect();
        let solution32: Vec<f32> = solution.iter().map(|&v| v as f32).collect();
        let zeros = vec![0.0; n];
        let solid: Vec<usize> = (0..n).filter(|&i| sites[i].only != OFF).collect();
        step.write(&ctx, &old, &vec![Iterate::default(); n], &solution32);

        step.run_entry(&ctx, "begin_step");
        let (gpu_old, gpu_it) = (step.state(&ctx).unwrap(), step.iterate(&ctx).unwrap());
        let (mut cpu_old, mut cpu_it) = (old.clone(), vec![Iterate::default(); n]);
        begin_step(
            &params,
            chem,
            &sites,
            &mut cpu_old,
            &mut cpu_it,
            &zeros,
            &zeros,
        );
        let pick = |v: &[f32]| -> Vec<f64> { solid.iter().map(|&i| f64::from(v[i])).collect() };
        let field = |o: &[Old], f: fn(&Old) -> f32| pick(&o.iter().map(f).collect::<Vec<_>>());
        let it_field =
            |o: &[Iterate], f: fn(&Iterate) -> f32| pick(&o.iter().map(f).collect::<Vec<_>>());
        for (what, cpu, gpu, absolute, relative) in [
            (
                "begin_step dnu",
                it_field(&cpu_it, |t| t.dnu),
                it_field(&gpu_it, |t| t.dnu),
                0.0,
                1e-4,
            ),
            (
                "begin_step explicit",
                field(&cpu_old, |o| o.frozen),
                field(&gpu_old, |o| o.frozen),
                1e-4,
                0.0,
            ),
            (
                "begin_step blocking",
                field(&cpu_old, |o| o.blocking),
                field(&gpu_old, |o| o.blocking),
                1e-30,
                1e-4,
            ),
            (
                "begin_step rho",
                field(&cpu_old, |o| o.rho),
                field(&gpu_old, |o| o.rho),
                1e-30,
                1e-5,
            ),
        ] {
            let (e, at) = excess(&cpu, &gpu, absolute, relative);
            println!("{name} {what}: {e:.3} of the tolerance at {}", solid[at]);
            assert!(
                e <= 1.0,
                "{name} {what} at voxel {}: {} / {}",
                solid[at],
                cpu[at],
                gpu[at]
            );
        }

        // Both from the device's iterate, so that only the update's own arithmetic differs.
        let mut cpu_it = gpu_it.clone();
        step.run_entry(&ctx, "newton_update");
        let gpu_it = step.iterate(&ctx).unwrap();
        let mut status = Status::default();
        newton_update(&params, chem, &sites, &mut cpu_it, &solution, &mut status);
        for (what, cpu, gpu, absolute, relative) in [
            (
                "newton_update c",
                it_field(&cpu_it, |t| t.c),
                it_field(&gpu_it, |t| t.c),
                1e-30,
                1e-4,
            ),
            (
                "newton_update nu",
                it_field(&cpu_it, |t| t.nu),
                it_field(&gpu_it, |t| t.nu),
                1e-5,
                1e-6,
            ),
            (
                "newton_update dnu",
                it_field(&cpu_it, |t| t.dnu),
                it_field(&gpu_it, |t| t.dnu),
                0.0,
                1e-4,
            ),
            (
                "newton_update mu",
                it_field(&cpu_it, |t| t.mu),
                it_field(&gpu_it, |t| t.mu),
                1e-7,
                1e-6,
            ),
        ] {
            let (e, at) = excess(&cpu, &gpu, absolute, relative);
            println!("{name} {what}: {e:.3} of the tolerance at {}", solid[at]);
            assert!(
                e <= 1.0,
                "{name} {what} at voxel {}: {} / {}",
                solid[at],
                cpu[at],
                gpu[at]
            );
        }
    }
}

/// The step's entry points over faces and Newton vectors against their CPU mirrors, each fed
/// the device's own inputs (the state after `begin_step` on random c from 1e-4 to 1 − 1e-4,
/// then a random Newton increment: δμ ±0.05 kT, c moved by ±1 %), on the Sn/HC and P2/O3 cells
/// at dt_max: `face_conductance`, `start_potential`, `residuals`, the operator (`apply_saddle`
/// with `apply_node`) on a random vector, `flux_form` and `commit`, then on the committed state
/// `potential_field` and `gradient_energy`, and `newton_blocks` and `settle_galvanostat`. Sums of a few f32 terms: each result
/// within 1e-5 of its field's largest value (the flux-formed c within 1e-5 of the largest
/// change it makes; R2, a small difference of ψ μ and ψ (ν + e), within 1e-5 of those terms).
#[test]
fn face_entry_points_match_their_cpu_mirrors() {
    use swellfield::backend::cpu::convex_split as cpu;
    use swellfield::backend::gpu::context::GpuContext;
    use swellfield::backend::gpu::convex_split::{GpuConvexSplit, Iterate, OFF, Old};
    use swellfield::backend::gpu::typed::storage;
    use swellfield::free_energy::logistic;
    use swellfield::initial::SplitMix64;
    use wgpu::util::DeviceExt;
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("a GPU test needs an adapter: {e}"));
    let wide = |v: &[f32]| -> Vec<f64> { v.iter().map(|&x| f64::from(x)).collect() };
    let check = |what: &str, cpu: &[f64], gpu: &[f64], tol: f64| {
        let (d, at, scale) = common::worst(cpu, gpu);
        let err = d / scale;
        println!("{what}: {err:.2e} of its largest at {at}");
        assert!(err <= tol, "{what} at {at}: {} / {}", cpu[at], gpu[at]);
    };
    for name in ["configs/sn_hard_carbon.toml", "configs/p2_o3_cathode.toml"] {
        let problem = common::problem(name, &["grid.n=[32, 32]"]);
        let n = problem.grid.len();
        let faces = problem.chemistry.faces.as_ref().unwrap();
        let flat = |g: &[Vec<f64>]| -> Vec<f64> { g.iter().take(2).flatten().copied().collect() };
        let (flux, gradient) = (flat(&faces.flux), flat(&faces.gradient));
        let (cf, mf) = (storage(&ctx, "c", n), storage(&ctx, "mu", n));
        let mut step =
            GpuConvexSplit::new(&ctx, &problem, &problem.initial_c, (&cf, &mf), None).unwrap();
        step.set_dt(problem.time.dt_max);
        let chem = &problem.chemistry;
        let sites = step.sites(&ctx).unwrap();
        let params = *step.params();
        let reference = f64::from(params.reference);
        let mut rng = SplitMix64(29);
        let mut old = vec![Old::default(); n];
        for (i, o) in old.iter_mut().enumerate() {
            o.c = logistic(-9.2 + 18.4 * rng.next_f64()) as f32;
            if sites[i].only != OFF {
                o.nu = (chem.convex_split_at(i, f64::from(o.c)).0 - reference) as f32;
            }
        }
        step.write(
            &ctx,
            &old,
            &vec![Iterate::default(); n],
            &vec![0.0; 2 * n + 1],
        );
        step.run_entry(&ctx, "begin_step");
        let (old, it) = (step.state(&ctx).unwrap(), step.iterate(&ctx).unwrap());

        step.run_entry(&ctx, "face_conductance");
        let mut conduct = vec![0.0; 2 * n];
        cpu::face_conductance(&params, &flux, &mut conduct, &old, &mut vec![0.0; 2 * n]);
        check(
            &format!("{name} face_conductance"),
            &conduct,
            &wide(&step.conductances(&ctx).unwrap()[..2 * n]),
            1e-6,
        );
        let conduct = wide(&step.conductances(&ctx).unwrap()[..2 * n]);

        step.run_entry(&ctx, "start_potential");
        step.run_entry(&ctx, "fold_start");
        let (mut cpu_old, mut cpu_it) = (old.clone(), it.clone());
        let rho_sum = cpu::start_potential(&params, &sites, &gradient, &mut cpu_old, &mut cpu_it);
        let gpu_old = step.state(&ctx).unwrap();
        check(
            &format!("{name} start_potential"),
            &cpu_old.iter().map(|o| f64::from(o.mu0)).collect::<Vec<_>>(),
            &gpu_old.iter().map(|o| f64::from(o.mu0)).collect::<Vec<_>>(),
            1e-5,
        );
        let status = step.scalars(&ctx).unwrap();
        assert!((f64::from(status.rho_sum) - rho_sum).abs() <= 1e-5 * rho_sum.abs());

        // A Newton iterate away from the start.
        let mut moved = step.iterate(&ctx).unwrap();
        for (i, t) in moved.iter_mut().enumerate() {
            if sites[i].only != OFF {
                t.mu = (0.1 * rng.next_f64() - 0.05) as f32;
                t.c = (f64::from(t.c) * (0.99 + 0.02 * rng.next_f64())).min(0.999_9) as f32;
            }
        }
        step.write(&ctx, &gpu_old, &moved, &vec![0.0; 2 * n + 1]);
        step.run_entry(&ctx, "residuals");
        step.run_entry(&ctx, "fold_residuals");
        let mu_e = f64::from(step.scalars(&ctx).unwrap().mu_e);
        let mut rhs = vec![0.0; 2 * n + 1];
        cpu::residuals(
            &params, &sites, &gradient, &conduct, &gpu_old, &moved, &mut rhs, mu_e,
        );
        let gpu_rhs = wide(&step.rhs(&ctx).unwrap());
        check(
            &format!("{name} residuals R1"),
            &rhs[..n],
            &gpu_rhs[..n],
            1e-5,
        );
        // R2 is the small difference of ψ μ and ψ (ν + e): within 1e-5 of those terms.
        let terms = (0..n)
            .filter(|&i| sites[i].only != OFF)
            .map(|i| {
                let o = &gpu_old[i];
                f64::from(sites[i].psi)
                    * (f64::from(o.mu0).abs()
                        + f64::from(moved[i].nu).abs()
                        + f64::from(o.frozen).abs())
            })
            .fold(0.0, f64::max);
        let r2 = (n..2 * n)
            .map(|k| (rhs[k] - gpu_rhs[k]).abs())
            .fold(0.0, f64::max);
        println!("{name} residuals R2: {:.2e} of its terms", r2 / terms);
        assert!(
            r2 <= 1e-5 * terms,
            "{name} residuals R2: {r2:e} against terms {terms:e}"
        );

        let operand: Vec<f64> = (0..2 * n + 1).map(|_| rng.next_f64() - 0.5).collect();
        let operand32: Vec<f32> = operand.iter().map(|&v| v as f32).collect();
        let operand_b = ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("operand"),
                contents: bytemuck::cast_slice(&operand32),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            });
        let product_b = storage(&ctx, "product", 2 * n + 1);
        step.apply(&ctx, &operand_b, &product_b);
        let operand = wide(&operand32);
        let mut product = vec![0.0; 2 * n + 1];
        cpu::apply_saddle(
            &params,
            &sites,
            &gradient,
            &conduct,
            &gpu_old,
            &moved,
            &operand,
            &mut product,
        );
        let gpu_product = wide(&ctx.read_f32(&product_b).unwrap());
        check(
            &format!("{name} apply μ block"),
            &product[..n],
            &gpu_product[..n],
            1e-5,
        );
        check(
            &format!("{name} apply c block"),
            &product[n..2 * n],
            &gpu_product[n..2 * n],
            1e-5,
        );
        let node = (product[2 * n] - gpu_product[2 * n]).abs();
        assert!(
            node <= 1e-5 * product[2 * n].abs().max(1e-30),
            "{name} apply_node {node:e}"
        );

        // flux_form leaves the state alone (a refused step must): only commit moves it.
        let bits = |v: Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        let state_bits =
            |s: Vec<swellfield::convex_split::Old>| bytemuck::cast_slice::<_, u32>(&s).to_vec();
        let (old_before, c_before) = (
            state_bits(step.state(&ctx).unwrap()),
            bits(ctx.read_f32(&cf).unwrap()),
        );
        step.run_entry(&ctx, "flux_form");
        assert!(
            state_bits(step.state(&ctx).unwrap()) == old_before,
            "{name} flux_form moved the state"
        );
        assert!(
            bits(ctx.read_f32(&cf).unwrap()) == c_before,
            "{name} flux_form moved c_field"
        );
        step.run_entry(&ctx, "fold_commit");
        step.run_entry(&ctx, "commit");
        let mut c_new = wide(&gpu_old.iter().map(|o| o.c).collect::<Vec<_>>());
        let unbalanced = cpu::flux_form(
            &params, &sites, &conduct, &gpu_old, &moved, mu_e, &mut c_new,
        );
        let gpu_unbalanced = f64::from(step.scalars(&ctx).unwrap().unbalanced);
        println!("{name} flux_form: unbalanced {unbalanced:.3e} / {gpu_unbalanced:.3e}");
        assert!(
            (unbalanced - gpu_unbalanced).abs() <= 1e-5 * unbalanced.max(1e-30) + 1e-7,
            "{name} unbalanced {unbalanced:e} against {gpu_unbalanced:e}"
        );
        let mut c_committed = c_new.clone();
        let mut committed_old = gpu_old.clone();
        cpu::commit(&sites, &mut committed_old, &moved, &mut c_committed, &c_new);
        let gpu_c = wide(&ctx.read_f32(&cf).unwrap());
        let change: Vec<f64> = (0..n)
            .filter(|&i| sites[i].only != OFF)
            .map(|i| c_committed[i] - f64::from(gpu_old[i].c))
            .collect();
        let gpu_change: Vec<f64> = (0..n)
            .filter(|&i| sites[i].only != OFF)
            .map(|i| gpu_c[i] - f64::from(gpu_old[i].c))
            .collect();
        check(&format!("{name} flux_form"), &change, &gpu_change, 1e-5);

        // The committed state's outputs.
        let committed = step.state(&ctx).unwrap();
        for i in (0..n).filter(|&i| sites[i].only != OFF) {
            assert_eq!(
                committed[i].nu, committed_old[i].nu,
                "{name} commit ν at {i}"
            );
            assert_eq!(committed[i].c, gpu_c[i] as f32, "{name} commit c at {i}");
        }
        step.run_entry(&ctx, "potential_field");
        let mut mu = vec![0.0; n];
        cpu::potential_field(
            &params,
            chem,
            &sites,
            &gradient,
            &committed,
            &vec![0.0; n],
            &mut mu,
        );
        let gpu_mu = wide(&ctx.read_f32(&mf).unwrap());
        let solid: Vec<usize> = (0..n).filter(|&i| sites[i].only != OFF).collect();
        let on = |v: &[f64]| -> Vec<f64> { solid.iter().map(|&i| v[i]).collect() };
        check(
            &format!("{name} potential_field"),
            &on(&mu),
            &on(&gpu_mu),
            1e-5,
        );
        let energy = cpu::gradient_energy(&params, &gradient, &committed)
            * 0.5
            * f64::from(params.kappa)
            * problem.grid.voxel_volume();
        let gpu_energy = step.gradient_energy(&ctx).unwrap();
        println!("{name} gradient_energy: {energy:.8e} / {gpu_energy:.8e}");
        assert!(
            (energy - gpu_energy).abs() <= 1e-5 * energy.abs(),
            "{name} gradient_energy"
        );

        // The V-cycles' diagonals at the moved iterate.
        step.write(&ctx, &gpu_old, &moved, &vec![0.0; 2 * n + 1]);
        step.run_entry(&ctx, "newton_blocks");
        let (mut schur, mut h) = (vec![0.0; n], vec![0.0; n]);
        cpu::newton_blocks(
            &params, &sites, &gradient, &gpu_old, &moved, &mut schur, &mut h,
        );
        let (gpu_schur, gpu_h) = step.blocks(&ctx).unwrap();
        check(
            &format!("{name} newton_blocks Ŝ"),
            &schur,
            &wide(&gpu_schur[..n]),
            1e-5,
        );
        check(
            &format!("{name} newton_blocks H"),
            &h,
            &wide(&gpu_h[..n]),
            1e-5,
        );

        // The galvanostat settled from the residuals' sums (the P2/O3 cell is galvanostatic).
        let before = step.scalars(&ctx).unwrap();
        step.run_entry(&ctx, "settle_galvanostat");
        let after = step.scalars(&ctx).unwrap();
        let mut status = before;
        cpu::settle_galvanostat(&params, &mut status);
        let moved_by = (f64::from(status.mu_e) - f64::from(before.mu_e)).abs();
        let miss = (f64::from(status.mu_e) - f64::from(after.mu_e)).abs();
        println!("{name} settle_galvanostat: moved μ_e by {moved_by:.3e}, missed by {miss:.1e}");
        assert!(
            miss <= 1e-6 * (1.0 + f64::from(status.mu_e).abs()),
            "{name} settle"
        );
    }
}
