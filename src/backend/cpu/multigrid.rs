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
//! copies the parent. The coarsest level (at most [`DIRECT`] voxels) is solved by a
//! dense Cholesky factorisation.

use crate::finite_volume::{Coarsening, Conductances, DIRECT, Row, coarsening, neighbour};

/// Smoothing sweeps (each a red and a black half) before and after the coarse correction.
const SWEEPS: usize = 1;
/// Symmetric Gauss–Seidel sweeps on a coarsest level too large to factor (odd grids).
const COARSE_SWEEPS: usize = 40;

// The mirrors of multigrid.wgsl's entry points, in its binding order. `level` and `dim` are
// the uniform `Level`; conductances are axis-major, `g[a·len + i]` joining i to its upward
// neighbour along a.

/// The next coarser level's coefficients, gathered per coarse voxel from its children in the
/// order the fine voxels are numbered: the diagonal summed, each coarse face the sum of the
/// fine faces crossing it, halved along a coarsened axis (the centres' distance doubles).
#[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
pub fn coarsen(
    level: &Coarsening,
    dim: usize,
    diag: &[f64],
    g: &[f64],
    mask: &[bool],
    coarse_diag: &mut [f64],
    coarse_g: &mut [f64],
    coarse_mask: &mut [bool],
) {
    let (len, n, f, q) = (level.len(), level.n, level.factor, level.coarse());
    let clen = q[0] * q[1] * q[2];
    // A child's upward face along a leaves its parent exactly when the child is the parent's
    // last along a and the coarse level has more than one voxel along a (else the periodic
    // neighbour is the parent itself).
    let leaves = |a: usize, d: usize| d + 1 == f[a] && q[a] > 1;
    for p in 0..clen {
        let pc = [p % q[0], (p / q[0]) % q[1], p / (q[0] * q[1])];
        let (mut d, mut on, mut sums) = (0.0, false, [0.0; 3]);
        for dz in 0..f[2] {
            for dy in 0..f[1] {
                for dx in 0..f[0] {
                    let c = [pc[0] * f[0] + dx, pc[1] * f[1] + dy, pc[2] * f[2] + dz];
                    let i = c[0] + n[0] * (c[1] + n[1] * c[2]);
                    d += diag[i];
                    on |= mask[i];
                    for (a, d) in [dx, dy, dz].into_iter().enumerate().take(dim) {
                        if leaves(a, d) {
                            sums[a] += g[a * len + i] / f[a] as f64;
                        }
                    }
                }
            }
        }
        coarse_diag[p] = d;
        coarse_mask[p] = on;
        for a in 0..dim {
            coarse_g[a * clen + p] = sums[a];
        }
    }
}

/// The Gauss–Seidel divisors `1/(diag_i + Σ g around i)`, 0 off the active voxels (mask 1) or where that
/// sum is 0.
pub fn invert(
    level: &Coarsening,
    dim: usize,
    diag: &[f64],
    g: &[f64],
    mask: &[bool],
    inverse: &mut [f64],
) {
    let (len, n) = (level.len(), level.n);
    for i in 0..len {
        let mut d = diag[i];
        for a in 0..dim {
            d += g[a * len + i] + g[a * len + neighbour(n, i, a, false)];
        }
        inverse[i] = if mask[i] && d > 0.0 { 1.0 / d } else { 0.0 };
    }
}

/// One Gauss–Seidel update of every voxel of one colour ((x + y + z) mod 2), in index order or
/// its reverse (`forward`). On a level whose axes are all even the colour's voxels do not touch,
/// so the order does not matter and the GPU updates them at once; the CPU also runs odd axes,
/// where the reverse order makes the post-smoothing the pre-smoothing's adjoint.
#[expect(
    clippy::too_many_arguments,
    reason = "the entry point's bindings, colour and order"
)]
fn relax_colour(
    level: &Coarsening,
    dim: usize,
    g: &[f64],
    inverse: &[f64],
    b: &[f64],
    x: &mut [f64],
    colour: usize,
    forward: bool,
) {
    let [nx, ny, nz] = level.n;
    let rows = ny * nz;
    let axes = Conductances::of_level(level, dim, g);
    for r in 0..rows {
        let r = if forward { r } else { rows - 1 - r };
        let (y, z) = (r % ny, r / ny);
        let row = Row::new(level.n, y, z);
        let first = (y + z + colour) % 2;
        let count = (nx - first.min(nx)).div_ceil(2);
        for k in 0..count {
            let k = if forward { k } else { count - 1 - k };
            let xi = first + 2 * k;
            let i = row.base + xi;
            x[i] = (b[i] + axes.pull(&row, xi, x)) * inverse[i];
        }
    }
}

