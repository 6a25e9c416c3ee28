//! The periodic grid: voxel counts, spacing, the one index function and the wavenumbers.
//!
//! 2-D runs are `nz = 1` (plane strain in later issues) and use the same index function, so no
//! code branches on dimension except where physics does (model.md §6).

use std::f64::consts::PI;

/// A periodic box of `n[0] × n[1] × n[2]` voxels (x fastest), spacing in model length units.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Voxels along x, y, z; `n[2] == 1` is a 2-D run.
    pub n: [usize; 3],
    /// Voxel edge along x, y, z in model length units (`Problem` decides the unit).
    pub spacing: [f64; 3],
}

impl Grid {
    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.n[0] * self.n[1] * self.n[2]
    }

    /// Always false for a valid grid; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// 2 or 3.
    pub fn dim(&self) -> usize {
        if self.n[2] == 1 { 2 } else { 3 }
    }

    /// Linear index of voxel (x, y, z), x fastest.
    #[inline]
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        (z * self.n[1] + y) * self.n[0] + x
    }

    /// Volume (area in 2-D) of one voxel in model units.
    pub fn voxel_volume(&self) -> f64 {
        let d = self.dim();
        self.spacing[..d].iter().product()
    }

    /// Edge lengths of the box in model units.
    pub fn lengths(&self) -> [f64; 3] {
        [0, 1, 2].map(|a| self.n[a] as f64 * self.spacing[a])
    }

    /// Wavenumber of FFT index `i` along `axis` (`2π m / L` with m in `(-n/2, n/2]`).
    #[inline]
    pub fn wavenumber(&self, axis: usize, i: usize) -> f64 {
        let n = self.n[axis];
        let m = if i <= n / 2 {
            i as f64
        } else {
            i as f64 - n as f64
        };
        2.0 * PI * m / (n as f64 * self.spacing[axis])
    }

    /// Wavenumber for a first derivative: as [`Grid::wavenumber`] but zero at the Nyquist index,
    /// whose sine mode a grid cannot represent (keeps derivatives of real fields real).
    #[inline]
    pub fn derivative_wavenumber(&self, axis: usize, i: usize) -> f64 {
        let n = self.n[axis];
        if n > 1 && 2 * i == n {
            0.0
        } else {
            self.wavenumber(axis, i)
        }
    }

    /// Largest |k|² on the grid (the Nyquist corner), for stability estimates.
    pub fn k2_max(&self) -> f64 {
        (0..self.dim())
            .map(|a| (PI / self.spacing[a]).powi(2))
            .sum()
    }
}

/// The powers of two just below and above `n` (for an error that names valid sizes).
pub fn nearest_powers_of_two(n: usize) -> (usize, usize) {
    if n <= 1 {
        return (1, 2);
    }
    let above = n.next_power_of_two();
    let below = if above == n { n } else { above / 2 };
    (below, above)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_x_fastest() {
        let g = Grid {
            n: [4, 8, 2],
            spacing: [1.0; 3],
        };
        assert_eq!(g.index(1, 0, 0), 1);
        assert_eq!(g.index(0, 1, 0), 4);
        assert_eq!(g.index(0, 0, 1), 32);
        assert_eq!(g.dim(), 3);
    }

    #[test]
    fn wavenumbers_wrap_and_nyquist_derivative_is_zero() {
        let g = Grid {
            n: [8, 8, 1],
            spacing: [0.5, 0.5, 1.0],
        };
        let k1 = 2.0 * PI / 4.0;
        assert!((g.wavenumber(0, 1) - k1).abs() < 1e-15);
        assert!((g.wavenumber(0, 7) + k1).abs() < 1e-15);
        assert!((g.wavenumber(0, 4) - 4.0 * k1).abs() < 1e-15);
        assert_eq!(g.derivative_wavenumber(0, 4), 0.0);
        assert_eq!(g.dim(), 2);
    }

    #[test]
    fn nearest_powers() {
        assert_eq!(nearest_powers_of_two(200), (128, 256));
        assert_eq!(nearest_powers_of_two(256), (256, 256));
        assert_eq!(nearest_powers_of_two(3), (2, 4));
    }
}
