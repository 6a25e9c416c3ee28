//! The homogeneous free energy per site and its derivatives (model.md §3), in the problem's
//! energy unit (kT for regular solutions, the benchmark's unit for the double well).
//!
//! Also the flat-interface integrals that turn an interface width into κ and report the
//! interface energy (materials.md §5). The evaluation here is shared by both CPU kernels and
//! diagnostics; the GPU will mirror `mu` and `f` in `free_energy.wgsl`.

/// y and 1 − y are floored here before taking logarithms (the step may overshoot a segment's
/// end). ln(1e-30) = −69 kT (1.8 V at 300 K): μ must be able to fall below every other
/// host's plateau as a host empties, or a galvanostatic drive keeps extracting from it at the
/// clamped μ and drives c negative. The former 1e-9 (−20.7 kT, 0.53 V) was less than the
/// 0.9 V between P2's two segments and O3's plateau, and the 0.8 V between Si and its shell.
pub const LOG_FLOOR: f64 = 1e-30;

/// One regular-solution plateau over `c_min..c_max`, energies in kT.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub c_min: f64,
    pub c_max: f64,
    /// e U0 / kT.
    pub u0: f64,
    /// Ω / kT.
    pub omega: f64,
}

/// A free energy per site.
#[derive(Debug, Clone, PartialEq)]
pub enum FreeEnergy {
    /// `rho (c - a)^2 (b - c)^2` (PFHub benchmark 1).
    DoubleWell { rho: f64, a: f64, b: f64 },
    /// model.md §3, one or more segments, in kT. Within segment j, with `y = (c - c_min)/w`:
    /// `g = G_j + w [-u0 y + y ln y + (1-y) ln(1-y) + omega y (1-y)]`, `G_j` the energy of the
    /// filled segments below, so g is continuous; `mu = -u0 + ln(y/(1-y)) + omega (1 - 2y)`.
    RegularSolution { segments: Vec<Segment> },
}

impl FreeEnergy {
    /// Segment holding `c` (the first or last one outside [0, 1]) and its local `y`, unclamped.
    fn locate(segments: &[Segment], c: f64) -> (usize, f64) {
        let j = segments
            .iter()
            .position(|s| c < s.c_max)
            .unwrap_or(segments.len() - 1);
        let s = &segments[j];
        (j, (c - s.c_min) / (s.c_max - s.c_min))
    }

    /// (y, 1 − y) of c in segment s, each floored at [`LOG_FLOOR`] on its own and computed
    /// from its own end, so 1 − y is exact near a full segment (1 − 1e-30 is 1 in f64).
    fn sides(s: &Segment, c: f64) -> (f64, f64) {
        let w = s.c_max - s.c_min;
        (
            ((c - s.c_min) / w).clamp(LOG_FLOOR, 1.0),
            ((s.c_max - c) / w).clamp(LOG_FLOOR, 1.0),
        )
    }

    /// f(c) per site.
    pub fn f(&self, c: f64) -> f64 {
        match self {
            FreeEnergy::DoubleWell { rho, a, b } => rho * (c - a).powi(2) * (b - c).powi(2),
            FreeEnergy::RegularSolution { segments } => {
                let (j, y) = Self::locate(segments, c);
                let below: f64 = segments[..j]
                    .iter()
                    .map(|s| -(s.c_max - s.c_min) * s.u0)
                    .sum();
                let s = &segments[j];
                let (a, b) = Self::sides(s, c);
                let entropy = a * a.ln() + b * b.ln();
                below + (s.c_max - s.c_min) * (-s.u0 * y + entropy + s.omega * y * (1.0 - y))
            }
        }
    }

    /// f'(c): the homogeneous part of the diffusion potential.
    pub fn mu(&self, c: f64) -> f64 {
        match self {
            FreeEnergy::DoubleWell { rho, a, b } => {
                2.0 * rho * (c - a) * (b - c) * (a + b - 2.0 * c)
            }
            FreeEnergy::RegularSolution { segments } => {
                let (j, y) = Self::locate(segments, c);
                let s = &segments[j];
                let (a, b) = Self::sides(s, c);
                -s.u0 + (a / b).ln() + s.omega * (1.0 - 2.0 * y)
            }
        }
    }