/// [`relax_colour`] on the red voxels.
pub fn relax_red(
    level: &Coarsening,
    dim: usize,
    g: &[f64],
    inverse: &[f64],
    b: &[f64],
    x: &mut [f64],
    forward: bool,
) {
    relax_colour(level, dim, g, inverse, b, x, 0, forward);
}

/// [`relax_colour`] on the black voxels.
pub fn relax_black(
    level: &Coarsening,
    dim: usize,
    g: &[f64],
    inverse: &[f64],
    b: &[f64],
    x: &mut [f64],
    forward: bool,
) {
    relax_colour(level, dim, g, inverse, b, x, 1, forward);
}

/// x = 0.
pub fn clear(x: &mut [f64]) {
    x.iter_mut().for_each(|v| *v = 0.0);
}

/// r = b − B x on the active voxels (mask 1), 0 elsewhere.
#[expect(clippy::too_many_arguments, reason = "the entry point's bindings")]
pub fn residual(
    level: &Coarsening,
    dim: usize,
    diag: &[f64],
    g: &[f64],
    mask: &[bool],
    b: &[f64],
    x: &[f64],
    r: &mut [f64],
) {
    let [nx, ny, nz] = level.n;
    let axes = Conductances::of_level(level, dim, g);
    for z in 0..nz {
        for y in 0..ny {
            let row = Row::new(level.n, y, z);
            for xi in 0..nx {
                let i = row.base + xi;
                r[i] = if mask[i] {
                    b[i] - diag[i] * x[i] - axes.push(&row, xi, x)
                } else {
                    0.0
                };
            }
        }
    }
}

/// The coarse right-hand side: each coarse voxel the sum of its children's residuals.
pub fn restrict_residual(level: &Coarsening, r: &[f64], coarse_b: &mut [f64]) {
    let (n, f, q) = (level.n, level.factor, level.coarse());
    // Each coarse row sums its children row by row, each parent's children in the order
    // (dz, dy, dx) as the device's kernel does.
    for pz in 0..q[2] {
        for py in 0..q[1] {
            let out = &mut coarse_b[q[0] * (py + q[1] * pz)..][..q[0]];
            out.iter_mut().for_each(|v| *v = 0.0);
            for dz in 0..f[2] {
                for dy in 0..f[1] {
                    let (y, z) = (py * f[1] + dy, pz * f[2] + dz);
                    let row = &r[n[0] * (y + n[1] * z)..][..n[0]];
                    if f[0] == 2 {
                        for (o, pair) in out.iter_mut().zip(row.chunks_exact(2)) {
                            *o += pair[0];
                            *o += pair[1];
                        }
                    } else {
                        for (o, v) in out.iter_mut().zip(row) {
                            *o += v;
                        }
                    }
                }
            }
        }
    }
}

/// The coarse correction copied to the children, on the active voxels (mask 1).
pub fn prolong(level: &Coarsening, mask: &[bool], coarse_x: &[f64], x: &mut [f64]) {
    let (n, f, q) = (level.n, level.factor, level.coarse());
    // f is 1 or 2 along each axis: the parent's coordinate is a shift, not a division.
    let shift = f.map(|v| (v == 2) as u32);
    for z in 0..n[2] {
        for y in 0..n[1] {
            let parent_row = q[0] * ((y >> shift[1]) + q[1] * (z >> shift[2]));
            let base = n[0] * (y + n[1] * z);
            let (mask, x) = (&mask[base..base + n[0]], &mut x[base..base + n[0]]);
            for (xi, (v, &on)) in x.iter_mut().zip(mask).enumerate() {
                if on {
                    *v += coarse_x[parent_row + (xi >> shift[0])];
                }
            }
        }
    }
}

