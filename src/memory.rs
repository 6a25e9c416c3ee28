//! What a run holds in host memory, estimated from its config before anything is allocated,
//! and the refusal of a grid that does not fit (one line: what it needs, what is available, the
//! largest grid of its shape that fits).
//!
//! The estimate counts the per-voxel arrays each part keeps (the problem's fields, the
//! backend's state and workspaces, the step's solver, the outputs' transient fields), in bytes
//! per voxel, from the config's features: the number of materials and hosts, the dimension,
//! mechanics (and whether it flows or expands anisotropically), and which chemistry step runs.
//! tests/memory.rs holds it against the peak resident memory of real runs.

use crate::backend::BackendChoice;
use crate::config::{Config, FreeEnergyConfig};
use crate::error::{Error, Result};

/// Bytes of an f64.
const F64: f64 = 8.0;
/// What the process holds whatever the grid (binary, libraries, thread stacks, allocator).
pub const BASE_BYTES: f64 = 20e6;
/// A run is refused when its estimate times this exceeds the memory available: the count
/// leaves out short-lived copies (reductions, image buffers, the allocator's slack), which
/// tests/memory.rs measures at about 15 % of the total.
pub const HEADROOM: f64 = 1.25;

/// The config's features that set its memory.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Features {
    voxels: f64,
    dim: f64,
    materials: f64,
    hosts: f64,
    mechanics: bool,
    anisotropic: bool,
    plastic: bool,
    /// Laminate voxels where solid meets electrolyte (`mechanics.mixing`).
    laminate: bool,
    /// The convex-splitting step's finite volumes (several hosts or pores).
    finite_volumes: bool,
}

impl Features {
    fn of(config: &Config) -> Features {
        let voxels: f64 = config.grid.n.iter().map(|&n| n.max(1) as f64).product();
        let dim = config.grid.n.iter().filter(|&&n| n > 1).count().max(1) as f64;
        let double_well = matches!(config.free_energy, FreeEnergyConfig::DoubleWell { .. });
        let materials = config.materials.len().max(1) as f64;
        let hosts = config.materials.values().filter(|m| m.has_sites()).count() as f64;
        let pores = config
            .materials
            .values()
            .any(|m| m.electrolyte || !m.has_sites());
        let mechanics = config.mechanics.is_some();
        Features {
            voxels,
            dim,
            materials,
            hosts: hosts.max(1.0),
            mechanics,
            anisotropic: mechanics
                && config
                    .materials
                    .values()
                    .any(|m| m.eigenstrain.is_some_and(|e| e[0] != e[2])),
            plastic: mechanics
                && config
                    .materials
                    .values()
                    .any(|m| m.yield_stress_gpa.is_some()),
            laminate: config
                .mechanics
                .as_ref()
                .is_some_and(|m| m.mixing == crate::config::Mixing::Laminate)
                && pores,
            finite_volumes: !double_well && (hosts > 1.0 || pores),
        }
    }

    /// Bytes per voxel of the problem itself (both backends build it on the host).
    fn problem(&self) -> f64 {
        let (m, h, d) = (self.materials, self.hosts, self.dim);
        // φ per material, labels, c-axis, ψ per host, ψ, ψd, nearest solid, the initial c, the
        // reaction's rate.
        let mut b = F64 * m + 2.0 + 3.0 * F64 + F64 * h + 2.0 * F64 + 4.0;
        b += 2.0 * F64;
        if self.finite_volumes {
            // The faces: gradient and flux weights per axis, the solid mask.
            b += 2.0 * d * F64 + 1.0;
        }
        b
    }

    /// Bytes per voxel of the CPU backend's state and workspaces.
    fn cpu_backend(&self) -> f64 {
        let d = self.dim;
        // c, μ and two work fields, two half spectra, the FFT's scratch.
        let mut b = 4.0 * F64 + 2.0 * F64 + 2.0 * F64;
        if self.mechanics {
            // Strain, CG's r, p, q, six half spectra, per-voxel stiffness and eigenstrain (16
            // values), φ again, and the c-axis where the expansion is anisotropic.
            b += 6.0 * F64 + 18.0 * F64 + 6.0 * F64 + 16.0 * F64 + self.materials * F64;
            if self.anisotropic {
                b += 3.0 * F64;
            }
            if self.plastic || self.laminate {
                // J2 data, two histories, stress, tangent, the Newton correction.
                b += 5.0 * F64 + 16.0 * F64 + 6.0 * F64 + 9.0 * F64 + 6.0 * F64;
            }
            if self.laminate {
                // The layering (fraction and normal) and a boxed split per voxel (jump, both
                // parts' strain and stress, the stress and a 6×6 tangent), as if every voxel held
                // both solid and electrolyte (an upper bound: only the interface band does).
                b += 5.0 * F64 + F64 + 69.0 * F64;
            }
        }
        if self.finite_volumes {
            // The step's fields (22 values and five per axis), the Newton system's two vectors of
            // 2N, MINRES's six of 2N, and two multigrid hierarchies (a level: diagonal, a
            // conductance per axis, x, b, r, divisor and parent; 4/3 of the finest over levels).
            b += (22.0 + 5.0 * d) * F64 + 4.0 * F64 + 12.0 * F64;
            b += 2.0 * (4.0 / 3.0) * (6.0 + d) * F64;
        }
        b
    }