    /// The site-blocking mobility factor: `w y (1 − y)` in the segment holding c (`c (1 − c)`
    /// for one segment), never negative. Each segment is a lattice of its own sites filled in
    /// order (model.md §8), so an ion hops only within the partly filled one: its carriers and
    /// vacancies are `w y` and `1 − y`. The product with f'' is `1 − 2 Ω y (1 − y)`, bounded,
    /// where `c (1 − c) f''` grows without bound at a segment's ends. 1 for the double well.
    pub fn blocking(&self, c: f64) -> f64 {
        match self {
            FreeEnergy::DoubleWell { .. } => 1.0,
            FreeEnergy::RegularSolution { segments } => {
                let (j, y) = Self::locate(segments, c);
                let s = &segments[j];
                ((s.c_max - s.c_min) * y * (1.0 - y)).max(0.0)
            }
        }
    }

    /// The carriers `w y` and vacancies `1 − y` of the segment holding c, each ≥ 0, whose product
    /// is [`Self::blocking`]: an upwind face takes the donor's carriers and the receiver's
    /// vacancies. (1, 1) for the double well.
    pub fn carriers_vacancies(&self, c: f64) -> (f64, f64) {
        match self {
            FreeEnergy::DoubleWell { .. } => (1.0, 1.0),
            FreeEnergy::RegularSolution { segments } => {
                let (j, y) = Self::locate(segments, c);
                let s = &segments[j];
                (((s.c_max - s.c_min) * y).max(0.0), (1.0 - y).max(0.0))
            }
        }
    }

    /// f''(c), for the stabilisation constant and the stability estimate.
    pub fn d2(&self, c: f64) -> f64 {
        match self {
            FreeEnergy::DoubleWell { rho, a, b } => {
                2.0 * rho * ((a + b - 2.0 * c).powi(2) - 2.0 * (c - a) * (b - c))
            }
            FreeEnergy::RegularSolution { segments } => {
                let (j, _) = Self::locate(segments, c);
                let s = &segments[j];
                let w = s.c_max - s.c_min;
                let (a, b) = Self::sides(s, c);
                (1.0 / (a * b) - 2.0 * s.omega) / w
            }
        }
    }

    /// The range of c the field lives in at equilibrium: between the wells of the double well,
    /// between the binodals of a segment with a gap, c in [0.05, 0.95] of a solid solution.
    fn working_range(&self) -> Vec<(f64, f64)> {
        match self {
            FreeEnergy::DoubleWell { a, b, .. } => vec![(*a, *b)],
            FreeEnergy::RegularSolution { segments } => segments
                .iter()
                .map(|s| {
                    let y = if s.omega > 2.0 {
                        binodal(s.omega)
                    } else {
                        0.05
                    };
                    let w = s.c_max - s.c_min;
                    (s.c_min + w * y, s.c_max - w * y)
                })
                .collect(),
        }
    }

    /// Largest f'' over the working range (model.md §6): the explicit chemical term is stable
    /// at any dt when the implicit `S k²` has `S ≥ max f''/2` (linear analysis of the scheme:
    /// the amplification `(1 + dt m (S − f'') k²)/(1 + dt m (S k² + κ k⁴))` stays above −1).
    pub fn max_d2(&self) -> f64 {
        self.working_range()
            .into_iter()
            .flat_map(|(lo, hi)| (0..=200).map(move |i| lo + (hi - lo) * i as f64 / 200.0))
            .map(|c| self.d2(c))
            .fold(0.0, f64::max)
    }

