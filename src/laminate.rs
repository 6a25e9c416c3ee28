//! Composite voxels where solid meets electrolyte: a voxel that holds both is a laminate of its
//! solid part (volume fraction φ_s, the solid materials mixed among themselves) and its
//! electrolyte part, layered normal to n = ∇φ_e/|∇φ_e| (Kabel, Merkert & Schneider, Comput.
//! Methods Appl. Mech. Eng. 294 (2015) 168). The parts share the strain along the layers and the
//! traction across them:
//!
//! `ε_s = ε + φ_e sym(a⊗n)`, `ε_e = ε − φ_s sym(a⊗n)`, `σ_s(ε_s) n = σ_e(ε_e) n`,
//! `σ = φ_s σ_s + φ_e σ_e`,
//!
//! so the mean strain is ε, and the jump vector a makes the voxel's energy
//! `φ_s W_s(ε_s) + φ_e W_e(ε_e)` stationary. Each part keeps its own eigenstrain: a solid part
//! swells by its own B c, not diluted by the pore beside it, and it does not take the soft
//! electrolyte's strain across the layers. Backend-neutral pointwise physics, like `plasticity`.
//! Tensors in the elastic solver's Voigt order (xx yy zz yz xz xy), tensor shear components.

use crate::plasticity::{Tangent, Voigt};

pub type Vec3 = [f64; 3];
pub type Mat3 = [[f64; 3]; 3];

/// Voigt index → tensor indices (i, j).
const PAIRS: [(usize, usize); 6] = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];
/// Voigt index of tensor component (i, j).
const VOIGT: [[usize; 3]; 3] = [[0, 5, 4], [5, 1, 3], [4, 3, 2]];

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

/// Isotropic Hooke's law on tensor Voigt components.
#[inline]
pub fn hooke(lambda: f64, mu: f64, e: Voigt) -> Voigt {
    let tr = e[0] + e[1] + e[2];
    std::array::from_fn(|k| if k < 3 { lambda * tr } else { 0.0 } + 2.0 * mu * e[k])
}

/// How one voxel's solid and electrolyte are layered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layering {
    /// φ_s, the solid part's volume fraction, strictly between 0 and 1.
    pub solid: f64,
    /// The unit normal of the layers.
    pub normal: Vec3,
    /// The electrolyte part's Lamé constants (λ_e, μ_e).
    pub electrolyte: (f64, f64),
}

/// A voxel's strain split between its parts, at the balance of tractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// The jump vector a.
    pub jump: Vec3,
    /// The solid part's strain ε_s (its total strain; the law subtracts its eigenstrain).
    pub solid_strain: Voigt,
    pub solid_stress: Voigt,
    /// The electrolyte part's strain and stress.
    pub electrolyte_strain: Voigt,
    pub electrolyte_stress: Voigt,
    /// The voxel's stress φ_s σ_s + φ_e σ_e.
    pub stress: Voigt,
    /// The solid part's tangent at ε_s.
    pub solid_tangent: Tangent,
    /// `(φ_e K_s + φ_s K_e)⁻¹`, K the parts' acoustic tensors.
    pub compliance: Mat3,
}

impl Layering {
    fn electrolyte_stress(&self, e: Voigt) -> Voigt {
        hooke(self.electrolyte.0, self.electrolyte.1, e)
    }

    /// The parts' state at jump `a`.
    fn parts(&self, strain: Voigt, a: Vec3, solid: &impl Fn(Voigt) -> (Voigt, Tangent)) -> Parts {
        let (fs, fe, n) = (self.solid, 1.0 - self.solid, self.normal);
        let j = sym_outer(a, n);
        let solid_strain: Voigt = std::array::from_fn(|k| strain[k] + fe * j[k]);
        let electrolyte_strain: Voigt = std::array::from_fn(|k| strain[k] - fs * j[k]);
        let (solid_stress, tangent) = solid(solid_strain);
        let electrolyte_stress = self.electrolyte_stress(electrolyte_strain);
        let (ts, te) = (traction(solid_stress, n), traction(electrolyte_stress, n));
        Parts {
            jump: a,
            solid_strain,
            solid_stress,
            electrolyte_strain,
            electrolyte_stress,
            tangent,
            imbalance: std::array::from_fn(|i| ts[i] - te[i]),
            scale: size(ts) + size(te),
        }
    }

    /// `(φ_e K_s + φ_s K_e)⁻¹` for the solid part's tangent.
    fn compliance(&self, tangent: &Tangent) -> Mat3 {
        let (fs, fe, n) = (self.solid, 1.0 - self.solid, self.normal);
        let ks = acoustic(|v| tangent.apply(v), n);
        let ke = acoustic(|v| self.electrolyte_stress(v), n);
        inverse3(std::array::from_fn(|i| {
            std::array::from_fn(|k| fe * ks[i][k] + fs * ke[i][k])
        }))
    }

