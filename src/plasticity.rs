//! J2 (von Mises) plasticity with linear isotropic hardening in small strain: the return mapping
//! of one voxel and its consistent tangent (Simo & Hughes, Computational Inelasticity, 1998,
//! box 3.2). Backend-neutral pointwise physics, like `free_energy`: the elastic solver calls it
//! per voxel.
//!
//! Tensors are in the elastic solver's Voigt order (xx yy zz yz xz xy) with tensor, not
//! engineering, shear components; the inner product `a : b` weights the shear components twice
//! (the Frobenius product). The elastic strain is `ε − ε* − ε_p`, the stress
//! `σ = K tr(ε_e) I + 2G dev(ε_e)`, the yield function `f = q − (σ_y + H α)` with
//! `q = sqrt(3/2 s : s)` the von Mises stress and α the equivalent plastic strain
//! (`α̇ = sqrt(2/3 ε̇_p : ε̇_p)`); the flow is associative, `ε̇_p = α̇ (3/2) s / q`, so it is
//! isochoric and bounded stresses stay at the yield surface.

/// Voigt components.
pub type Voigt = [f64; 6];

/// Voigt index → tensor indices (i, j).
pub const PAIRS: [(usize, usize); 6] = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];
/// Voigt index of tensor component (i, j).
pub const VOIGT: [[usize; 3]; 3] = [[0, 5, 4], [5, 1, 3], [4, 3, 2]];

/// `a : b`, the shear components counted twice.
#[inline]
pub fn contract(a: Voigt, b: Voigt) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + 2.0 * (a[3] * b[3] + a[4] * b[4] + a[5] * b[5])
}

/// The deviatoric part and the trace.
#[inline]
pub fn deviator(a: Voigt) -> (Voigt, f64) {
    let tr = a[0] + a[1] + a[2];
    let m = tr / 3.0;
    ([a[0] - m, a[1] - m, a[2] - m, a[3], a[4], a[5]], tr)
}

/// One material's J2 data at the voxel's present composition (model units of stress).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct J2 {
    /// Bulk modulus K = λ + 2G/3.
    pub bulk: f64,
    /// Shear modulus G.
    pub shear: f64,
    /// Initial yield stress σ_y (von Mises).
    pub yield_stress: f64,
    /// Linear isotropic hardening modulus H = dσ_y/dα (0: perfect plasticity).
    pub hardening: f64,
}

/// The history a voxel carries from step to step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct History {
    /// Plastic strain ε_p (deviatoric).
    pub plastic_strain: Voigt,
    /// Equivalent plastic strain α.
    pub equivalent: f64,
    /// Plastic work per unit volume, `Σ σ : Δε_p` over the committed steps: each step's
    /// `(σ_y + H α) Δα` at its end state (backward Euler), the dissipation `σ_y α` plus, with
    /// hardening, the energy the hardening stores (`½ H α²`) and its first-order excess.
    pub work: f64,
}

/// The consistent tangent `dσ/dε` of one return mapping:
/// `K 1⊗1 + 2G θ I_dev − 2G θ̄ n⊗n`, n the unit (Frobenius) direction of the trial deviator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tangent {
    pub bulk: f64,
    /// 2G θ.
    pub shear2: f64,
    /// 2G θ̄ (0 when the step stays elastic).
    pub rank_one: f64,
    pub normal: Voigt,
}

impl Tangent {
    /// The elastic tangent.
    pub fn elastic(m: &J2) -> Tangent {
        Tangent {
            bulk: m.bulk,
            shear2: 2.0 * m.shear,
            rank_one: 0.0,
            normal: [0.0; 6],
        }
    }

    /// `dσ = C_t : dε`.
    #[inline]
    pub fn apply(&self, d: Voigt) -> Voigt {
        let (dev, tr) = deviator(d);
        let along = self.rank_one * contract(self.normal, d);
        std::array::from_fn(|k| {
            let volumetric = if k < 3 { self.bulk * tr } else { 0.0 };
            volumetric + self.shear2 * dev[k] - along * self.normal[k]
        })
    }
}

/// What one return mapping gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Update {
    pub stress: Voigt,
    /// The history at the end of the step (commit it once the step converges).
    pub history: History,
    pub tangent: Tangent,
    /// Whether the step flowed.
    pub plastic: bool,
}

