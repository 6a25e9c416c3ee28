//! The finite-volume faces of the voxel grid (model.md §8, "The convex-splitting step"): the
//! static weights of the gradient energy and of the flux on every face between two solid
//! voxels, built once from ψ and ψd. Backend-neutral; the CPU step applies them in
//! `backend::cpu::convex_split`.
//!
//! Face `(a, i)` joins voxel i to its periodic neighbour `i + e_a`. A face touching a voxel that
//! is not solid carries nothing (both weights 0): the pores hold no sites, so neither ions nor
//! gradient energy cross into them, which is the natural no-flux condition at the solid's edge.

use crate::grid::Grid;

/// Face weights per axis, each indexed by the face's lower voxel.
#[derive(Debug, Clone)]
pub struct Faces {
    /// `ψ_f/Δx_a²`, ψ_f = (ψ_i + ψ_j)/2: the gradient energy is
    /// `κ/2 Σ_faces ψ_f (c_i − c_j)²/Δx_a²` per unit volume, per model site.
    pub gradient: Vec<Vec<f64>>,
    /// `h(ψd_i, ψd_j)/Δx_a²`, h the harmonic mean (resistances in series, 0 next to a voxel
    /// without mobility): the face mobility before site blocking.
    pub flux: Vec<Vec<f64>>,
    /// Voxels that hold sites.
    pub solid: Vec<bool>,
}

impl Faces {
    /// Faces of `grid` for site densities `psi`, solid where `psi ≥ floor`, and the flux
    /// prefactor ψd (`None`: ψ itself, one diffusivity).
    pub fn new(grid: &Grid, psi: &[f64], floor: f64, psi_d: Option<&[f64]>) -> Faces {
        let n = grid.len();
        let solid: Vec<bool> = psi.iter().map(|&p| p >= floor).collect();
        let dim = grid.dim();
        let mut gradient = vec![vec![0.0; n]; dim];
        let mut flux = vec![vec![0.0; n]; dim];
        for a in 0..dim {
            let h2 = grid.spacing[a] * grid.spacing[a];
            for i in 0..n {
                let j = neighbour(grid.n, i, a, true);
                if !(solid[i] && solid[j]) {
                    continue;
                }
                gradient[a][i] = 0.5 * (psi[i] + psi[j]) / h2;
                let (fi, fj) = psi_d.map_or((psi[i], psi[j]), |f| (f[i], f[j]));
                flux[a][i] = if fi > 0.0 && fj > 0.0 {
                    2.0 * fi * fj / (fi + fj) / h2
                } else {
                    0.0
                };
            }
        }
        Faces {
            gradient,
            flux,
            solid,
        }
    }
}

/// Coarsest multigrid level solved directly: at most this many voxels (a dense Cholesky factor
/// of 64² entries; a GPU workgroup solves it one row per invocation).
pub const DIRECT: usize = 64;

/// One level of the multigrid hierarchy on the voxel grid (both backends' `multigrid`): its
/// voxels per axis and, per axis, 2 where it is coarsened into the next level, else 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coarsening {
    pub n: [usize; 3],
    pub factor: [usize; 3],
}

impl Coarsening {
    pub fn len(&self) -> usize {
        self.n[0] * self.n[1] * self.n[2]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next coarser level's voxels per axis.
    pub fn coarse(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.n[a] / self.factor[a])
    }
}

/// The levels of grid `n` of dimension `dim`: each halves every axis of even length ≥ 4 while
/// the level holds more than [`DIRECT`] voxels; the last level's factors are 1.
pub fn coarsening(n: [usize; 3], dim: usize) -> Vec<Coarsening> {
    let mut levels = vec![Coarsening { n, factor: [1; 3] }];
    loop {
        let last = levels.last_mut().expect("one level");
        if last.len() <= DIRECT {
            break;
        }
        let factor: [usize; 3] = std::array::from_fn(|a| {
            if a < dim && last.n[a] % 2 == 0 && last.n[a] >= 4 {
                2
            } else {
                1
            }
        });
        if factor == [1, 1, 1] {
            break;
        }
        last.factor = factor;
        let coarse = last.coarse();
        levels.push(Coarsening {
            n: coarse,
            factor: [1; 3],
        });
    }
    levels
}

/// `out_i += Σ` of the conductances `g` (per axis, indexed by the face's lower voxel) of the
/// faces around voxel i: the diagonal of the face Laplacian with those conductances.
pub fn add_face_sums(n: [usize; 3], g: &[Vec<f64>], out: &mut [f64]) {
    for (a, ga) in g.iter().enumerate() {
        for (i, &v) in ga.iter().enumerate() {
            out[i] += v;
            out[neighbour(n, i, a, true)] += v;
        }
    }
}

/// The periodic neighbour of voxel i along axis a, upward or downward.
#[inline]
pub fn neighbour(n: [usize; 3], i: usize, a: usize, up: bool) -> usize {
    let [nx, ny, _] = n;
    let stride = [1, nx, nx * ny][a];
    let q = (i / stride) % n[a];
    if up {
        if q + 1 == n[a] {
            i + stride - n[a] * stride
        } else {
            i + stride
        }
    } else if q == 0 {
        i + (n[a] - 1) * stride
    } else {
        i - stride
    }
}

