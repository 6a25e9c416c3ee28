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

/// Solves `A x = b` from x = 0 until the preconditioned residual falls to `tolerance` of the
/// right-hand side's or `max_iterations` pass. `apply(v, out)` is `out = A v`,
/// `precondition(r, out)` is `out = M⁻¹ r`.
pub fn minres(
    mut apply: impl FnMut(&[f64], &mut [f64]),
    mut precondition: impl FnMut(&[f64], &mut [f64]),
    b: &[f64],
    x: &mut [f64],
    tolerance: f64,
    max_iterations: usize,
) -> Solved {
    let n = b.len();
    x.iter_mut().for_each(|v| *v = 0.0);
    let mut r1 = b.to_vec();
    let mut y = vec![0.0; n];
    precondition(&r1, &mut y);
    let beta1 = dot(&r1, &y).max(0.0).sqrt();
    if beta1 == 0.0 {
        return Solved {
            iterations: 0,
            relative_residual: 0.0,
        };
    }
    let mut r2 = r1.clone();
    let (mut v, mut w, mut w1, mut w2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut beta, mut oldb, mut dbar, mut epsln, mut phibar) = (beta1, 0.0, 0.0, 0.0, beta1);
    let (mut cs, mut sn) = (-1.0_f64, 0.0_f64);
    for k in 1..=max_iterations {
        let s = 1.0 / beta;
        for (vi, yi) in v.iter_mut().zip(&y) {
            *vi = s * yi;
        }
        apply(&v, &mut y);
        if k >= 2 {
            let f = beta / oldb;
            for (yi, ri) in y.iter_mut().zip(&r1) {
                *yi -= f * ri;
            }
        }
        let alpha = dot(&v, &y);
        let f = alpha / beta;
        for (yi, ri) in y.iter_mut().zip(&r2) {
            *yi -= f * ri;
        }
        std::mem::swap(&mut r1, &mut r2);
        r2.copy_from_slice(&y);
        precondition(&r2, &mut y);
        oldb = beta;
        beta = dot(&r2, &y).max(0.0).sqrt();
        let oldeps = epsln;
        let delta = cs * dbar + sn * alpha;
        let gbar = sn * dbar - cs * alpha;
        epsln = sn * beta;
        dbar = -cs * beta;
        let gamma = (gbar * gbar + beta * beta).sqrt().max(f64::EPSILON);
        cs = gbar / gamma;
        sn = beta / gamma;
        let phi = cs * phibar;
        phibar *= sn;
        let denom = 1.0 / gamma;
        std::mem::swap(&mut w1, &mut w2);
        std::mem::swap(&mut w2, &mut w);
        for i in 0..n {
            w[i] = (v[i] - oldeps * w1[i] - delta * w2[i]) * denom;
            x[i] += phi * w[i];
        }
        if phibar <= tolerance * beta1 || beta == 0.0 {
            return Solved {
                iterations: k,
                relative_residual: phibar / beta1,
            };
        }
    }
    Solved {
        iterations: max_iterations,
        relative_residual: phibar / beta1,
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
