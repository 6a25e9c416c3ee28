//! Composite voxels: a voxel that holds two parts of different laws is a laminate of them,
//! layered normal to n (Kabel, Merkert & Schneider, Comput. Methods Appl. Mech. Eng. 294 (2015)
//! 168). The parts share the strain along the layers and the traction across them:
//!
//! `ε₁ = ε + f₂ sym(a⊗n)`, `ε₂ = ε − f₁ sym(a⊗n)`, `σ₁(ε₁) n = σ₂(ε₂) n`, `σ = f₁ σ₁ + f₂ σ₂`,
//!
//! so the mean strain is ε, and the jump vector a makes the voxel's energy `f₁ W₁ + f₂ W₂`
//! stationary. Each part keeps its own eigenstrain: where solid meets electrolyte (the elastic
//! solver's use, n = ∇φ_e/|∇φ_e|) the solid part swells by its own B c, not diluted by the pore
//! beside it, and it does not take the soft electrolyte's strain across the layers. A part's
//! law may itself be a laminate's split (its tangent is a full [`Stiffness`]).
//! Backend-neutral pointwise physics, like `plasticity`. Tensors in the elastic solver's Voigt
//! order (xx yy zz yz xz xy), tensor shear components.

use crate::plasticity::{PAIRS, VOIGT, Voigt};

pub type Vec3 = [f64; 3];
pub type Mat3 = [[f64; 3]; 3];

/// Newton iterations of the traction balance before the last one is taken as it is (an elastic
/// solid part balances in one; a flowing one in a few, a flowing sliver in tens).
const MAX_ITERATIONS: usize = 100;
/// Halvings of a Newton step that does not lower the traction imbalance.
const MAX_HALVINGS: usize = 40;

/// `sym(a ⊗ n)`.
#[inline]
pub fn sym_outer(a: Vec3, n: Vec3) -> Voigt {
    std::array::from_fn(|k| {
        let (i, j) = PAIRS[k];
        0.5 * (a[i] * n[j] + a[j] * n[i])
    })
}

/// The traction `σ n`.
#[inline]
pub fn traction(s: Voigt, n: Vec3) -> Vec3 {
    std::array::from_fn(|i| (0..3).map(|j| s[VOIGT[i][j]] * n[j]).sum())
}

/// The acoustic tensor `K_ij = n_k C_ikjl n_l` of the stiffness `apply` (dσ = C : dε), column
/// by column: `K e_j = (C : sym(e_j ⊗ n)) n`.
pub fn acoustic(apply: impl Fn(Voigt) -> Voigt, n: Vec3) -> Mat3 {
    let mut k = [[0.0; 3]; 3];
    for j in 0..3 {
        let mut e = [0.0; 3];
        e[j] = 1.0;
        let col = traction(apply(sym_outer(e, n)), n);
        for i in 0..3 {
            k[i][j] = col[i];
        }
    }
    k
}

/// The inverse of a 3×3 matrix (adjugate over determinant).
pub fn inverse3(m: Mat3) -> Mat3 {
    let c = |i: usize, j: usize| {
        let (i1, i2) = ((i + 1) % 3, (i + 2) % 3);
        let (j1, j2) = ((j + 1) % 3, (j + 2) % 3);
        m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    std::array::from_fn(|i| std::array::from_fn(|j| c(j, i) / det))
}

#[inline]
fn mul3(m: &Mat3, v: Vec3) -> Vec3 {
    std::array::from_fn(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

/// A tangent stiffness as a matrix on tensor Voigt components, `dσ_k = Σ_j S[k][j] dε_j`.
pub type Stiffness = [[f64; 6]; 6];

/// The matrix of the linear map `apply` (column j: the stress of the unit strain component j).
pub fn stiffness(apply: impl Fn(Voigt) -> Voigt) -> Stiffness {
    let mut s = [[0.0; 6]; 6];
    for j in 0..6 {
        let mut e = [0.0; 6];
        e[j] = 1.0;
        let col = apply(e);
        for (k, row) in s.iter_mut().enumerate() {
            row[j] = col[k];
        }
    }
    s
}

/// `S d`.
#[inline]
pub fn apply(s: &Stiffness, d: Voigt) -> Voigt {
    std::array::from_fn(|k| (0..6).map(|j| s[k][j] * d[j]).sum())
}

/// A part's constitutive law: its stress and tangent at its own total strain.
pub trait Law: Fn(Voigt) -> (Voigt, Stiffness) {}
impl<F: Fn(Voigt) -> (Voigt, Stiffness)> Law for F {}

/// How one voxel's two parts are layered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layering {
    /// f₁, the first part's volume fraction, strictly between 0 and 1 (f₂ = 1 − f₁).
    pub first: f64,
    /// The unit normal of the layers.
    pub normal: Vec3,
}

/// One part of a split voxel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    /// Its total strain (its law subtracts its own eigenstrain).
    pub strain: Voigt,
    pub stress: Voigt,
}

/// A voxel's strain split between its parts, at the balance of tractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// The jump vector a: `ε₁ = ε + f₂ sym(a⊗n)`, `ε₂ = ε − f₁ sym(a⊗n)`.
    pub jump: Vec3,
    pub first: Part,
    pub second: Part,
    /// The voxel's stress f₁ σ₁ + f₂ σ₂.
    pub stress: Voigt,
    /// The voxel's consistent tangent: the linearised balance gives the jump's change
    /// `δa = (f₂ K₁ + f₁ K₂)⁻¹ (C₂ − C₁) : d n` (K the parts' acoustic tensors), and the
    /// stress change is `f₁ C₁ : (d + f₂ sym(δa⊗n)) + f₂ C₂ : (d − f₁ sym(δa⊗n))`.
    pub tangent: Stiffness,
}

