//! Geometric multigrid for `B x = b`, `(B x)_i = d_i x_i + Σ_faces g (x_i − x_j)` on the
//! periodic voxel grid: a diagonal plus a weighted graph Laplacian, the form of every block the
//! convex-splitting step preconditions (model.md §8). One V-cycle from a zero guess is a fixed
//! symmetric positive-definite operator, so it preconditions Krylov methods (MINRES, CG).
//!
//! Coarsening merges 2 voxels along every axis that allows it (even length ≥ 4): a coarse
//! voxel's diagonal is the sum of its children's, and a coarse face's conductance is the sum of
//! the fine faces that cross it, halved along a coarsened axis (the distance between centres
//! doubles). That keeps a uniform Laplacian's coefficient on every level, keeps a face of the
//! pores (conductance 0) closed on every level, and follows a contrast of 1e5 across a face
//! because the conductances, not the diffusivities, are summed. Smoothing is red–black
//! Gauss–Seidel, red then black before the coarse correction and black then red after (the
//! reverse order, so the cycle is symmetric); restriction sums the children, prolongation
//! copies the parent. The coarsest level (at most [`DIRECT`] active voxels) is solved by a
//! dense Cholesky factorisation.

#![expect(
    clippy::needless_range_loop,
    reason = "voxel loops index several fields by one voxel, as their WGSL twins will"
)]

use crate::finite_volume::{add_face_sums, neighbour, neighbours_at};

/// Largest coarsest level solved directly.
const DIRECT: usize = 64;
/// Smoothing sweeps (each a red and a black half) before and after the coarse correction.
const SWEEPS: usize = 1;
/// Symmetric Gauss–Seidel sweeps on a coarsest level too large to factor (odd grids).
const COARSE_SWEEPS: usize = 40;

/// One level: its grid, coefficients and workspace.
struct Level {
    n: [usize; 3],
    dim: usize,
    diag: Vec<f64>,
    /// Conductance of face (a, i), i to i + e_a.
    g: Vec<Vec<f64>>,
    active: Vec<bool>,
    /// Per axis: 2 where this level is coarsened into the next, else 1.
    factor: [usize; 3],
    x: Vec<f64>,
    b: Vec<f64>,
    r: Vec<f64>,
    /// The next coarser level's voxel holding each of this level's (empty on the coarsest).
    parent: Vec<usize>,
    /// 1/(d_i + Σ g around i), the Gauss–Seidel divisor (0 where that sum is 0).
    inverse: Vec<f64>,
}

impl Level {
    fn new(n: [usize; 3], dim: usize) -> Level {
        let len = n[0] * n[1] * n[2];
        Level {
            n,
            dim,
            diag: vec![0.0; len],
            g: vec![vec![0.0; len]; dim],
            active: vec![false; len],
            factor: [1; 3],
            x: vec![0.0; len],
            b: vec![0.0; len],
            r: vec![0.0; len],
            parent: Vec::new(),
            inverse: vec![0.0; len],
        }
    }

    fn len(&self) -> usize {
        self.diag.len()
    }

    /// (B x)_i, given i's neighbours.
    #[inline(always)]
    fn apply_at(&self, x: &[f64], i: usize, nb: &[(usize, usize); 3]) -> f64 {
        let mut s = self.diag[i] * x[i];
        for (a, &(up, down)) in nb.iter().enumerate().take(self.dim) {
            s += self.g[a][i] * (x[i] - x[up]) + self.g[a][down] * (x[i] - x[down]);
        }
        s
    }

    /// One Gauss–Seidel update of voxel i.
    #[inline(always)]
    fn relax(&mut self, i: usize, nb: &[(usize, usize); 3]) {
        if !self.active[i] {
            self.x[i] = 0.0;
            return;
        }
        let mut num = self.b[i];
        for (a, &(up, down)) in nb.iter().enumerate().take(self.dim) {
            num += self.g[a][i] * self.x[up] + self.g[a][down] * self.x[down];
        }
        self.x[i] = num * self.inverse[i];
    }

    /// Relaxes the voxels of one colour ((x + y + z) mod 2), in index order or its reverse.
    fn relax_colour(&mut self, colour: usize, forward: bool) {
        let [nx, ny, nz] = self.n;
        let n = self.n;
        let rows = ny * nz;
        for r in 0..rows {
            let r = if forward { r } else { rows - 1 - r };
            let (y, z) = (r % ny, r / ny);
            let first = (y + z + colour) % 2;
            let count = (nx - first).div_ceil(2);
            for k in 0..count {
                let k = if forward { k } else { count - 1 - k };
                let x = first + 2 * k;
                let i = x + nx * r;
                let nb = neighbours_at(n, i, x, y, z);
                self.relax(i, &nb);
            }
        }
    }

    /// Red then black (`forward`), or black then red in reverse order: each the other's adjoint.
    fn smooth(&mut self, forward: bool) {
        if forward {
            self.relax_colour(0, true);
            self.relax_colour(1, true);
        } else {
            self.relax_colour(1, false);
            self.relax_colour(0, false);
        }
    }

