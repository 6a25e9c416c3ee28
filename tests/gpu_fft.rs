//! The WGSL FFT against rustfft on random input, on whatever adapter wgpu finds (lavapipe in
//! CI). Fails loudly when there is none: GPU tests never pass by skipping.

use rustfft::FftPlanner;
use swellfield::backend::gpu::context::GpuContext;
use swellfield::backend::gpu::fft::GpuFft;
use swellfield::backend::gpu::recorder::Recorder;
use swellfield::initial::SplitMix64;
use wgpu::util::DeviceExt;

fn context() -> GpuContext {
    GpuContext::new().unwrap_or_else(|e| panic!("a GPU test needs a wgpu adapter: {e}"))
}

/// Reference: rustfft along each axis in turn (f64 for accuracy).
fn reference(
    x: &[rustfft::num_complex::Complex64],
    n: [usize; 3],
    inverse: bool,
) -> Vec<rustfft::num_complex::Complex64> {
    let mut planner = FftPlanner::<f64>::new();
    let mut a = x.to_vec();
    for axis in 0..3 {
        if n[axis] == 1 {
            continue;
        }
        let fft = if inverse {
            planner.plan_fft_inverse(n[axis])
        } else {
            planner.plan_fft_forward(n[axis])
        };
        let stride = [1, n[0], n[0] * n[1]][axis];
        let mut line = vec![Default::default(); n[axis]];
        for start in 0..a.len() {
            if !(start / stride).is_multiple_of(n[axis]) {
                continue;
            }
            for i in 0..n[axis] {
                line[i] = a[start + i * stride];
            }
            fft.process(&mut line);
            for i in 0..n[axis] {
                a[start + i * stride] = line[i];
            }
        }
    }
    if inverse {
        let s = 1.0 / a.len() as f64;
        a.iter_mut().for_each(|v| *v *= s);
    }
    a
}

/// Forward and inverse transforms of random complex data in 2-D and 3-D match rustfft to f32
/// round-off times log₂N: relative (to the largest value) error below 2e-7 · log₂N.
#[test]
fn fft_matches_rustfft() {
    let ctx = context();
    println!("adapter: {} ({:?})", ctx.info.name, ctx.info.device_type);
    for n in [
        [64, 32, 1],
        [256, 256, 1],
        [16, 32, 8],
        [64, 64, 64],
        [2048, 8, 1],
        [4, 8, 4096],
    ] {
        let len = n[0] * n[1] * n[2];
        let mut rng = SplitMix64(11);
        let x: Vec<rustfft::num_complex::Complex64> = (0..len)
            .map(|_| {
                rustfft::num_complex::Complex64::new(rng.next_f64() - 0.5, rng.next_f64() - 0.5)
            })
            .collect();
        let x32: Vec<f32> = x.iter().flat_map(|v| [v.re as f32, v.im as f32]).collect();
        let fft = GpuFft::new(&ctx, n).unwrap();
        for inverse in [false, true] {
            let buffer = ctx
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents: bytemuck::cast_slice(&x32),
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                });
            let mut enc = Recorder::new(&ctx.device);
            fft.encode(&ctx, &mut enc, &buffer, inverse);
            ctx.queue.submit([enc.finish()]);
            let got = ctx.read_f32(&buffer).unwrap();
            let want = reference(&x, n, inverse);
            let scale = want.iter().map(|v| v.norm()).fold(0.0, f64::max);
            let (worst, at) = want
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    (
                        ((got[2 * i] as f64 - w.re).powi(2)
                            + (got[2 * i + 1] as f64 - w.im).powi(2))
                        .sqrt(),
                        i,
                    )
                })
                .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
            let bound = 2e-7 * (len as f64).log2();
            println!(
                "{n:?} inverse={inverse}: worst relative error {:.2e} (bound {bound:.1e}) at voxel {at}",
                worst / scale
            );
            assert!(
                worst / scale < bound,
                "{n:?} inverse={inverse}: {:e} at voxel {at}",
                worst / scale
            );
        }
    }
}

/// A grid axis longer than two workgroup lines can split (1024² voxels) is refused with a clear
/// error.
#[test]
fn too_long_an_axis_is_refused() {
    let ctx = context();
    let err = GpuFft::new(&ctx, [1 << 21, 1, 1])
        .err()
        .expect("2^21 is too long")
        .to_string();
    assert!(err.contains("2097152") && err.contains("1048576"), "{err}");
}

/// R2C and C2R of random real data in 2-D and 3-D against rustfft's complex transform of the
/// same data (its non-negative x modes), and C2R(R2C(x)) against x: the same f32 bound.
#[test]
fn real_transforms_match_rustfft() {
    use swellfield::backend::gpu::fft::GpuRfft;
    let ctx = context();
    for n in [[64, 32, 1], [16, 8, 4], [256, 4, 2], [2048, 4, 1]] {
        let len = n[0] * n[1] * n[2];
        let mut rng = SplitMix64(5);
        let x: Vec<f64> = (0..len).map(|_| rng.next_f64() - 0.5).collect();
        let xc: Vec<rustfft::num_complex::Complex64> = x
            .iter()
            .map(|&v| rustfft::num_complex::Complex64::new(v, 0.0))
            .collect();
        let want = reference(&xc, n, false);
        let rfft = GpuRfft::new(&ctx, n).unwrap();
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let real = ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: bytemuck::cast_slice(&x32),
                usage,
            });
        let spectrum = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: (rfft.spectrum_len() * 8) as u64,
            usage,
            mapped_at_creation: false,
        });
        let mut enc = Recorder::new(&ctx.device);
        rfft.forward(&ctx, &mut enc, &real, &spectrum);
        ctx.queue.submit([enc.finish()]);
        let got = ctx.read_f32(&spectrum).unwrap();
        let w = n[0] / 2 + 1;
        let scale = want.iter().map(|v| v.norm()).fold(0.0, f64::max);
        let mut worst: f64 = 0.0;
        for row in 0..n[1] * n[2] {
            for k in 0..w {
                let g = (
                    got[2 * (row * w + k)] as f64,
                    got[2 * (row * w + k) + 1] as f64,
                );
                let r = want[row * n[0] + k];
                worst = worst.max(((g.0 - r.re).powi(2) + (g.1 - r.im).powi(2)).sqrt());
            }
        }
        let bound = 2e-7 * (len as f64).log2();
        println!(
            "{n:?} R2C: worst relative error {:.2e} (bound {bound:.1e})",
            worst / scale
        );
        assert!(worst / scale < bound, "{n:?} R2C: {:e}", worst / scale);
        let mut enc = Recorder::new(&ctx.device);
        rfft.inverse(&ctx, &mut enc, &spectrum, &real);
        ctx.queue.submit([enc.finish()]);
        let back = ctx.read_f32(&real).unwrap();
        let worst = x
            .iter()
            .zip(&back)
            .map(|(a, &b)| (a - b as f64).abs())
            .fold(0.0, f64::max);
        println!("{n:?} C2R(R2C): worst error {worst:.2e}");
        assert!(worst < bound * 0.5, "{n:?} C2R: {worst:e}");
    }
}