/// The coarsest level's matrix, dense with an identity row for each inactive voxel, factored
/// into its lower Cholesky factor (row-major, len²). A pivot that is not positive (a component
/// without a diagonal, which the step's blocks never have) takes the row's own diagonal, so the
/// factor stays positive definite.
pub fn coarse_factor(
    level: &Coarsening,
    dim: usize,
    diag: &[f64],
    g: &[f64],
    mask: &[bool],
    factor: &mut [f64],
) {
    let m = level.len();
    factor[..m * m].iter_mut().for_each(|v| *v = 0.0);
    for k in 0..m {
        if !mask[k] {
            factor[k * m + k] = 1.0;
            continue;
        }
        factor[k * m + k] += diag[k];
        for a in 0..dim {
            let j = neighbour(level.n, k, a, true);
            let w = g[a * m + k];
            if w == 0.0 || !mask[j] || j == k {
                continue;
            }
            factor[k * m + k] += w;
            factor[j * m + j] += w;
            factor[k * m + j] -= w;
            factor[j * m + k] -= w;
        }
    }
    for j in 0..m {
        let own = factor[j * m + j];
        let mut d = own;
        for k in 0..j {
            d -= factor[j * m + k] * factor[j * m + k];
        }
        if d.is_nan() || d <= 0.0 {
            d = own;
        }
        let d = d.sqrt();
        factor[j * m + j] = d;
        for i in j + 1..m {
            let mut s = factor[i * m + j];
            for k in 0..j {
                s -= factor[i * m + k] * factor[j * m + k];
            }
            factor[i * m + j] = s / d;
        }
    }
}

/// x = (L Lᵀ)⁻¹ b on the coarsest level, 0 on the inactive voxels.
pub fn coarse_solve(level: &Coarsening, mask: &[bool], factor: &[f64], b: &[f64], x: &mut [f64]) {
    let m = level.len();
    let y = &mut x[..m];
    y.copy_from_slice(&b[..m]);
    for k in 0..m {
        y[k] /= factor[k * m + k];
        for t in k + 1..m {
            y[t] -= factor[t * m + k] * y[k];
        }
    }
    for k in (0..m).rev() {
        y[k] /= factor[k * m + k];
        for t in 0..k {
            y[t] -= factor[k * m + t] * y[k];
        }
    }
    for (v, &on) in y.iter_mut().zip(mask) {
        if !on {
            *v = 0.0;
        }
    }
}

/// One level: its shape, coefficients and workspace.
struct Level {
    shape: Coarsening,
    diag: Vec<f64>,
    g: Vec<f64>,
    mask: Vec<bool>,
    inverse: Vec<f64>,
    x: Vec<f64>,
    b: Vec<f64>,
    r: Vec<f64>,
}

impl Level {
    fn new(shape: Coarsening, dim: usize) -> Level {
        let len = shape.len();
        Level {
            shape,
            diag: vec![0.0; len],
            g: vec![0.0; dim * len],
            mask: vec![false; len],
            inverse: vec![0.0; len],
            x: vec![0.0; len],
            b: vec![0.0; len],
            r: vec![0.0; len],
        }
    }

    /// Red then black (`forward`), or black then red in reverse order: each the other's adjoint.
    fn smooth(&mut self, dim: usize, forward: bool) {
        let (s, g, inv, b) = (&self.shape, &self.g, &self.inverse, &self.b);
        if forward {
            relax_red(s, dim, g, inv, b, &mut self.x, true);
            relax_black(s, dim, g, inv, b, &mut self.x, true);
        } else {
            relax_black(s, dim, g, inv, b, &mut self.x, false);
            relax_red(s, dim, g, inv, b, &mut self.x, false);
        }
    }
}

/// The hierarchy for one grid; [`Multigrid::setup`] fills its coefficients.
pub struct Multigrid {
    dim: usize,
    levels: Vec<Level>,
    /// The coarsest level's Cholesky factor, where it has at most [`DIRECT`] voxels.
    factor: Option<Vec<f64>>,
}

impl Multigrid {
    /// Levels for grid `n` of dimension `dim` ([`coarsening`]).
    pub fn new(n: [usize; 3], dim: usize) -> Multigrid {
        let levels: Vec<Level> = coarsening(n, dim)
            .into_iter()
            .map(|shape| Level::new(shape, dim))
            .collect();
        let coarsest = levels.last().expect("one level").shape.len();
        Multigrid {
            dim,
            factor: (coarsest <= DIRECT).then(|| vec![0.0; coarsest * coarsest]),
            levels,
        }
    }