    /// r = b − B x on the active voxels.
    fn residual(&mut self) {
        let [nx, ny, nz] = self.n;
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let i = x + nx * (y + ny * z);
                    self.r[i] = if self.active[i] {
                        let nb = neighbours_at(self.n, i, x, y, z);
                        self.b[i] - self.apply_at(&self.x, i, &nb)
                    } else {
                        0.0
                    };
                }
            }
        }
    }

    /// The Gauss–Seidel divisors from the coefficients.
    fn invert(&mut self) {
        let mut den = self.diag.clone();
        add_face_sums(self.n, &self.g, &mut den);
        for (inv, (d, &active)) in self.inverse.iter_mut().zip(den.iter().zip(&self.active)) {
            *inv = if active && *d > 0.0 { 1.0 / d } else { 0.0 };
        }
    }

    /// For every fine voxel in index order, the coarse voxel holding it.
    fn parents(&self, coarse: [usize; 3]) -> Vec<usize> {
        let [nx, ny, nz] = self.n;
        let mut out = Vec::with_capacity(self.len());
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let p = [x / self.factor[0], y / self.factor[1], z / self.factor[2]];
                    out.push(p[0] + coarse[0] * (p[1] + coarse[1] * p[2]));
                }
            }
        }
        out
    }
}

/// A dense Cholesky factor of the coarsest level's active block.
struct Direct {
    /// Active voxels in order.
    index: Vec<usize>,
    /// Lower factor, row-major, `index.len()²`.
    l: Vec<f64>,
}

impl Direct {
    fn factor(level: &Level) -> Option<Direct> {
        let index: Vec<usize> = (0..level.len()).filter(|&i| level.active[i]).collect();
        let m = index.len();
        let mut pos = vec![usize::MAX; level.len()];
        for (k, &i) in index.iter().enumerate() {
            pos[i] = k;
        }
        let mut a = vec![0.0; m * m];
        for (k, &i) in index.iter().enumerate() {
            a[k * m + k] += level.diag[i];
            for ax in 0..level.dim {
                let j = neighbour(level.n, i, ax, true);
                let g = level.g[ax][i];
                if g == 0.0 || pos[j] == usize::MAX || j == i {
                    continue;
                }
                let l = pos[j];
                a[k * m + k] += g;
                a[l * m + l] += g;
                a[k * m + l] -= g;
                a[l * m + k] -= g;
            }
        }
        for j in 0..m {
            let mut d = a[j * m + j];
            for k in 0..j {
                d -= a[j * m + k] * a[j * m + k];
            }
            if d <= 0.0 {
                return None;
            }
            let d = d.sqrt();
            a[j * m + j] = d;
            for i in j + 1..m {
                let mut s = a[i * m + j];
                for k in 0..j {
                    s -= a[i * m + k] * a[j * m + k];
                }
                a[i * m + j] = s / d;
            }
        }
        Some(Direct { index, l: a })
    }

    fn solve(&self, level: &mut Level) {
        let m = self.index.len();
        let mut y: Vec<f64> = self.index.iter().map(|&i| level.b[i]).collect();
        for i in 0..m {
            let mut s = y[i];
            for k in 0..i {
                s -= self.l[i * m + k] * y[k];
            }
            y[i] = s / self.l[i * m + i];
        }
        for i in (0..m).rev() {
            let mut s = y[i];
            for k in i + 1..m {
                s -= self.l[k * m + i] * y[k];
            }
            y[i] = s / self.l[i * m + i];
        }
        level.x.iter_mut().for_each(|v| *v = 0.0);
        for (k, &i) in self.index.iter().enumerate() {
            level.x[i] = y[k];
        }
    }
}

/// The hierarchy for one grid; [`Multigrid::setup`] fills its coefficients.
pub struct Multigrid {
    levels: Vec<Level>,
    direct: Option<Direct>,
}

