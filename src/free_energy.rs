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

    /// The split of g'(c) that the convex-splitting step takes (model.md §8, "Segments as
    /// sublattices"): `(μ_convex, dμ_convex/dc, μ_explicit)`, μ_convex implicit and
    /// increasing in c, μ_explicit taken at the old state. One segment: the ideal mixing, the
    /// reference potential and a convex (Ω < 0) interaction are implicit, a concave (Ω > 0)
    /// interaction explicit; g' is the sequential [`Self::mu`] unchanged. Several segments are
    /// sublattices in local equilibrium sharing one potential: the ideal part fills them as
    /// `c = Σ_j w_j σ(ν + u0_j)` (σ the logistic function), ν = μ_convex, and the
    /// interactions, evaluated on that distribution, are explicit. The double well has no
    /// convex part: everything explicit.
    pub fn convex_split(&self, c: f64) -> (f64, f64, f64) {
        match self {
            FreeEnergy::DoubleWell { .. } => (0.0, 0.0, self.mu(c)),
            FreeEnergy::RegularSolution { segments } if segments.len() == 1 => {
                let s = &segments[0];
                let w = s.c_max - s.c_min;
                let (a, b) = Self::sides(s, c);
                let y = (c - s.c_min) / w;
                let (concave, convex) = (s.omega.max(0.0), s.omega.min(0.0));
                (
                    -s.u0 + (a / b).ln() + convex * (1.0 - 2.0 * y),
                    (1.0 / (a * b) - 2.0 * convex) / w,
                    concave * (1.0 - 2.0 * y),
                )
            }
            FreeEnergy::RegularSolution { segments } => {
                let fill = Sublattices::at(segments, c);
                (fill.nu, 1.0 / fill.blocking, fill.interaction_mu)
            }
        }
    }

    /// The composition whose convex potential ([`Self::convex_split`]'s μ_convex) is ν, where
    /// that has a closed form: several segments fill as sublattices, `c = Σ_j w_j σ(ν + u0_j)`;
    /// one segment without a convex interaction, `c = c_min + w σ(ν + u0)`. `None` for a
    /// convex interaction (Ω < 0) and for the double well.
    pub fn convex_inverse(&self, nu: f64) -> Option<f64> {
        match self {
            FreeEnergy::RegularSolution { segments } if segments.len() > 1 => Some(
                segments
                    .iter()
                    .map(|s| (s.c_max - s.c_min) * logistic(nu + s.u0))
                    .sum(),
            ),
            FreeEnergy::RegularSolution { segments } if segments[0].omega >= 0.0 => {
                let s = &segments[0];
                Some(s.c_min + (s.c_max - s.c_min) * logistic(nu + s.u0))
            }
            _ => None,
        }
    }

    /// The energy per site that [`Self::convex_split`] differentiates: [`Self::f`] for one
    /// segment, the sublattices' `Σ_j w_j [−u0_j y_j + y_j ln y_j + (1−y_j) ln(1−y_j) +
    /// ω_j y_j (1−y_j)]` for several.
    pub fn sublattice_energy(&self, c: f64) -> f64 {
        match self {
            FreeEnergy::RegularSolution { segments } if segments.len() > 1 => {
                Sublattices::at(segments, c).energy
            }
            _ => self.f(c),
        }
    }

    /// The site-blocking mobility factor of the convex-splitting step: `Σ_j w_j y_j (1 − y_j)`
    /// over the sublattices (for one segment `w y (1 − y)`, [`Self::blocking`]). Its product
    /// with dμ_convex/dc is 1: the ideal part diffuses at D in every segment and across their
    /// junctions. 1 for the double well.
    pub fn sublattice_blocking(&self, c: f64) -> f64 {
        match self {
            FreeEnergy::RegularSolution { segments } if segments.len() > 1 => {
                Sublattices::at(segments, c).blocking
            }
            _ => self.blocking(c),
        }
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

/// Several segments as sublattices in local equilibrium at composition c: the ideal
/// distribution `y_j = σ(ν + u0_j)` with `Σ_j w_j y_j = c` (w_j the segment's share of the
/// sites), and what follows from it.
struct Sublattices {
    /// The common ideal potential ν (kT), the convex part of μ.
    nu: f64,
    /// `Σ_j w_j y_j (1 − y_j)` = dc/dν.
    blocking: f64,
    /// d/dc of the interactions `Σ_j w_j ω_j y_j (1 − y_j)` on this distribution.
    interaction_mu: f64,
    /// The energy per site.
    energy: f64,
}

impl Sublattices {
    /// Solves `Σ_j w_j σ(ν + u0_j) = c` for ν by Newton's method kept inside the bracket
    /// `[logit c − max u0, logit c − min u0]` (every σ is increasing, so the root lies there),
    /// bisecting whenever a Newton step leaves it. c is floored at [`LOG_FLOOR`] from either end.
    fn at(segments: &[Segment], c: f64) -> Self {
        let c = c.clamp(LOG_FLOOR, 1.0 - f64::EPSILON);
        let logit = (c / (1.0 - c)).ln();
        let (umin, umax) = segments
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
                (a.min(s.u0), b.max(s.u0))
            });
        let (mut lo, mut hi) = (logit - umax, logit - umin);
        // Residual relative to the smaller of c and 1 − c, so a nearly empty or full host
        // resolves its own few ions or vacancies.
        let scale = c.min(1.0 - c);
        let fill = |nu: f64| {
            segments.iter().fold((0.0, 0.0), |(sum, slope), s| {
                let w = s.c_max - s.c_min;
                let y = logistic(nu + s.u0);
                (sum + w * y, slope + w * y * (1.0 - y))
            })
        };
        let mut nu = 0.5 * (lo + hi);
        for _ in 0..200 {
            let (sum, slope) = fill(nu);
            let r = sum - c;
            if r.abs() <= 1e-14 * scale {
                break;
            }
            if r > 0.0 {
                hi = nu
            } else {
                lo = nu
            }
            let next = nu - r / slope;
            nu = if next > lo && next < hi && slope > 0.0 {
                next
            } else {
                0.5 * (lo + hi)
            };
            if hi - lo <= 1e-15 * (1.0 + nu.abs()) {
                break;
            }
        }
        let mut out = Sublattices {
            nu,
            blocking: 0.0,
            interaction_mu: 0.0,
            energy: 0.0,
        };
        let mut weighted = 0.0;
        for s in segments {
            let w = s.c_max - s.c_min;
            let (y, v) = (logistic(nu + s.u0), logistic(-(nu + s.u0)));
            let (a, b) = (y.max(LOG_FLOOR), v.max(LOG_FLOOR));
            out.blocking += w * y * v;
            weighted += w * s.omega * (v - y) * y * v;
            out.energy += w * (-s.u0 * y + a * a.ln() + b * b.ln() + s.omega * y * v);
        }
        out.blocking = out.blocking.max(f64::MIN_POSITIVE);
        out.interaction_mu = weighted / out.blocking;
        out
    }
}

