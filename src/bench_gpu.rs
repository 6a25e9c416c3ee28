//! `swellfield bench --gpu`: the GPU backend's ms per step (Cahn–Hilliard only and the full
//! step with elasticity) and its FFT pair, against cuFFT and the PyTorch peer
//! (`../shared/peers/torch_chel.py`) run in the same command on the same machine, and the CPU
//! backend on the same cases when asked (`--cpu-reference`).
//!
//! Each GPU step reads its scalars back, so the wall time per step includes the device's whole
//! work; the FFT pair is timed over repeated submissions closed by one read-back.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::context::GpuContext;
use crate::backend::gpu::fft::GpuRfft;
use crate::backend::gpu::recorder::Recorder;
use crate::backend::{Backend, cpu::CpuBackend};
use crate::bench::{Case, ch_problem, full_problem, time_steps};
use crate::error::Result;

/// The sizes: 256², 2048², 128³, 256³.
pub const GPU_CASES: [Case; 4] = [
    Case {
        n: 256,
        dim: 2,
        steps: 20,
    },
    Case {
        n: 2048,
        dim: 2,
        steps: 10,
    },
    Case {
        n: 128,
        dim: 3,
        steps: 10,
    },
    Case {
        n: 256,
        dim: 3,
        steps: 5,
    },
];

/// Small sizes for a software adapter (lavapipe), where the sizes take hours.
pub const SOFTWARE_CASES: [Case; 2] = [
    Case {
        n: 128,
        dim: 2,
        steps: 5,
    },
    Case {
        n: 32,
        dim: 3,
        steps: 3,
    },
];

/// What the peer printed: ms per full step (K = 4) by (n, dim), the cuFFT pair at 256³ and
/// the copy bandwidth.
#[derive(Debug, Default)]
pub struct TorchPeer {
    pub full: Vec<(usize, usize, f64)>,
    pub cufft_256_cubed_ms: Option<f64>,
    pub copy_gb_s: Option<f64>,
    pub note: String,
}

/// Runs torch_chel.py once and reads its lines.
pub fn run_torch_peer(peer_dir: &Path) -> TorchPeer {
    let script = peer_dir.join("torch_chel.py");
    let out = Command::new("python3").arg(&script).output();
    let mut peer = TorchPeer::default();
    match out {
        Err(e) => peer.note = format!("python3 {}: {e}", script.display()),
        Ok(o) if !o.status.success() => {
            peer.note = format!(
                "{} failed: {}",
                script.display(),
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("no message")
            )
        }
        Ok(o) => parse_torch(&String::from_utf8_lossy(&o.stdout), &mut peer),
    }
    peer
}

/// Reads `torch n=256 dim=3 K=4: 12.3 ms/step, ...`, `cuFFT 256^3 r2c+c2r: 1.2 ms` and
/// `copy bandwidth: 2900 GB/s` lines.
pub fn parse_torch(text: &str, peer: &mut TorchPeer) {
    let number_after = |line: &str, key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    };
    for line in text.lines() {
        if line.starts_with("torch n=") {
            if let (Some(n), Some(d), Some(ms)) = (
                number_after(line, "n="),
                number_after(line, "dim="),
                crate::bench::parse_ms_per_step(line),
            ) {
                peer.full.push((n as usize, d as usize, ms));
            }
        } else if line.starts_with("cuFFT 256^3") {
            peer.cufft_256_cubed_ms = number_after(line, "c2r:");
        } else if line.starts_with("copy bandwidth") {
            peer.copy_gb_s = number_after(line, "bandwidth:");
        }
    }
}

/// One GPU row: ms per step of the CH-only and the full step (or why not), the CPU's when
/// measured, the FFT pair.
#[derive(Debug)]
pub struct GpuRow {
    pub case: Case,
    pub ch_ms: std::result::Result<f64, String>,
    pub full_ms: std::result::Result<f64, String>,
    pub elastic_iterations: f64,
    pub cpu_full_ms: Option<f64>,
    pub fft_pair_ms: std::result::Result<f64, String>,
}

fn grid_name(c: Case) -> String {
    if c.dim == 2 {
        format!("{}²", c.n)
    } else {
        format!("{}³", c.n)
    }
}

/// The real FFT pair (R2C + C2R) on one field of the case's grid, as cuFFT's rfftn + irfftn.
pub fn time_fft_pair(ctx: &GpuContext, case: Case) -> Result<f64> {
    let n = if case.dim == 2 {
        [case.n, case.n, 1]
    } else {
        [case.n; 3]
    };
    let rfft = GpuRfft::new(ctx, n)?;
    let count = n[0] * n[1] * n[2];
    ctx.check_field("spectrum", rfft.spectrum_len(), 8)?;
    let usage =
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    let buffer = |label: &str, size: usize| {
        ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size as u64,
            usage,
            mapped_at_creation: false,
        })
    };
    let (real, spectrum, sync) = (
        buffer("fft bench real", count * 4),
        buffer("fft bench spectrum", rfft.spectrum_len() * 8),
        buffer("fft bench sync", 16),
    );
    let pair = |reps: usize| -> Result<()> {
        let mut enc = Recorder::new(&ctx.device);
        for _ in 0..reps {
            rfft.forward(ctx, &mut enc, &real, &spectrum);
            rfft.inverse(ctx, &mut enc, &spectrum, &real);
        }
        ctx.queue.submit([enc.finish()]);
        ctx.read_f32(&sync)?;
        Ok(())
    };
    pair(2)?;
    let reps = case.steps * 4;
    let t0 = Instant::now();
    pair(reps)?;
    Ok(t0.elapsed().as_secs_f64() * 1e3 / reps as f64)
}