impl Multigrid {
    /// Levels for grid `n` of dimension `dim`, coarsened while the coarsest has more than
    /// [`DIRECT`] voxels and some axis can halve.
    pub fn new(n: [usize; 3], dim: usize) -> Multigrid {
        let mut levels = vec![Level::new(n, dim)];
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
            let coarse = std::array::from_fn(|a| last.n[a] / factor[a]);
            last.parent = last.parents(coarse);
            levels.push(Level::new(coarse, dim));
        }
        Multigrid {
            levels,
            direct: None,
        }
    }

    /// Number of levels.
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// Sets the finest level's coefficients (`diag`, conductances `g[a][i]` of face (a, i),
    /// `active` voxels; inactive ones must have d = 0 and no conductance) and builds the
    /// coarser levels and the coarsest factor.
    pub fn setup(&mut self, diag: &[f64], g: &[Vec<f64>], active: &[bool]) {
        let fine = &mut self.levels[0];
        fine.diag.copy_from_slice(diag);
        for (dst, src) in fine.g.iter_mut().zip(g) {
            dst.copy_from_slice(src);
        }
        fine.active.copy_from_slice(active);
        for l in 1..self.levels.len() {
            let (head, tail) = self.levels.split_at_mut(l);
            let (f, c) = (&head[l - 1], &mut tail[0]);
            c.diag.iter_mut().for_each(|v| *v = 0.0);
            c.active.iter_mut().for_each(|v| *v = false);
            for ga in c.g.iter_mut() {
                ga.iter_mut().for_each(|v| *v = 0.0);
            }
            for i in 0..f.len() {
                let p = f.parent[i];
                c.diag[p] += f.diag[i];
                c.active[p] |= f.active[i];
                for a in 0..f.dim {
                    let j = neighbour(f.n, i, a, true);
                    let q = f.parent[j];
                    if q != p {
                        // Crossing faces; halved where the centres' distance doubled.
                        c.g[a][p] += f.g[a][i] / f.factor[a] as f64;
                    }
                }
            }
        }
        for level in self.levels.iter_mut() {
            level.invert();
        }
        let coarsest = self.levels.last().expect("one level");
        let active = coarsest.active.iter().filter(|&&a| a).count();
        self.direct = if active <= DIRECT {
            Direct::factor(coarsest)
        } else {
            None
        };
    }

    /// z ← one V-cycle applied to r (z ≈ B⁻¹ r), from a zero guess.
    pub fn apply(&mut self, r: &[f64], z: &mut [f64]) {
        self.levels[0].b.copy_from_slice(r);
        self.cycle(0);
        z.copy_from_slice(&self.levels[0].x);
    }

    fn cycle(&mut self, l: usize) {
        let last = self.levels.len() - 1;
        if l == last {
            let level = &mut self.levels[l];
            match &self.direct {
                Some(d) => d.solve(level),
                None => {
                    level.x.iter_mut().for_each(|v| *v = 0.0);
                    for _ in 0..COARSE_SWEEPS {
                        level.smooth(true);
                        level.smooth(false);
                    }
                }
            }
            return;
        }
        {
            let level = &mut self.levels[l];
            level.x.iter_mut().for_each(|v| *v = 0.0);
            for _ in 0..SWEEPS {
                level.smooth(true);
            }
            level.residual();
        }
        {
            let (head, tail) = self.levels.split_at_mut(l + 1);
            let (f, c) = (&head[l], &mut tail[0]);
            c.b.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..f.len() {
                c.b[f.parent[i]] += f.r[i];
            }
        }
        self.cycle(l + 1);
        let (head, tail) = self.levels.split_at_mut(l + 1);
        let (f, c) = (&mut head[l], &tail[0]);
        for i in 0..f.len() {
            if f.active[i] {
                f.x[i] += c.x[f.parent[i]];
            }
        }
        for _ in 0..SWEEPS {
            f.smooth(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A V-cycle is symmetric (the smoothing reversed after the correction), as Krylov
    /// preconditioning needs: `⟨u, V v⟩ = ⟨V u, v⟩` to round-off, on a cell with a 1e5 contrast
    /// and a closed pore.
    #[test]
    fn v_cycle_is_symmetric_and_reduces_the_error() {
        let n = [32, 32, 1];
        let len = 32 * 32;
        let mut diag = vec![1e-3; len];
        let mut g = vec![vec![0.0; len]; 2];
        let mut active = vec![true; len];
        for i in 0..len {
            let (x, y) = (i % 32, i / 32);
            let fast = (x / 8 + y / 8) % 2 == 0;
            for a in 0..2 {
                g[a][i] = if fast { 1e5 } else { 1.0 };
            }
            if (12..16).contains(&x) && (12..16).contains(&y) {
                active[i] = false;
                diag[i] = 0.0;
            }
        }
        for i in 0..len {
            for a in 0..2 {
                let j = neighbour(n, i, a, true);
                if !active[i] || !active[j] {
                    g[a][i] = 0.0;
                }
            }
        }
        let mut mg = Multigrid::new(n, 2);
        assert!(mg.depth() >= 2);
        mg.setup(&diag, &g, &active);
        // Two fixed pseudo-random fields on the active voxels.
        let field = |prime: usize, m: usize| -> Vec<f64> {
            (0..len)
                .map(|i| {
                    if active[i] {
                        ((i * prime) % m) as f64 - (m / 2) as f64
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let (u, v) = (field(7919, 13), field(104729, 11));
        let (mut vu, mut vv) = (vec![0.0; len], vec![0.0; len]);
        mg.apply(&u, &mut vu);
        mg.apply(&v, &mut vv);
        let a: f64 = u.iter().zip(&vv).map(|(p, q)| p * q).sum();
        let b: f64 = vu.iter().zip(&v).map(|(p, q)| p * q).sum();
        assert!((a - b).abs() <= 1e-10 * a.abs().max(b.abs()), "{a} vs {b}");
        assert!(u.iter().zip(&vu).map(|(p, q)| p * q).sum::<f64>() > 0.0);
    }
}