    /// Splits the voxel's `strain` between its parts: Newton on the traction balance in the
    /// jump vector from `guess`, the solid part's stress and tangent at its own strain from
    /// `solid` (its constitutive law: elastic, or a return mapping).
    pub fn split(
        &self,
        strain: Voigt,
        guess: Vec3,
        solid: impl Fn(Voigt) -> (Voigt, Tangent),
    ) -> Split {
        let mut now = self.parts(strain, guess, &solid);
        for _ in 0..MAX_ITERATIONS {
            if size(now.imbalance) <= 1e-13 * now.scale {
                break;
            }
            let da = mul3(&self.compliance(&now.tangent), now.imbalance);
            // The Newton step, halved while it does not lower the imbalance: where a flowing
            // solid part is a sliver (φ_s ≪ 1) its tangent leaves the balance nearly singular,
            // and the full step overshoots between elastic and plastic states.
            let mut step = 1.0;
            let mut next = None;
            for _ in 0..MAX_HALVINGS {
                let a = std::array::from_fn(|i| now.jump[i] - step * da[i]);
                let trial = self.parts(strain, a, &solid);
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
        let (fs, fe) = (self.solid, 1.0 - self.solid);
        Split {
            jump: now.jump,
            solid_strain: now.solid_strain,
            solid_stress: now.solid_stress,
            electrolyte_strain: now.electrolyte_strain,
            electrolyte_stress: now.electrolyte_stress,
            stress: std::array::from_fn(|k| {
                fs * now.solid_stress[k] + fe * now.electrolyte_stress[k]
            }),
            solid_tangent: now.tangent,
            compliance: self.compliance(&now.tangent),
        }
    }
}

/// The parts of a laminate voxel at one jump vector.
struct Parts {
    jump: Vec3,
    solid_strain: Voigt,
    solid_stress: Voigt,
    electrolyte_strain: Voigt,
    electrolyte_stress: Voigt,
    tangent: Tangent,
    /// `σ_s n − σ_e n`.
    imbalance: Vec3,
    /// `|σ_s n| + |σ_e n|`.
    scale: f64,
}

#[inline]
fn size(v: Vec3) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

impl Split {
    /// The voxel's consistent tangent on `d`: the linearised balance gives the jump's change
    /// `δa = (φ_e K_s + φ_s K_e)⁻¹ (C_e − C_s) : d n`, and the stress change is
    /// `φ_s C_s : (d + φ_e sym(δa⊗n)) + φ_e C_e : (d − φ_s sym(δa⊗n))`.
    pub fn apply(&self, layering: &Layering, d: Voigt) -> Voigt {
        let (fs, fe) = (layering.solid, 1.0 - layering.solid);
        let n = layering.normal;
        let ts = traction(self.solid_tangent.apply(d), n);
        let te = traction(layering.electrolyte_stress(d), n);
        let da = mul3(&self.compliance, std::array::from_fn(|i| te[i] - ts[i]));
        let j = sym_outer(da, n);
        let ds = self
            .solid_tangent
            .apply(std::array::from_fn(|k| d[k] + fe * j[k]));
        let de = layering.electrolyte_stress(std::array::from_fn(|k| d[k] - fs * j[k]));
        std::array::from_fn(|k| fs * ds[k] + fe * de[k])
    }
}

#[cfg(test)]
#[expect(
    clippy::needless_range_loop,
    reason = "Voigt components index several arrays in step"
)]
mod tests {
    use super::*;
    use crate::plasticity::{History, J2, contract};

    fn elastic(lambda: f64, mu: f64, eigen: Voigt) -> impl Fn(Voigt) -> (Voigt, Tangent) {
        move |e: Voigt| {
            let s = hooke(lambda, mu, std::array::from_fn(|k| e[k] - eigen[k]));
            let t = Tangent {
                bulk: lambda + 2.0 * mu / 3.0,
                shear2: 2.0 * mu,
                rank_one: 0.0,
                normal: [0.0; 6],
            };
            (s, t)
        }
    }

    fn unit(v: Vec3) -> Vec3 {
        let s = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.map(|x| x / s)
    }

    const STRAIN: Voigt = [0.013, -0.004, 0.007, 0.002, -0.003, 0.005];