/// Face conductances per axis, `g[a][i]` joining voxel i to its upward neighbour along a, for
/// the grid's axes: the weighted graph Laplacian's sums around a voxel of a [`Row`].
pub struct Conductances<'a> {
    dim: usize,
    g: [&'a [f64]; 3],
}

impl<'a> Conductances<'a> {
    /// From one vector per axis (the first `dim` are read).
    pub fn new(dim: usize, per_axis: &'a [Vec<f64>]) -> Conductances<'a> {
        Self::from_axes(dim, |a| per_axis[a].as_slice())
    }

    /// From a multigrid level's axis-major array (`g[a·len + i]`).
    pub fn of_level(level: &Coarsening, dim: usize, g: &'a [f64]) -> Conductances<'a> {
        let len = level.len();
        Self::from_axes(dim, |a| &g[a * len..(a + 1) * len])
    }

    /// `axis(a)` for the grid's axes, empty beyond them.
    fn from_axes(dim: usize, axis: impl Fn(usize) -> &'a [f64]) -> Conductances<'a> {
        let g = std::array::from_fn(|a| if a < dim { axis(a) } else { &[][..] });
        Conductances { dim, g }
    }

    /// Σ_faces g x_neighbour around voxel (xi, row).
    #[inline(always)]
    pub fn pull(&self, row: &Row, xi: usize, x: &[f64]) -> f64 {
        let i = row.base + xi;
        let (up, down) = row.along_x(xi);
        let g = &self.g;
        let mut s = g[0][i] * x[up] + g[0][down] * x[down];
        if self.dim >= 2 {
            let (u, d) = (row.up[0] + xi, row.down[0] + xi);
            s += g[1][i] * x[u] + g[1][d] * x[d];
        }
        if self.dim >= 3 {
            let (u, d) = (row.up[1] + xi, row.down[1] + xi);
            s += g[2][i] * x[u] + g[2][d] * x[d];
        }
        s
    }

    /// Σ_faces g (x_i − x_neighbour) around voxel (xi, row).
    #[inline(always)]
    pub fn push(&self, row: &Row, xi: usize, x: &[f64]) -> f64 {
        let i = row.base + xi;
        let (up, down) = row.along_x(xi);
        let (g, v) = (&self.g, x[i]);
        let mut s = g[0][i] * (v - x[up]) + g[0][down] * (v - x[down]);
        if self.dim >= 2 {
            let (u, d) = (row.up[0] + xi, row.down[0] + xi);
            s += g[1][i] * (v - x[u]) + g[1][d] * (v - x[d]);
        }
        if self.dim >= 3 {
            let (u, d) = (row.up[1] + xi, row.down[1] + xi);
            s += g[2][i] * (v - x[u]) + g[2][d] * (v - x[d]);
        }
        s
    }
}

/// One row of voxels along x at (y, z) of the periodic grid: its first index and the first
/// indices of its neighbouring rows along y and z (up, down), found once per row.
pub struct Row {
    nx: usize,
    /// The index of the row's first voxel.
    pub base: usize,
    up: [usize; 2],
    down: [usize; 2],
}

impl Row {
    #[inline(always)]
    pub fn new(n: [usize; 3], y: usize, z: usize) -> Row {
        let [nx, ny, nz] = n;
        let plane = nx * ny;
        let base = nx * (y + ny * z);
        Row {
            nx,
            base,
            up: [
                if y + 1 == ny {
                    base + nx - plane
                } else {
                    base + nx
                },
                if z + 1 == nz {
                    base + plane - plane * nz
                } else {
                    base + plane
                },
            ],
            down: [
                if y == 0 { base + plane - nx } else { base - nx },
                if z == 0 {
                    base + plane * nz - plane
                } else {
                    base - plane
                },
            ],
        }
    }

    /// The up and down neighbours of voxel xi of the row along x.
    #[inline(always)]
    pub fn along_x(&self, xi: usize) -> (usize, usize) {
        let i = self.base + xi;
        (
            if xi + 1 == self.nx { self.base } else { i + 1 },
            if xi == 0 {
                self.base + self.nx - 1
            } else {
                i - 1
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_wrap_periodically() {
        let n = [4, 3, 2];
        let at = |x: usize, y: usize, z: usize| x + 4 * (y + 3 * z);
        assert_eq!(neighbour(n, at(3, 1, 1), 0, true), at(0, 1, 1));
        assert_eq!(neighbour(n, at(0, 1, 1), 0, false), at(3, 1, 1));
        assert_eq!(neighbour(n, at(2, 2, 0), 1, true), at(2, 0, 0));
        assert_eq!(neighbour(n, at(2, 0, 1), 1, false), at(2, 2, 1));
        assert_eq!(neighbour(n, at(1, 1, 1), 2, true), at(1, 1, 0));
        assert_eq!(neighbour(n, at(1, 1, 0), 2, false), at(1, 1, 1));
        for z in 0..2 {
            for y in 0..3 {
                let row = Row::new(n, y, z);
                for x in 0..4 {
                    let i = at(x, y, z);
                    let along = [
                        row.along_x(x),
                        (row.up[0] + x, row.down[0] + x),
                        (row.up[1] + x, row.down[1] + x),
                    ];
                    for (a, (up, down)) in along.iter().enumerate() {
                        assert_eq!(
                            (*up, *down),
                            (neighbour(n, i, a, true), neighbour(n, i, a, false))
                        );
                    }
                }
            }
        }
    }
}