/// The c in (0, 1) where an increasing potential `f(c) = (value, slope, …)` (a convex split's
/// first two parts) equals `target`: Newton's method in the logit of c from `c_start`, inside
/// a bracket it bisects whenever a step leaves it, so the root (unique: f increases) is found
/// from any start, to 1e-13 of the target or to the bracket's round-off. c is floored at
/// [`LOG_FLOOR`] from either end.
pub fn invert_increasing(f: impl Fn(f64) -> (f64, f64, f64), target: f64, c_start: f64) -> f64 {
    let logit = |c: f64| c.ln() - (-c).ln_1p();
    let bound = -LOG_FLOOR.ln();
    let (mut lo, mut hi) = (-bound, bound);
    let mut u = logit(c_start.clamp(LOG_FLOOR, 1.0 - f64::EPSILON)).clamp(lo, hi);
    for _ in 0..200 {
        let c = logistic(u);
        let (value, slope, _) = f(c);
        let r = value - target;
        if r.abs() <= 1e-13 * (1.0 + target.abs()) {
            break;
        }
        if r > 0.0 {
            hi = u;
        } else {
            lo = u;
        }
        let next = u - r / (slope * c * (1.0 - c));
        u = if next > lo && next < hi {
            next
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= 1e-15 * (1.0 + u.abs()) {
            break;
        }
    }
    logistic(u)
}

/// 1/(1 + e^(−x)) without overflow, exact in its small tail (e^x for x ≪ 0).
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
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

    fn p2() -> FreeEnergy {
        FreeEnergy::RegularSolution {
            segments: vec![
                Segment {
                    c_min: 0.0,
                    c_max: 0.35,
                    u0: 4.2 / 0.02568,
                    omega: 0.1 / 0.02568,
                },
                Segment {
                    c_min: 0.35,
                    c_max: 1.0,
                    u0: 3.3 / 0.02568,
                    omega: 0.0,
                },
            ],
        }
    }

    /// The convex split adds up to the sequential g' for one segment, and its convex part is
    /// increasing with the derivative it reports; for several segments μ_convex + μ_explicit is
    /// the derivative of the sublattice energy (central differences), and the convex part is
    /// increasing straight through the junction.
    #[test]
    fn convex_split_is_consistent() {
        for c in [1e-9, 0.02, 0.3, 0.5, 0.77, 0.999] {
            let (conv, d, expl) = sn().convex_split(c);
            assert!((conv + expl - sn().mu(c)).abs() < 1e-10, "{c}");
            let h = 1e-7 * c.min(1.0 - c);
            let slope = (sn().convex_split(c + h).0 - sn().convex_split(c - h).0) / (2.0 * h);
            assert!((slope - d).abs() < 1e-5 * d, "{c}: {slope} vs {d}");
        }
        let fe = p2();
        let mut last = f64::NEG_INFINITY;
        for k in 1..1000 {
            let c = k as f64 / 1000.0;
            let (conv, d, expl) = fe.convex_split(c);
            assert!(conv > last && d > 0.0, "{c}");
            last = conv;
            let h = 1e-6;
            let e = |c: f64| fe.sublattice_energy(c);
            let numeric = (e(c + h) - e(c - h)) / (2.0 * h);
            assert!(
                (numeric - conv - expl).abs() < 1e-5 * (1.0 + numeric.abs()),
                "{c}: {numeric} vs {}",
                conv + expl
            );
        }
    }

    /// The convex potential's inverse returns the composition it came from: in closed form for
    /// P2's sublattices (through the junction) and for Sn's single segment, and by the bracketed
    /// solve for a convex interaction (Ω < 0) from starts far off, to 1e-12 of c and of 1 − c
    /// beyond the ε to which c itself resolves 1 − c.
    #[test]
    fn convex_inverse_returns_the_composition() {
        let convex = FreeEnergy::RegularSolution {
            segments: vec![Segment {
                c_min: 0.0,
                c_max: 1.0,
                u0: 10.0,
                omega: -3.0,
            }],
        };
        assert!(convex.convex_inverse(0.0).is_none());
        let tolerance = |c: f64| 1e-12 * c.min(1.0 - c) + 2.0 * f64::EPSILON;
        let cs = [
            1e-20,
            1e-9,
            0.02,
            0.3,
            0.35 - 1e-9,
            0.35,
            0.35 + 2e-8,
            0.5,
            0.9,
            1.0 - 1e-9,
        ];
        for c in cs {
            for fe in [sn(), p2()] {
                let nu = fe.convex_split(c).0;
                let back = fe.convex_inverse(nu).unwrap();
                assert!((back - c).abs() <= tolerance(c), "{c}: {back}");
            }
            let nu = convex.convex_split(c).0;
            for start in [1e-25, 0.5, 1.0 - 1e-12] {
                let back = invert_increasing(|c| convex.convex_split(c), nu, start);
                assert!((back - c).abs() <= tolerance(c), "{c} from {start}: {back}");
            }
        }
    }

    /// P2's two segments, 0.9 V apart, fill in order as sublattices: away from the junction
    /// (c = 0.35) μ and the blocking factor are the sequential model's to 1e-9 kT and 1e-9, and
    /// so is the energy.
    #[test]
    fn sublattices_match_sequential_segments_away_from_the_junction() {
        let fe = p2();
        for c in [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 0.98] {
            let (conv, _, expl) = fe.convex_split(c);
            assert!(
                (conv + expl - fe.mu(c)).abs() < 1e-9,
                "{c}: {} vs {}",
                conv + expl,
                fe.mu(c)
            );
            assert!(
                (fe.sublattice_blocking(c) - fe.blocking(c)).abs() < 1e-9,
                "{c}"
            );
            assert!((fe.sublattice_energy(c) - fe.f(c)).abs() < 1e-9, "{c}");
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