    /// Bytes per voxel of the outputs' transient fields (a snapshot's fields on the host as f64
    /// and the f32 copy written).
    fn outputs(&self) -> f64 {
        let fields = 2.0 + if self.mechanics { 10.0 } else { 0.0 };
        fields * (F64 + 4.0)
    }
}

/// A run's host memory, estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub bytes: f64,
    pub per_voxel: f64,
    pub voxels: f64,
}

/// The host memory of `runs` runs of `config` held at once on `backend` (`compare` holds both
/// problems and, on the CPU, runs both cells side by side). The GPU backend keeps on the host
/// the problem and one field's staging copy.
pub fn estimate(config: &Config, backend: BackendChoice, runs: f64) -> Estimate {
    let f = Features::of(config);
    let on_gpu = backend == BackendChoice::Gpu;
    let backend_bytes = if on_gpu { F64 } else { f.cpu_backend() };
    let per_voxel = runs * (f.problem() + backend_bytes + f.outputs());
    Estimate {
        bytes: BASE_BYTES + per_voxel * f.voxels,
        per_voxel,
        voxels: f.voxels,
    }
}

/// The memory the system can give a new allocation now (`MemAvailable`), if it says.
pub fn available() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb * 1024.0)
}

/// [`check`] against what the system has available now (nothing is checked where it does not
/// say). `auto` is checked as the CPU, and where that does not fit, as the GPU when a hardware
/// adapter is there to take the run.
pub fn check_available(config: &Config, backend: BackendChoice, runs: f64) -> Result<()> {
    let Some(free) = available() else {
        return Ok(());
    };
    match check(config, backend, runs, free) {
        Err(_)
            if backend == BackendChoice::Auto
                && crate::backend::gpu::context::GpuContext::new()
                    .is_ok_and(|ctx| !ctx.is_software()) =>
        {
            check(config, BackendChoice::Gpu, runs, free)
        }
        other => other,
    }
}

/// Refuses `config` when [`estimate`] exceeds `available` bytes, naming both and the largest
/// grid of the same shape (each axis halved alike, powers of two) that fits.
pub fn check(config: &Config, backend: BackendChoice, runs: f64, available: f64) -> Result<()> {
    let e = estimate(config, backend, runs);
    let fits = |voxels: f64| HEADROOM * (BASE_BYTES + e.per_voxel * voxels) <= available;
    if fits(e.voxels) {
        return Ok(());
    }
    let mut n: Vec<i64> = config.grid.n.clone();
    let grid_fits = |n: &[i64]| fits(n.iter().map(|&v| v.max(1) as f64).product());
    while !grid_fits(&n) && n.iter().any(|&v| v > 4) {
        for v in n.iter_mut() {
            if *v > 4 {
                *v /= 2;
            }
        }
    }
    let side = if grid_fits(&n) {
        format!(
            "the largest grid of this shape that fits is [{}]",
            n.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        "no grid of this shape fits".to_string()
    };
    let what = if runs > 1.0 {
        "its two runs need"
    } else {
        "the run needs"
    };
    Err(Error::invalid(
        "grid.n",
        format!(
            "[{}]",
            config
                .grid
                .n
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &format!(
            "{what} about {} of memory on the {} backend ({:.0} bytes per voxel, and {:.0} % to spare), and {} are available",
            human(e.bytes),
            if backend == BackendChoice::Gpu {
                "GPU"
            } else {
                "CPU"
            },
            e.per_voxel,
            100.0 * (HEADROOM - 1.0),
            human(available)
        ),
        &format!("{side}; or run on a machine with more memory"),
    ))
}

/// Bytes in the largest unit that keeps the number at least 1 (decimal units).
pub fn human(bytes: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid over the memory is refused with the largest grid of its shape that fits, and that
    /// grid passes the same check while the next larger does not.
    #[test]
    fn refusal_names_a_grid_that_fits() {
        let mut config: Config = toml::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/configs/sn_hard_carbon.toml"
            ))
            .unwrap(),
        )
        .unwrap();
        config.grid.n = vec![4096, 4096];
        let available = 2e9;
        let err = check(&config, BackendChoice::Cpu, 1.0, available)
            .unwrap_err()
            .to_string();
        let start = err.find("fits is [").expect("a grid that fits") + "fits is [".len();
        let side: i64 = err[start..]
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        config.grid.n = vec![side, side];
        assert!(
            check(&config, BackendChoice::Cpu, 1.0, available).is_ok(),
            "{err}"
        );
        config.grid.n = vec![2 * side, 2 * side];
        assert!(
            check(&config, BackendChoice::Cpu, 1.0, available).is_err(),
            "{err}"
        );
    }
}
