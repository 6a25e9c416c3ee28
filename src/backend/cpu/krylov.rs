//! Preconditioned MINRES (Paige & Saunders 1975) for symmetric, possibly indefinite systems
//! with a symmetric positive-definite preconditioner: the Newton systems of the
//! convex-splitting step, whose Jacobian is a saddle point (model.md §8). The operator and the
//! preconditioner are arguments, so the same solver serves every such system.

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solved {
    pub iterations: usize,
    /// The preconditioned residual norm over the right-hand side's.
    pub relative_residual: f64,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The scalars of a MINRES solve: the Lanczos coefficients, the Givens rotation and the
/// coefficients of this iteration's update (Paige & Saunders' names). Twin of `MinresState` in
/// shaders/minres.wgsl, where one invocation keeps it on the device.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MinresState {
    pub tolerance: f64,
    pub beta1: f64,
    pub beta: f64,
    pub oldb: f64,
    pub alpha: f64,
    pub dbar: f64,
    pub epsln: f64,
    pub oldeps: f64,
    pub delta: f64,
    pub phi: f64,
    pub phibar: f64,
    pub cs: f64,
    pub sn: f64,
    pub denom: f64,
    /// Iterations taken.
    pub iterations: u32,
    /// 0 running; 1 converged at this iteration (its update still applies); 2 finished.
    pub done: u32,
}

// The mirrors of minres.wgsl's entry points, in its binding order. The device's partial sums
// are rayon-free plain dots here (`dot`).

/// The solve's start: r2 = rhs, x = 0 and the update directions cleared.
pub fn minres_start(
    rhs: &[f64],
    r2: &mut [f64],
    x: &mut [f64],
    w: &mut [f64],
    w1: &mut [f64],
    w2: &mut [f64],
) {
    r2.copy_from_slice(rhs);
    for v in [x, w, w1, w2] {
        v.iter_mut().for_each(|e| *e = 0.0);
    }
}

/// β₁ from `dot` = ⟨r2, M⁻¹ r2⟩ and the recurrences' start; finished at once for a zero
/// right-hand side.
pub fn minres_begin(minres: &mut MinresState, dot: f64) {
    let beta1 = dot.max(0.0).sqrt();
    *minres = MinresState {
        tolerance: minres.tolerance,
        beta1,
        beta: beta1,
        phibar: beta1,
        cs: -1.0,
        done: if beta1 == 0.0 { 2 } else { 0 },
        ..MinresState::default()
    };
}

/// v = y/β: the next Lanczos vector.
pub fn minres_normalise(minres: &MinresState, y: &[f64], v: &mut [f64]) {
    if minres.done != 0 {
        return;
    }
    let s = 1.0 / minres.beta;
    for (vi, yi) in v.iter_mut().zip(y) {
        *vi = s * yi;
    }
}

/// y −= (β/β_old) r1, from the second iteration on.
pub fn minres_lanczos_previous(minres: &MinresState, r1: &[f64], y: &mut [f64]) {
    if minres.done != 0 || minres.iterations == 0 {
        return;
    }
    let f = minres.beta / minres.oldb;
    for (yi, ri) in y.iter_mut().zip(r1) {
        *yi -= f * ri;
    }
}

/// α = ⟨v, y⟩.
pub fn minres_alpha(minres: &mut MinresState, dot: f64) {
    if minres.done != 0 {
        return;
    }
    minres.alpha = dot;
}

/// y −= (α/β) r2: the new residual direction, which becomes r2.
pub fn minres_lanczos(minres: &MinresState, r2: &[f64], y: &mut [f64]) {
    if minres.done != 0 {
        return;
    }
    let f = minres.alpha / minres.beta;
    for (yi, ri) in y.iter_mut().zip(r2) {
        *yi -= f * ri;
    }
}

/// β from `dot` = ⟨r2, M⁻¹ r2⟩, then the Givens rotation and this iteration's update
/// coefficients; marks the solve converged once the preconditioned residual φ̄ falls to the
/// tolerance of β₁ (or the Krylov space is exhausted).
pub fn minres_rotate(minres: &mut MinresState, dot: f64) {
    let m = minres;
    if m.done != 0 {
        m.done = 2;
        return;
    }
    m.oldb = m.beta;
    m.beta = dot.max(0.0).sqrt();
    m.oldeps = m.epsln;
    m.delta = m.cs * m.dbar + m.sn * m.alpha;
    let gbar = m.sn * m.dbar - m.cs * m.alpha;
    m.epsln = m.sn * m.beta;
    m.dbar = -m.cs * m.beta;
    let gamma = (gbar * gbar + m.beta * m.beta).sqrt().max(f64::EPSILON);
    m.cs = gbar / gamma;
    m.sn = m.beta / gamma;
    m.phi = m.cs * m.phibar;
    m.phibar *= m.sn;
    m.denom = 1.0 / gamma;
    m.iterations += 1;
    if m.phibar <= m.tolerance * m.beta1 || m.beta == 0.0 {
        m.done = 1;
    }
}