    /// Number of levels.
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// Sets the finest level's coefficients (`diag`, conductances `g[a][i]` of face (a, i),
    /// `mask`: the active voxels; inactive ones must have d = 0 and no conductance) and builds the
    /// coarser levels and the coarsest factor.
    pub fn setup(&mut self, diag: &[f64], g: &[Vec<f64>], mask: &[bool]) {
        let dim = self.dim;
        let fine = &mut self.levels[0];
        let len = fine.shape.len();
        fine.diag.copy_from_slice(diag);
        for (a, ga) in g.iter().enumerate().take(dim) {
            fine.g[a * len..(a + 1) * len].copy_from_slice(ga);
        }
        fine.mask.copy_from_slice(mask);
        for l in 1..self.levels.len() {
            let (head, tail) = self.levels.split_at_mut(l);
            let (f, c) = (&head[l - 1], &mut tail[0]);
            coarsen(
                &f.shape,
                dim,
                &f.diag,
                &f.g,
                &f.mask,
                &mut c.diag,
                &mut c.g,
                &mut c.mask,
            );
        }
        for level in self.levels.iter_mut() {
            invert(
                &level.shape,
                dim,
                &level.diag,
                &level.g,
                &level.mask,
                &mut level.inverse,
            );
        }
        let coarsest = self.levels.last().expect("one level");
        if let Some(factor) = &mut self.factor {
            coarse_factor(
                &coarsest.shape,
                dim,
                &coarsest.diag,
                &coarsest.g,
                &coarsest.mask,
                factor,
            );
        }
    }

    /// z ← one V-cycle applied to r (z ≈ B⁻¹ r), from a zero guess.
    pub fn apply(&mut self, r: &[f64], z: &mut [f64]) {
        self.levels[0].b.copy_from_slice(r);
        self.cycle(0);
        z.copy_from_slice(&self.levels[0].x);
    }

    fn cycle(&mut self, l: usize) {
        let dim = self.dim;
        let last = self.levels.len() - 1;
        if l == last {
            let level = &mut self.levels[l];
            match &self.factor {
                Some(factor) => {
                    coarse_solve(&level.shape, &level.mask, factor, &level.b, &mut level.x)
                }
                None => {
                    clear(&mut level.x);
                    for _ in 0..COARSE_SWEEPS {
                        level.smooth(dim, true);
                        level.smooth(dim, false);
                    }
                }
            }
            return;
        }
        {
            let level = &mut self.levels[l];
            clear(&mut level.x);
            for _ in 0..SWEEPS {
                level.smooth(dim, true);
            }
            residual(
                &level.shape,
                dim,
                &level.diag,
                &level.g,
                &level.mask,
                &level.b,
                &level.x,
                &mut level.r,
            );
        }
        {
            let (head, tail) = self.levels.split_at_mut(l + 1);
            restrict_residual(&head[l].shape, &head[l].r, &mut tail[0].b);
        }
        self.cycle(l + 1);
        let (head, tail) = self.levels.split_at_mut(l + 1);
        let (f, c) = (&mut head[l], &tail[0]);
        prolong(&f.shape, &f.mask, &c.x, &mut f.x);
        for _ in 0..SWEEPS {
            f.smooth(dim, false);
        }
    }
}

#[cfg(test)]
#[expect(clippy::needless_range_loop, reason = "voxel and axis loops")]
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
        let mut mask = vec![true; len];
        for i in 0..len {
            let (x, y) = (i % 32, i / 32);
            let fast = (x / 8 + y / 8) % 2 == 0;
            for a in 0..2 {
                g[a][i] = if fast { 1e5 } else { 1.0 };
            }
            if (12..16).contains(&x) && (12..16).contains(&y) {
                mask[i] = false;
                diag[i] = 0.0;
            }
        }
        for i in 0..len {
            for a in 0..2 {
                let j = neighbour(n, i, a, true);
                if !mask[i] || !mask[j] {
                    g[a][i] = 0.0;
                }
            }
        }
        let mut mg = Multigrid::new(n, 2);
        assert!(mg.depth() >= 2);
        mg.setup(&diag, &g, &mask);
        // Two fixed pseudo-random fields on the active voxels (mask 1).
        let field = |prime: usize, m: usize| -> Vec<f64> {
            (0..len)
                .map(|i| {
                    if mask[i] {
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