/// Measures every case on the GPU backend (and the CPU backend's full step if asked).
pub fn run_gpu(cases: &[Case], cpu_reference: bool) -> Result<Vec<GpuRow>> {
    let mut rows = Vec::new();
    for &case in cases {
        let ch_ms = ch_problem(case.n, case.dim)
            .and_then(|p| {
                let mut gpu = GpuBackend::new(&p)?;
                time_steps(&mut gpu, p.time.dt_max, case.steps)
            })
            .map_err(|e| e.to_string());
        let mut elastic_iterations = 0.0;
        let problem = full_problem(case.n, case.dim, true);
        let full_ms = problem.as_ref().map_err(|e| e.to_string()).and_then(|p| {
            let mut gpu = GpuBackend::new(p).map_err(|e| e.to_string())?;
            for _ in 0..3 {
                gpu.step(p.time.dt_max).map_err(|e| e.to_string())?;
            }
            let t0 = Instant::now();
            let mut it = 0;
            for _ in 0..case.steps {
                it += gpu
                    .step(p.time.dt_max)
                    .map_err(|e| e.to_string())?
                    .elastic_iterations;
            }
            elastic_iterations = it as f64 / case.steps as f64;
            Ok(t0.elapsed().as_secs_f64() * 1e3 / case.steps as f64)
        });
        let cpu_full_ms = match (&problem, cpu_reference) {
            (Ok(p), true) => {
                let mut cpu = CpuBackend::new(p);
                Some(time_steps(&mut cpu, p.time.dt_max, case.steps.min(3))?)
            }
            _ => None,
        };
        let fft_pair_ms = GpuContext::new()
            .and_then(|ctx| time_fft_pair(&ctx, case))
            .map_err(|e| e.to_string());
        rows.push(GpuRow {
            case,
            ch_ms,
            full_ms,
            elastic_iterations,
            cpu_full_ms,
            fft_pair_ms,
        });
    }
    Ok(rows)
}

fn ms(v: &std::result::Result<f64, String>) -> String {
    match v {
        Ok(x) => format!("{x:.2}"),
        Err(e) => format!("not run: {e}"),
    }
}

/// The GPU measurements with the peers' figures, as Markdown.
pub fn gpu_table(adapter: &str, rows: &[GpuRow], peer: &TorchPeer) -> String {
    let mut s = format!(
        "adapter: {adapter}\n\n| case | gpu CH only (ms/step) | gpu full step (ms/step) | CG iterations/step | torch peer full step, K = 4 (ms/step) | peer / gpu | cpu full step (ms/step) | cpu / gpu |\n|---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let c = r.case;
        let peer_ms = peer
            .full
            .iter()
            .find(|(n, d, _)| *n == c.n && *d == c.dim)
            .map(|p| p.2);
        let (p, ratio) = match (peer_ms, &r.full_ms) {
            (Some(p), Ok(g)) => (format!("{p:.2}"), format!("{:.2}", p / g)),
            (Some(p), Err(_)) => (format!("{p:.2}"), "n/a".into()),
            (None, _) => ("n/a".into(), "n/a".into()),
        };
        let (cpu, cpu_ratio) = match (r.cpu_full_ms, &r.full_ms) {
            (Some(c), Ok(g)) => (format!("{c:.1}"), format!("{:.3}", c / g)),
            _ => ("not measured".into(), "n/a".into()),
        };
        s += &format!(
            "| {} | {} | {} | {:.1} | {p} | {ratio} | {cpu} | {cpu_ratio} |\n",
            grid_name(c),
            ms(&r.ch_ms),
            ms(&r.full_ms),
            r.elastic_iterations
        );
    }
    s += "\n| FFT pair (R2C + C2R) | gpu (ms) | cuFFT r2c + c2r (ms) | gpu / cuFFT |\n|---|---|---|---|\n";
    for r in rows {
        let cufft = (r.case.n == 256 && r.case.dim == 3)
            .then_some(peer.cufft_256_cubed_ms)
            .flatten();
        let (cu, ratio) = match (cufft, &r.fft_pair_ms) {
            (Some(cu), Ok(g)) => (format!("{cu:.3}"), format!("{:.2}", g / cu)),
            _ => ("n/a".into(), "n/a".into()),
        };
        s += &format!(
            "| {} | {} | {cu} | {ratio} |\n",
            grid_name(r.case),
            ms(&r.fft_pair_ms)
        );
    }
    if let Some(bw) = peer.copy_gb_s {
        s += &format!("\ndevice copy bandwidth (torch): {bw:.0} GB/s\n");
    }
    if !peer.note.is_empty() {
        s += &format!("\npeer: {}\n", peer.note);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_torch_peer_lines() {
        let text = "2.5.0 NVIDIA H100\ntorch n=2048 dim=2 K=4: 3.210 ms/step, 30 real FFTs/step, mean c=0.5 finite=True\n\
                    torch n=256 dim=3 K=4: 41.5 ms/step, 60 real FFTs/step\ncuFFT 256^3 r2c+c2r: 0.812 ms\ncopy bandwidth: 2870 GB/s (read+write)\n";
        let mut p = super::TorchPeer::default();
        super::parse_torch(text, &mut p);
        assert_eq!(p.full, vec![(2048, 2, 3.21), (256, 3, 41.5)]);
        assert_eq!(p.cufft_256_cubed_ms, Some(0.812));
        assert_eq!(p.copy_gb_s, Some(2870.0));
    }
}