/// The parts of a voxel at one jump vector, and their tangents.
struct Parts {
    jump: Vec3,
    first: Part,
    second: Part,
    tangents: (Stiffness, Stiffness),
    /// `σ₁ n − σ₂ n`.
    imbalance: Vec3,
    /// `|σ₁ n| + |σ₂ n|`.
    scale: f64,
}

impl Layering {
    /// The parts' state at jump `a`.
    fn parts(&self, strain: Voigt, a: Vec3, first: &impl Law, second: &impl Law) -> Parts {
        let (f1, f2, n) = (self.first, 1.0 - self.first, self.normal);
        let j = sym_outer(a, n);
        let e1: Voigt = std::array::from_fn(|k| strain[k] + f2 * j[k]);
        let e2: Voigt = std::array::from_fn(|k| strain[k] - f1 * j[k]);
        let ((s1, c1), (s2, c2)) = (first(e1), second(e2));
        let (t1, t2) = (traction(s1, n), traction(s2, n));
        Parts {
            jump: a,
            first: Part {
                strain: e1,
                stress: s1,
            },
            second: Part {
                strain: e2,
                stress: s2,
            },
            tangents: (c1, c2),
            imbalance: std::array::from_fn(|i| t1[i] - t2[i]),
            scale: size(t1) + size(t2),
        }
    }

    /// `(f₂ K₁ + f₁ K₂)⁻¹` for the parts' tangents.
    fn compliance(&self, tangents: &(Stiffness, Stiffness)) -> Mat3 {
        let (f1, f2, n) = (self.first, 1.0 - self.first, self.normal);
        let k1 = acoustic(|v| apply(&tangents.0, v), n);
        let k2 = acoustic(|v| apply(&tangents.1, v), n);
        inverse3(std::array::from_fn(|i| {
            std::array::from_fn(|k| f2 * k1[i][k] + f1 * k2[i][k])
        }))
    }

    /// Splits the voxel's `strain` between its parts: Newton on the traction balance in the
    /// jump vector from `guess`, each part's stress and tangent at its own strain from its law
    /// (elastic, a return mapping, or an inner laminate's split).
    pub fn split(&self, strain: Voigt, guess: Vec3, first: impl Law, second: impl Law) -> Split {
        let mut now = self.parts(strain, guess, &first, &second);
        for _ in 0..MAX_ITERATIONS {
            if size(now.imbalance) <= 1e-13 * now.scale {
                break;
            }
            let da = mul3(&self.compliance(&now.tangents), now.imbalance);
            // The Newton step, halved while it does not lower the imbalance: where a flowing
            // part is a sliver (f ≪ 1) its tangent leaves the balance nearly singular, and the
            // full step overshoots between elastic and plastic states.
            let mut step = 1.0;
            let mut next = None;
            for _ in 0..MAX_HALVINGS {
                let a = std::array::from_fn(|i| now.jump[i] - step * da[i]);
                let trial = self.parts(strain, a, &first, &second);
                if size(trial.imbalance) < size(now.imbalance) {
                    next = Some(trial);
                    break;
                }
                step *= 0.5;
            }
            // No step lowers it: the imbalance is at the round-off of the parts' stresses.
            let Some(next) = next else { break };
            now = next;
        }
        let (f1, f2, n) = (self.first, 1.0 - self.first, self.normal);
        let compliance = self.compliance(&now.tangents);
        let (c1, c2) = now.tangents;
        let tangent = stiffness(|d| {
            let t1 = traction(apply(&c1, d), n);
            let t2 = traction(apply(&c2, d), n);
            let da = mul3(&compliance, std::array::from_fn(|i| t2[i] - t1[i]));
            let j = sym_outer(da, n);
            let d1 = apply(&c1, std::array::from_fn(|k| d[k] + f2 * j[k]));
            let d2 = apply(&c2, std::array::from_fn(|k| d[k] - f1 * j[k]));
            std::array::from_fn(|k| f1 * d1[k] + f2 * d2[k])
        });
        Split {
            jump: now.jump,
            first: now.first,
            second: now.second,
            stress: std::array::from_fn(|k| f1 * now.first.stress[k] + f2 * now.second.stress[k]),
            tangent,
        }
    }
}

