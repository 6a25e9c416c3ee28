//! The initial composition field from `[initial]`.

use std::f64::consts::PI;

use crate::config::InitialConfig;
use crate::grid::Grid;

/// c at t = 0 on `grid`; `h_config` is the voxel spacing in the config's length unit, in which
/// the PFHub formula's coordinates are written.
pub fn initial_field(grid: &Grid, init: &InitialConfig, h_config: [f64; 3]) -> Vec<f64> {
    let [nx, ny, nz] = grid.n;
    let mut c = vec![0.0; grid.len()];
    match init {
        InitialConfig::Uniform { c0, noise, seed } => {
            let mut rng = SplitMix64(*seed);
            for v in c.iter_mut() {
                *v = c0 + noise * (2.0 * rng.next_f64() - 1.0);
            }
        }
        InitialConfig::Pfhub1a { c0, epsilon } => {
            for y in 0..ny {
                for x in 0..nx {
                    // Cell corners at x = i·h, as the PFHub reference codes sample the field.
                    let (xx, yy) = (x as f64 * h_config[0], y as f64 * h_config[1]);
                    let v = c0
                        + epsilon
                            * ((0.105 * xx).cos() * (0.11 * yy).cos()
                                + ((0.13 * xx).cos() * (0.087 * yy).cos()).powi(2)
                                + (0.025 * xx - 0.15 * yy).cos() * (0.07 * xx - 0.02 * yy).cos());
                    for z in 0..nz {
                        c[grid.index(x, y, z)] = v;
                    }
                }
            }
        }
        InitialConfig::Modes { c0, modes } => {
            for z in 0..nz {
                for y in 0..ny {
                    for x in 0..nx {
                        let (fx, fy, fz) = (
                            x as f64 / nx as f64,
                            y as f64 / ny as f64,
                            z as f64 / nz as f64,
                        );
                        let v: f64 = modes
                            .iter()
                            .map(|[a, mx, my, mz]| {
                                a * (2.0 * PI * (mx * fx + my * fy + mz * fz)).cos()
                            })
                            .sum();
                        c[grid.index(x, y, z)] = c0 + v;
                    }
                }
            }
        }
    }
    c
}

/// SplitMix64: a tiny, well-tested generator, enough for reproducible noise from a seed.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