    /// Flat two-phase interfaces this free energy supports: one per double well or per segment
    /// with a miscibility gap (omega > 2).
    pub fn interfaces(&self) -> Vec<FlatInterface> {
        match self {
            FreeEnergy::DoubleWell { rho, a, b } => {
                let half = (b - a) / 2.0;
                vec![FlatInterface {
                    c_alpha: *a,
                    c_beta: *b,
                    barrier: rho * half.powi(4),
                    energy_integral: integrate(*a, *b, |c| (2.0 * self.f(c)).sqrt()),
                }]
            }
            FreeEnergy::RegularSolution { segments } => segments
                .iter()
                .filter(|s| s.omega > 2.0)
                .map(|s| {
                    let w = s.c_max - s.c_min;
                    let yb = binodal(s.omega);
                    let h =
                        |y: f64| y * y.ln() + (1.0 - y) * (1.0 - y).ln() + s.omega * y * (1.0 - y);
                    let hb = h(yb);
                    // Per host site the segment's excess is w·(h - h_b) and ∇c = w ∇y.
                    let excess = |c: f64| w * (h((c - s.c_min) / w) - hb).max(0.0);
                    let c_alpha = s.c_min + w * yb;
                    let c_beta = s.c_max - w * yb;
                    FlatInterface {
                        c_alpha,
                        c_beta,
                        barrier: excess(s.c_min + 0.5 * w),
                        energy_integral: integrate(c_alpha, c_beta, |c| (2.0 * excess(c)).sqrt()),
                    }
                })
                .collect(),
        }
    }
}

/// A flat interface between two coexisting compositions, for the gradient coefficient κ
/// (per site): `max|∇c| = sqrt(2 barrier / κ)`, so the width `w = Δc / max|∇c|` is
/// `Δc sqrt(κ / (2 barrier))`, and the energy per site-area is `sqrt(κ) ∫ sqrt(2 Δf) dc`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatInterface {
    pub c_alpha: f64,
    pub c_beta: f64,
    /// Largest excess free energy above the common tangent, per site.
    pub barrier: f64,
    /// `∫ sqrt(2 Δf(c)) dc` between the coexisting compositions.
    pub energy_integral: f64,
}

impl FlatInterface {
    /// Width `Δc / max|∇c|` for a gradient coefficient κ (lengths as in κ).
    pub fn width(&self, kappa: f64) -> f64 {
        (self.c_beta - self.c_alpha) * (kappa / (2.0 * self.barrier)).sqrt()
    }

    /// κ that gives width `w`.
    pub fn kappa_for_width(&self, w: f64) -> f64 {
        2.0 * self.barrier * (w / (self.c_beta - self.c_alpha)).powi(2)
    }

    /// Interface energy per area for κ, in (energy unit per site) × length.
    pub fn energy(&self, kappa: f64) -> f64 {
        kappa.sqrt() * self.energy_integral
    }
}