    /// The split balances the tractions across the layers to round-off, keeps the mean strain,
    /// and lets the parts differ only by a jump across the layers (their difference is
    /// `sym(a⊗n)`: the strain along the layers is shared).
    #[test]
    fn tractions_balance_and_the_strain_along_the_layers_is_shared() {
        let layering = Layering {
            solid: 0.3,
            normal: unit([1.0, 2.0, -0.5]),
            electrolyte: (0.4, 0.3),
        };
        let eigen = [0.05, 0.05, 0.05, 0.0, 0.0, 0.0];
        let s = layering.split(STRAIN, [0.0; 3], elastic(60.0, 40.0, eigen));
        let n = layering.normal;
        let (ts, te) = (
            traction(s.solid_stress, n),
            traction(s.electrolyte_stress, n),
        );
        for i in 0..3 {
            assert!(
                (ts[i] - te[i]).abs() <= 1e-12 * ts[i].abs().max(1.0),
                "traction {i}"
            );
        }
        for k in 0..6 {
            let mean = 0.3 * s.solid_strain[k] + 0.7 * s.electrolyte_strain[k];
            assert!((mean - STRAIN[k]).abs() <= 1e-15, "mean strain {k}");
            let d = s.solid_strain[k] - s.electrolyte_strain[k];
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
            solid: fs,
            normal: [1.0, 0.0, 0.0],
            electrolyte: (le, me),
        };
        let (beta, e) = (0.02, 0.01);
        let eigen = [beta, beta, beta, 0.0, 0.0, 0.0];
        let s = layering.split(
            [e, 0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0; 3],
            elastic(ls, ms, eigen),
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
        close(s.solid_strain[0], (across + p) / m_s, "ε_s,xx");
        close(s.electrolyte_strain[0], across / m_e, "ε_e,xx");
        let along = fs * (ls * (s.solid_strain[0] - 3.0 * beta) - 2.0 * ms * beta)
            + (1.0 - fs) * le * s.electrolyte_strain[0];
        close(s.stress[1], along, "σ_yy");
        close(s.stress[2], along, "σ_zz");
        for k in 3..6 {
            assert!(s.stress[k].abs() <= 1e-14, "shear {k}");
        }
    }

    /// A solid part that swells freely beside a soft electrolyte: with the voxel's strain
    /// equal to the solid's eigenstrain along the layers and anything across, the solid part
    /// carries no stress at all (up to the electrolyte's stiffness), where Voigt mixing would
    /// strain it by the electrolyte's share.
    #[test]
    fn a_free_solid_part_carries_no_stress() {
        let layering = Layering {
            solid: 0.4,
            normal: [0.0, 1.0, 0.0],
            electrolyte: (0.0, 0.0),
        };
        let beta = 0.3;
        let eigen = [beta, beta, beta, 0.0, 0.0, 0.0];
        // Along x and z the solid's own swelling; across (y) the mean of its swelling and an
        // electrolyte left unstrained.
        let strain = [beta, 0.4 * beta, beta, 0.0, 0.0, 0.0];
        let s = layering.split(strain, [0.0; 3], elastic(60.0, 40.0, eigen));
        for k in 0..6 {
            assert!(
                s.solid_stress[k].abs() <= 1e-12,
                "σ_s{k} = {}",
                s.solid_stress[k]
            );
            assert!((s.solid_strain[k] - eigen[k]).abs() <= 1e-14, "ε_s{k}");
        }
    }

    /// The tangent is the derivative of the split's stress (central differences, 1e-6), with a
    /// solid part that flows (J2) and one that does not.
    #[test]
    fn tangent_is_consistent() {
        let layering = Layering {
            solid: 0.6,
            normal: unit([0.3, -1.0, 0.2]),
            electrolyte: (0.05, 0.04),
        };
        let j2 = J2 {
            bulk: 40.0,
            shear: 15.0,
            yield_stress: 0.05,
            hardening: 1.0,
        };
        let old = History::default();
        for flows in [false, true] {
            let law = move |e: Voigt| -> (Voigt, Tangent) {
                if flows {
                    let u = j2.return_map(e, &old);
                    (u.stress, u.tangent)
                } else {
                    elastic(j2.bulk - 2.0 * j2.shear / 3.0, j2.shear, [0.0; 6])(e)
                }
            };
            let s = layering.split(STRAIN, [0.0; 3], law);
            let h = 1e-7;
            for k in 0..6 {
                let mut d = [0.0; 6];
                d[k] = 1.0;
                let plus =
                    layering.split(std::array::from_fn(|j| STRAIN[j] + h * d[j]), s.jump, law);
                let minus =
                    layering.split(std::array::from_fn(|j| STRAIN[j] - h * d[j]), s.jump, law);
                let exact = s.apply(&layering, d);
                for j in 0..6 {
                    let numeric = (plus.stress[j] - minus.stress[j]) / (2.0 * h);
                    assert!(
                        (numeric - exact[j]).abs() <= 1e-6 * j2.bulk,
                        "flows {flows}: dσ{j}/dε{k} {numeric} against {}",
                        exact[j]
                    );
                }
            }
        }
    }

    /// The voxel's stress is the gradient of its energy `φ_s W_s + φ_e W_e` at the balance
    /// (central differences, 1e-8): the jump makes the energy stationary.
    #[test]
    fn the_stress_is_the_energy_gradient() {
        let layering = Layering {
            solid: 0.6,
            normal: unit([0.3, -1.0, 0.2]),
            electrolyte: (0.05, 0.04),
        };
        let energy = |e: Voigt| {
            let s = layering.split(e, [0.0; 3], elastic(25.0, 15.0, [0.0; 6]));
            0.5 * (0.6 * contract(s.solid_stress, s.solid_strain)
                + 0.4 * contract(s.electrolyte_stress, s.electrolyte_strain))
        };
        let s = layering.split(STRAIN, [0.0; 3], elastic(25.0, 15.0, [0.0; 6]));
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