impl J2 {
    /// The stress of `strain` (total minus eigenstrain) from the history of the last converged
    /// step: the elastic trial, and if it lies outside the yield surface the radial return to
    /// it, `Δα = f_trial / (3G + H)`, closed form for linear hardening.
    pub fn return_map(&self, strain: Voigt, old: &History) -> Update {
        let elastic: Voigt = std::array::from_fn(|k| strain[k] - old.plastic_strain[k]);
        let (dev, tr) = deviator(elastic);
        let g2 = 2.0 * self.shear;
        let s_trial: Voigt = std::array::from_fn(|k| g2 * dev[k]);
        let norm = contract(s_trial, s_trial).sqrt();
        let q_trial = (1.5f64).sqrt() * norm;
        let f = q_trial - (self.yield_stress + self.hardening * old.equivalent);
        let pressure = self.bulk * tr;
        if f <= 0.0 || norm == 0.0 {
            let stress = std::array::from_fn(|k| s_trial[k] + if k < 3 { pressure } else { 0.0 });
            return Update {
                stress,
                history: *old,
                tangent: Tangent::elastic(self),
                plastic: false,
            };
        }
        let three_g = 3.0 * self.shear;
        let d_alpha = f / (three_g + self.hardening);
        let normal: Voigt = std::array::from_fn(|k| s_trial[k] / norm);
        // ε_p grows along n by Δα sqrt(3/2); s shrinks by 2G times that.
        let along = (1.5f64).sqrt() * d_alpha;
        let theta = 1.0 - three_g * d_alpha / q_trial;
        let theta_bar = three_g / (three_g + self.hardening) - (1.0 - theta);
        let stress =
            std::array::from_fn(|k| theta * s_trial[k] + if k < 3 { pressure } else { 0.0 });
        let equivalent = old.equivalent + d_alpha;
        Update {
            stress,
            history: History {
                plastic_strain: std::array::from_fn(|k| old.plastic_strain[k] + along * normal[k]),
                equivalent,
                // σ : Δε_p = q Δα on the yield surface, q = σ_y + H α at the end of the step.
                work: old.work + (self.yield_stress + self.hardening * equivalent) * d_alpha,
            },
            tangent: Tangent {
                bulk: self.bulk,
                shear2: g2 * theta,
                rank_one: g2 * theta_bar,
                normal,
            },
            plastic: true,
        }
    }
}