/// The binodal of a symmetric regular solution: the y in (0, 1/2) with
/// `ln((1-y)/y) = omega (1 - 2y)`, for omega > 2.
pub fn binodal(omega: f64) -> f64 {
    let g = |y: f64| ((1.0 - y) / y).ln() - omega * (1.0 - 2.0 * y);
    // g > 0 near 0 and g < 0 just below 1/2 when omega > 2: bisect.
    let (mut lo, mut hi) = (1e-300_f64.max(f64::MIN_POSITIVE), 0.5 - 1e-12);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// Composite Simpson over [a, b] with 2000 panels: smooth integrands, far below any tolerance
/// these numbers feed.
fn integrate(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
    let n = 2000;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sn() -> FreeEnergy {
        FreeEnergy::RegularSolution {
            segments: vec![Segment {
                c_min: 0.0,
                c_max: 1.0,
                u0: 0.30 / 0.02568,
                omega: 0.10 / 0.02568,
            }],
        }
    }

    /// mu is the derivative of f (central differences), for both kinds and across segments.
    #[test]
    fn mu_is_derivative_of_f() {
        let multi = FreeEnergy::RegularSolution {
            segments: vec![
                Segment {
                    c_min: 0.0,
                    c_max: 0.4,
                    u0: 20.0,
                    omega: 4.0,
                },
                Segment {
                    c_min: 0.4,
                    c_max: 1.0,
                    u0: 10.0,
                    omega: 1.0,
                },
            ],
        };
        let dw = FreeEnergy::DoubleWell {
            rho: 5.0,
            a: 0.3,
            b: 0.7,
        };
        for fe in [sn(), multi, dw] {
            for c in [0.05, 0.2, 0.33, 0.5, 0.61, 0.9] {
                let h = 1e-6;
                let num = (fe.f(c + h) - fe.f(c - h)) / (2.0 * h);
                assert!(
                    (num - fe.mu(c)).abs() < 1e-6 * (1.0 + num.abs()),
                    "{fe:?} c={c}: {num} vs {}",
                    fe.mu(c)
                );
                let num2 = (fe.mu(c + h) - fe.mu(c - h)) / (2.0 * h);
                assert!(
                    (num2 - fe.d2(c)).abs() < 1e-5 * (1.0 + num2.abs()),
                    "{fe:?} c={c}"
                );
            }
        }
    }

    /// materials.md §2.2: Omega/kT = 3.89 has its miscibility gap at c = 0.024..0.976, and §5:
    /// width w = 1.224 sqrt(kappa/(n N_A kT)).
    #[test]
    fn sn_gap_and_width_match_materials_md() {
        let yb = binodal(0.10 / 0.02568);
        assert!((yb - 0.024).abs() < 0.001, "{yb}");
        let i = &sn().interfaces()[0];
        let w = i.width(1.0);
        assert!((w - 1.224).abs() < 0.005, "{w}");
        assert!((i.kappa_for_width(w) - 1.0).abs() < 1e-12);
    }

    /// The double well's tanh profile: width 2 sqrt(2 kappa/rho)/(b-a) and energy
    /// sqrt(2 kappa rho) (b-a)^3 / 6.
    #[test]
    fn double_well_interface_closed_form() {
        let (rho, a, b, kappa) = (5.0, 0.3, 0.7, 2.0);
        let i = &FreeEnergy::DoubleWell { rho, a, b }.interfaces()[0];
        let xi = (2.0_f64 * kappa / rho).sqrt() / (b - a);
        assert!((i.width(kappa) - 2.0 * xi).abs() < 1e-12);
        let gamma = (2.0_f64 * kappa * rho).sqrt() * (b - a).powi(3) / 6.0;
        assert!(
            (i.energy(kappa) / gamma - 1.0).abs() < 1e-9,
            "{} vs {gamma}",
            i.energy(kappa)
        );
    }

    /// Plateaus: at a segment's middle the voltage -mu kT/e is that segment's U0 (Omega term 0).
    /// The blocking factor times f'' is the closed form 1 − 2Ω y(1 − y) in every segment, up
    /// to their ends: the chemical diffusivity stays bounded where c(1 − c) f'' would not.
    #[test]
    fn blocking_times_curvature_is_bounded() {
        let fe = FreeEnergy::RegularSolution {
            segments: vec![
                Segment {
                    c_min: 0.0,
                    c_max: 0.35,
                    u0: 163.0,
                    omega: 3.9,
                },
                Segment {
                    c_min: 0.35,
                    c_max: 1.0,
                    u0: 128.0,
                    omega: 0.0,
                },
            ],
        };
        for c in [1e-6, 0.1, 0.3499999, 0.3500001, 0.5, 0.9, 1.0 - 1e-7] {
            let s = if c < 0.35 {
                (0.0, 0.35, 3.9)
            } else {
                (0.35, 1.0, 0.0)
            };
            let y: f64 = (c - s.0) / (s.1 - s.0);
            let expected = 1.0 - 2.0 * s.2 * y * (1.0 - y);
            let got = fe.blocking(c) * fe.d2(c);
            assert!(
                (got - expected).abs() < 1e-6,
                "c = {c}: {got} against {expected}"
            );
        }
        // The former c(1 − c) f'' grows as 1/y at the junction.
        let c: f64 = 0.3500001;
        assert!(c * (1.0 - c) * fe.d2(c) > 1e5);
        assert_eq!(fe.blocking(-0.01), 0.0);
    }

    #[test]
    fn segment_middle_sits_on_its_plateau() {
        let fe = FreeEnergy::RegularSolution {
            segments: vec![
                Segment {
                    c_min: 0.0,
                    c_max: 0.267,
                    u0: 25.0,
                    omega: 4.0,
                },
                Segment {
                    c_min: 0.267,
                    c_max: 1.0,
                    u0: 8.0,
                    omega: 4.0,
                },
            ],
        };
        assert!((fe.mu(0.1335) + 25.0).abs() < 1e-9);
        assert!((fe.mu(0.6335) + 8.0).abs() < 1e-9);
    }
}