#[inline]
fn size(v: Vec3) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
#[expect(
    clippy::needless_range_loop,
    reason = "Voigt components index several arrays in step"
)]
mod tests {
    use super::*;
    use crate::backend::cpu::elasticity::hooke;
    use crate::plasticity::{History, J2, contract};

    fn elastic(lambda: f64, mu: f64, eigen: Voigt) -> impl Fn(Voigt) -> (Voigt, Stiffness) + Copy {
        move |e: Voigt| {
            let s = hooke(lambda, mu, std::array::from_fn(|k| e[k] - eigen[k]));
            (s, stiffness(|v| hooke(lambda, mu, v)))
        }
    }

    fn unit(v: Vec3) -> Vec3 {
        let s = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.map(|x| x / s)
    }

    const STRAIN: Voigt = [0.013, -0.004, 0.007, 0.002, -0.003, 0.005];

    /// The split's tangent against central differences of its stress at [`STRAIN`] (steps of
    /// 1e-7, each component within `tolerance`).
    fn assert_tangent(split: impl Fn(Voigt, Vec3) -> Split, tolerance: f64, what: &str) {
        let s = split(STRAIN, [0.0; 3]);
        let h = 1e-7;
        for k in 0..6 {
            let mut d = [0.0; 6];
            d[k] = 1.0;
            let plus = split(std::array::from_fn(|j| STRAIN[j] + h * d[j]), s.jump);
            let minus = split(std::array::from_fn(|j| STRAIN[j] - h * d[j]), s.jump);
            let exact = apply(&s.tangent, d);
            for j in 0..6 {
                let numeric = (plus.stress[j] - minus.stress[j]) / (2.0 * h);
                assert!(
                    (numeric - exact[j]).abs() <= tolerance,
                    "{what}: dσ{j}/dε{k} {numeric} against {}",
                    exact[j]
                );
            }
        }
    }

    /// The split balances the tractions across the layers to round-off, keeps the mean strain,
    /// and lets the parts differ only by a jump across the layers (their difference is
    /// `sym(a⊗n)`: the strain along the layers is shared).
    #[test]
    fn tractions_balance_and_the_strain_along_the_layers_is_shared() {
        let layering = Layering {
            first: 0.3,
            normal: unit([1.0, 2.0, -0.5]),
        };
        let electrolyte = elastic(0.4, 0.3, [0.0; 6]);
        let eigen = [0.05, 0.05, 0.05, 0.0, 0.0, 0.0];
        let s = layering.split(STRAIN, [0.0; 3], elastic(60.0, 40.0, eigen), electrolyte);
        let n = layering.normal;
        let (ts, te) = (traction(s.first.stress, n), traction(s.second.stress, n));
        for i in 0..3 {
            assert!(
                (ts[i] - te[i]).abs() <= 1e-12 * ts[i].abs().max(1.0),
                "traction {i}"
            );
        }
        for k in 0..6 {
            let mean = 0.3 * s.first.strain[k] + 0.7 * s.second.strain[k];
            assert!((mean - STRAIN[k]).abs() <= 1e-15, "mean strain {k}");
            let d = s.first.strain[k] - s.second.strain[k];
            assert!(
                (d - sym_outer(s.jump, n)[k]).abs() <= 1e-15,
                "rank-one jump {k}"
            );
        }
    }