/// The von Mises stress `sqrt(3/2 s : s)`.
#[inline]
pub fn von_mises(stress: Voigt) -> f64 {
    let (s, _) = deviator(stress);
    (1.5 * contract(s, s)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sn-like in GPa: E 50, ν 0.36, σ_y 0.15.
    fn material(hardening: f64) -> J2 {
        let (e, nu) = (50.0, 0.36);
        J2 {
            bulk: e / (3.0 * (1.0 - 2.0 * nu)),
            shear: e / (2.0 * (1.0 + nu)),
            yield_stress: 0.15,
            hardening,
        }
    }

    fn close(a: f64, b: f64, what: &str) {
        assert!(
            (a - b).abs() <= 1e-10 * b.abs().max(1e-3),
            "{what}: {a} vs {b}"
        );
    }

    /// The closed form of a monotone path `ε = e D` whose deviator has von Mises strain
    /// measure `q_trial = 2G |e| r` (r = 1 for both paths here): elastic up to `2G |e| = σ_y`,
    /// then `α = (2G|e| − σ_y)/(3G + H)`, `q = σ_y + H α`, the deviator along the path's own
    /// direction scaled to q, and the pressure elastic (the flow is isochoric).
    fn expected(m: &J2, direction: Voigt, e: f64) -> (Voigt, f64) {
        let (dev, tr) = deviator(direction);
        let unit = contract(dev, dev).sqrt();
        let q_trial = (1.5f64).sqrt() * 2.0 * m.shear * unit * e.abs();
        let alpha = ((q_trial - m.yield_stress) / (3.0 * m.shear + m.hardening)).max(0.0);
        let q = if alpha > 0.0 {
            m.yield_stress + m.hardening * alpha
        } else {
            q_trial
        };
        let scale = q / ((1.5f64).sqrt() * unit) * e.signum();
        let stress =
            std::array::from_fn(|k| scale * dev[k] + if k < 3 { m.bulk * tr * e } else { 0.0 });
        (stress, alpha)
    }

    /// Uniaxial strain (`diag(e, 0, 0)`) and equal-biaxial strain (`diag(e, e, 0)`), loaded in
    /// 200 increments to 10 times the yield strain, with perfect plasticity and with hardening:
    /// every increment's stress and equivalent plastic strain match the closed form to 1e-10,
    /// the trace of ε_p stays 0 and the von Mises stress equals σ_y + H α once flowing.
    #[test]
    fn monotone_paths_match_the_closed_form() {
        for hardening in [0.0, 2.0] {
            let m = material(hardening);
            let yield_strain = m.yield_stress / (2.0 * m.shear);
            for direction in [
                [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                [1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            ] {
                let mut h = History::default();
                for step in 1..=200 {
                    let e = 10.0 * yield_strain * step as f64 / 200.0;
                    let strain = direction.map(|d| d * e);
                    let u = m.return_map(strain, &h);
                    h = u.history;
                    let (stress, alpha) = expected(&m, direction, e);
                    for (k, (got, want)) in u.stress.iter().zip(stress).enumerate() {
                        close(*got, want, &format!("H {hardening} e {e} σ{k}"));
                    }
                    close(h.equivalent, alpha, "α");
                    if hardening == 0.0 {
                        close(h.work, m.yield_stress * alpha, "plastic work σ_y α");
                    }
                    let p = h.plastic_strain;
                    assert!((p[0] + p[1] + p[2]).abs() <= 1e-15, "tr ε_p");
                    if u.plastic {
                        close(von_mises(u.stress), m.yield_stress + hardening * alpha, "q");
                    }
                }
            }
        }
    }

    /// Equal-biaxial strain loaded past yield, then reversed: the unloading is elastic over a
    /// swing of the von Mises stress of 2 (σ_y + H α) (isotropic hardening), and reverse flow
    /// starts exactly there.
    #[test]
    fn reversal_swings_twice_the_yield_stress_elastically() {
        for hardening in [0.0, 2.0] {
            let m = material(hardening);
            let direction = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
            let yield_strain = m.yield_stress / (2.0 * m.shear);
            let peak = 4.0 * yield_strain;
            let mut h = History::default();
            let mut e = 0.0;
            while e < peak {
                e = (e + yield_strain / 50.0).min(peak);
                h = m.return_map(direction.map(|d| d * e), &h).history;
            }
            let top = m.return_map(direction.map(|d| d * peak), &h).stress;
            let radius = m.yield_stress + hardening * h.equivalent;
            // The elastic swing in strain: Δq = 2G |Δe| for this path.
            let swing = 2.0 * radius / (2.0 * m.shear);
            let inside = m.return_map(direction.map(|d| d * (peak - 0.999 * swing)), &h);
            assert!(!inside.plastic, "reverse flow before the full swing");
            let shift: Voigt = std::array::from_fn(|k| inside.stress[k] - top[k]);
            close(von_mises(shift), 0.999 * 2.0 * radius, "elastic swing");
            let past = m.return_map(direction.map(|d| d * (peak - 1.001 * swing)), &h);
            assert!(past.plastic, "no reverse flow past the swing");
        }
    }

    /// One plastic step's work `(σ_y + H α) Δα` is `σ : Δε_p` of its end stress and plastic
    /// increment, computed directly (1e-12 of it), in a general direction with hardening.
    #[test]
    fn work_is_the_stress_on_the_plastic_increment() {
        let m = material(2.0);
        let yield_strain = m.yield_stress / (2.0 * m.shear);
        let old = History {
            plastic_strain: [1e-3, -4e-4, -6e-4, 2e-4, 0.0, -1e-4],
            equivalent: 2e-3,
            work: 7e-4,
        };
        let strain: Voigt = [4.0, -1.5, 0.5, 2.0, -1.0, 0.3].map(|e| e * yield_strain);
        let u = m.return_map(strain, &old);
        assert!(u.plastic);
        let increment: Voigt =
            std::array::from_fn(|k| u.history.plastic_strain[k] - old.plastic_strain[k]);
        let direct = contract(u.stress, increment);
        let work = u.history.work - old.work;
        assert!(
            (work - direct).abs() <= 1e-12 * direct,
            "work {work} against σ : Δε_p {direct}"
        );
    }

    /// The tangent is the derivative of the return mapping (central differences, relative
    /// 1e-6) in a plastic state with hardening, in every direction including shear.
    #[test]
    fn tangent_is_consistent() {
        let m = material(2.0);
        let yield_strain = m.yield_stress / (2.0 * m.shear);
        let old = History {
            plastic_strain: [1e-3, -4e-4, -6e-4, 2e-4, 0.0, -1e-4],
            equivalent: 2e-3,
            work: 0.0,
        };
        let strain: Voigt = [
            5.0 * yield_strain,
            -yield_strain,
            0.5 * yield_strain,
            2.0 * yield_strain,
            -yield_strain,
            0.3 * yield_strain,
        ];
        let u = m.return_map(strain, &old);
        assert!(u.plastic);
        let h = 1e-7 * yield_strain;
        for k in 0..6 {
            let mut d = [0.0; 6];
            d[k] = 1.0;
            let plus = m.return_map(std::array::from_fn(|j| strain[j] + h * d[j]), &old);
            let minus = m.return_map(std::array::from_fn(|j| strain[j] - h * d[j]), &old);
            let exact = u.tangent.apply(d);
            for (j, want) in exact.iter().enumerate() {
                let numeric = (plus.stress[j] - minus.stress[j]) / (2.0 * h);
                assert!(
                    (numeric - want).abs() <= 1e-6 * m.bulk,
                    "dσ{j}/dε{k}: {numeric} vs {want}"
                );
            }
        }
    }
}