/// w = (v − ε_old w1 − δ w2)/γ and x += φ w (the caller has rotated w1 ← w2 ← w first).
pub fn minres_update(
    minres: &MinresState,
    v: &[f64],
    w1: &[f64],
    w2: &[f64],
    w: &mut [f64],
    x: &mut [f64],
) {
    if minres.done == 2 {
        return;
    }
    for (((wi, xi), vi), (a, b)) in w.iter_mut().zip(x).zip(v).zip(w1.iter().zip(w2)) {
        *wi = (vi - minres.oldeps * a - minres.delta * b) * minres.denom;
        *xi += minres.phi * *wi;
    }
}

/// Solves `A x = b` from x = 0 until the preconditioned residual falls to `tolerance` of the
/// right-hand side's or `max_iterations` pass. `apply(v, out)` is `out = A v`,
/// `precondition(r, out)` is `out = M⁻¹ r`. The same sequence of entry points as the
/// device's `GpuMinres::solve`, with its rotations of r1, r2, y and of w1, w2, w.
pub fn minres(
    mut apply: impl FnMut(&[f64], &mut [f64]),
    mut precondition: impl FnMut(&[f64], &mut [f64]),
    b: &[f64],
    x: &mut [f64],
    tolerance: f64,
    max_iterations: usize,
) -> Solved {
    let n = b.len();
    let (mut r1, mut r2, mut y, mut v) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut w, mut w1, mut w2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut state = MinresState {
        tolerance,
        ..MinresState::default()
    };
    minres_start(b, &mut r2, x, &mut w, &mut w1, &mut w2);
    precondition(&r2, &mut y);
    minres_begin(&mut state, dot(&r2, &y));
    while state.done == 0 && (state.iterations as usize) < max_iterations {
        minres_normalise(&state, &y, &mut v);
        apply(&v, &mut y);
        minres_lanczos_previous(&state, &r1, &mut y);
        minres_alpha(&mut state, dot(&v, &y));
        minres_lanczos(&state, &r2, &mut y);
        // (r1, r2, y) ← (r2, y, r1): the old r1 is spent.
        std::mem::swap(&mut r1, &mut r2);
        std::mem::swap(&mut r2, &mut y);
        precondition(&r2, &mut y);
        minres_rotate(&mut state, dot(&r2, &y));
        // (w1, w2, w) ← (w2, w, w1).
        std::mem::swap(&mut w1, &mut w2);
        std::mem::swap(&mut w2, &mut w);
        minres_update(&state, &v, &w1, &w2, &mut w, x);
    }
    Solved {
        iterations: state.iterations as usize,
        relative_residual: if state.beta1 > 0.0 {
            state.phibar / state.beta1
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An indefinite saddle point `[[A, I], [I, −D]]` with a block-diagonal positive
    /// preconditioner is solved to the tolerance, and the answer satisfies the system.
    #[test]
    fn solves_a_saddle_point() {
        let m = 40;
        let a = |v: &[f64], out: &mut [f64]| {
            for i in 0..m {
                let l = if i > 0 { v[i - 1] } else { 0.0 };
                let r = if i + 1 < m { v[i + 1] } else { 0.0 };
                out[i] = 3.0 * v[i] - l - r + v[m + i];
                out[m + i] = v[i] - (2.0 + i as f64) * v[m + i];
            }
        };
        let b: Vec<f64> = (0..2 * m).map(|i| ((i * 31) % 7) as f64 - 3.0).collect();
        let mut x = vec![0.0; 2 * m];
        let diag: Vec<f64> = (0..2 * m)
            .map(|i| if i < m { 3.0 } else { 2.0 + (i - m) as f64 })
            .collect();
        let s = minres(
            a,
            |r, z| {
                for i in 0..2 * m {
                    z[i] = r[i] / diag[i];
                }
            },
            &b,
            &mut x,
            1e-12,
            500,
        );
        let mut ax = vec![0.0; 2 * m];
        a(&x, &mut ax);
        let err: f64 = ax
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-9, "residual {err} after {s:?}");
    }
}