    /// A flat bilayer (normal x) under the uniaxial strain `diag(e, 0, 0)`, the solid part
    /// swelling by β: across the layers springs in series, `σ_xx = M_s ε_s − p = M_e ε_e` with
    /// `φ_s ε_s + φ_e ε_e = e` (M = λ + 2μ, p = (3λ_s + 2μ_s) β), so
    /// `σ_xx = (e − φ_s p/M_s) / (φ_s/M_s + φ_e/M_e)`; along them each part's own σ_yy averaged
    /// by volume.
    #[test]
    fn a_flat_bilayer_is_springs_in_series_across_and_in_parallel_along() {
        let (ls, ms, le, me, fs) = (60.0, 40.0, 0.4, 0.3, 0.3);
        let layering = Layering {
            first: fs,
            normal: [1.0, 0.0, 0.0],
        };
        let electrolyte = elastic(le, me, [0.0; 6]);
        let (beta, e) = (0.02, 0.01);
        let eigen = [beta, beta, beta, 0.0, 0.0, 0.0];
        let s = layering.split(
            [e, 0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0; 3],
            elastic(ls, ms, eigen),
            electrolyte,
        );
        let (m_s, m_e) = (ls + 2.0 * ms, le + 2.0 * me);
        let p = (3.0 * ls + 2.0 * ms) * beta;
        let across = (e - fs * p / m_s) / (fs / m_s + (1.0 - fs) / m_e);
        let close = |got: f64, want: f64, what: &str| {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "{what}: {got} against {want}"
            );
        };
        close(s.stress[0], across, "σ_xx");
        close(s.first.strain[0], (across + p) / m_s, "ε_s,xx");
        close(s.second.strain[0], across / m_e, "ε_e,xx");
        let along = fs * (ls * (s.first.strain[0] - 3.0 * beta) - 2.0 * ms * beta)
            + (1.0 - fs) * le * s.second.strain[0];
        close(s.stress[1], along, "σ_yy");
        close(s.stress[2], along, "σ_zz");
        for k in 3..6 {
            assert!(s.stress[k].abs() <= 1e-14, "shear {k}");
        }
    }

    /// Two solids across the layers (normal x), each swelling by its own eigenstrain, under
    /// `diag(e, 0, 0)`: springs in series, `σ_xx = (e − f₁ p₁/M₁ − f₂ p₂/M₂) / (f₁/M₁ + f₂/M₂)`
    /// with M = λ + 2μ and p = (3λ + 2μ) β.
    #[test]
    fn two_swelling_solids_are_springs_in_series() {
        let f1 = 0.35;
        let layering = Layering {
            first: f1,
            normal: [1.0, 0.0, 0.0],
        };
        let ((l1, m1, b1), (l2, m2, b2)) = ((60.0, 40.0, 0.3), (20.0, 15.0, 0.002));
        let e = 0.05;
        let s = layering.split(
            [e, 0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0; 3],
            elastic(l1, m1, [b1, b1, b1, 0.0, 0.0, 0.0]),
            elastic(l2, m2, [b2, b2, b2, 0.0, 0.0, 0.0]),
        );
        let (mm1, mm2) = (l1 + 2.0 * m1, l2 + 2.0 * m2);
        let (p1, p2) = ((3.0 * l1 + 2.0 * m1) * b1, (3.0 * l2 + 2.0 * m2) * b2);
        let f2 = 1.0 - f1;
        let across = (e - f1 * p1 / mm1 - f2 * p2 / mm2) / (f1 / mm1 + f2 / mm2);
        assert!(
            (s.stress[0] - across).abs() <= 1e-12 * across.abs(),
            "σ_xx {} against {across}",
            s.stress[0]
        );
        assert!((s.first.stress[0] - s.second.stress[0]).abs() <= 1e-12 * across.abs());
    }

    /// A laminate whose first part is itself a laminate (three parts in one voxel, as where two
    /// solids meet a pore): the tractions balance at both levels, and the outer tangent is the
    /// derivative of the outer stress (central differences, 1e-6).
    #[test]
    fn a_laminate_of_a_laminate_is_consistent() {
        let inner = Layering {
            first: 0.4,
            normal: unit([1.0, 1.0, 0.0]),
        };
        let outer = Layering {
            first: 0.7,
            normal: unit([0.0, 1.0, 0.3]),
        };
        let a = elastic(60.0, 40.0, [0.1, 0.1, 0.1, 0.0, 0.0, 0.0]);
        let b = elastic(20.0, 15.0, [0.0; 6]);
        let pore = elastic(0.02, 0.015, [0.0; 6]);
        let solid = |e: Voigt| {
            let s = inner.split(e, [0.0; 3], a, b);
            (s.stress, s.tangent)
        };
        let s = outer.split(STRAIN, [0.0; 3], solid, pore);
        let t1 = traction(s.first.stress, outer.normal);
        let t2 = traction(s.second.stress, outer.normal);
        for i in 0..3 {
            assert!(
                (t1[i] - t2[i]).abs() <= 1e-12 * t1[i].abs().max(1e-3),
                "outer traction {i}"
            );
        }
        let in_solid = inner.split(s.first.strain, [0.0; 3], a, b);
        let (u1, u2) = (
            traction(in_solid.first.stress, inner.normal),
            traction(in_solid.second.stress, inner.normal),
        );
        for i in 0..3 {
            assert!(
                (u1[i] - u2[i]).abs() <= 1e-12 * u1[i].abs().max(1e-3),
                "inner traction {i}"
            );
        }
        assert_tangent(
            |e, guess| outer.split(e, guess, solid, pore),
            1e-6 * 60.0,
            "nested",
        );
    }

    /// A solid part that swells freely beside a soft electrolyte: with the voxel's strain
    /// equal to the solid's eigenstrain along the layers and anything across, the solid part
    /// carries no stress at all (up to the electrolyte's stiffness), where Voigt mixing would
    /// strain it by the electrolyte's share.
    #[test]
    fn a_free_solid_part_carries_no_stress() {
        let layering = Layering {
            first: 0.4,
            normal: [0.0, 1.0, 0.0],
        };
        let electrolyte = elastic(0.0, 0.0, [0.0; 6]);
        let beta = 0.3;
        let eigen = [beta, beta, beta, 0.0, 0.0, 0.0];
        // Along x and z the solid's own swelling; across (y) the mean of its swelling and an
        // electrolyte left unstrained.
        let strain = [beta, 0.4 * beta, beta, 0.0, 0.0, 0.0];
        let s = layering.split(strain, [0.0; 3], elastic(60.0, 40.0, eigen), electrolyte);
        for k in 0..6 {
            assert!(
                s.first.stress[k].abs() <= 1e-12,
                "σ_s{k} = {}",
                s.first.stress[k]
            );
            assert!((s.first.strain[k] - eigen[k]).abs() <= 1e-14, "ε_s{k}");
        }
    }

    /// The tangent is the derivative of the split's stress (central differences, 1e-6), with a
    /// solid part that flows (J2) and one that does not.
    #[test]
    fn tangent_is_consistent() {
        let layering = Layering {
            first: 0.6,
            normal: unit([0.3, -1.0, 0.2]),
        };
        let electrolyte = elastic(0.05, 0.04, [0.0; 6]);
        let j2 = J2 {
            bulk: 40.0,
            shear: 15.0,
            yield_stress: 0.05,
            hardening: 1.0,
        };
        let old = History::default();
        for flows in [false, true] {
            let law = move |e: Voigt| -> (Voigt, Stiffness) {
                if flows {
                    let u = j2.return_map(e, &old);
                    (u.stress, stiffness(|v| u.tangent.apply(v)))
                } else {
                    elastic(j2.bulk - 2.0 * j2.shear / 3.0, j2.shear, [0.0; 6])(e)
                }
            };
            assert_tangent(
                |e, guess| layering.split(e, guess, law, electrolyte),
                1e-6 * j2.bulk,
                if flows { "flowing" } else { "elastic" },
            );
        }
    }

    /// The voxel's stress is the gradient of its energy `φ_s W_s + φ_e W_e` at the balance
    /// (central differences, 1e-8): the jump makes the energy stationary.
    #[test]
    fn the_stress_is_the_energy_gradient() {
        let layering = Layering {
            first: 0.6,
            normal: unit([0.3, -1.0, 0.2]),
        };
        let electrolyte = elastic(0.05, 0.04, [0.0; 6]);
        let energy = |e: Voigt| {
            let s = layering.split(e, [0.0; 3], elastic(25.0, 15.0, [0.0; 6]), electrolyte);
            0.5 * (0.6 * contract(s.first.stress, s.first.strain)
                + 0.4 * contract(s.second.stress, s.second.strain))
        };
        let s = layering.split(STRAIN, [0.0; 3], elastic(25.0, 15.0, [0.0; 6]), electrolyte);
        for k in 0..6 {
            let mut d = [0.0; 6];
            d[k] = 1e-6;
            let plus = energy(std::array::from_fn(|j| STRAIN[j] + d[j]));
            let minus = energy(std::array::from_fn(|j| STRAIN[j] - d[j]));
            let numeric = (plus - minus) / 2e-6;
            let exact = contract(s.stress, d) / 1e-6;
            assert!(
                (numeric - exact).abs() <= 1e-8,
                "dW/dε{k}: {numeric} against {exact}"
            );
        }
    }
}
