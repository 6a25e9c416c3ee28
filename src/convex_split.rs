//! What both backends' convex-splitting steps share (model.md §8, "The convex-splitting step"):
//! Newton's tolerances and limits, and what a step reports. The CPU's step is
//! `backend::cpu::convex_split` (f64), the GPU's `backend::gpu::convex_split` (f32, the same
//! tolerances counted beyond f32's round-off).

/// Newton stops once every voxel's ion balance misses by at most this (units of c) ...
pub const TOLERANCE_C: f64 = 1e-10;
/// ... and every voxel's μ equation by at most this (kT, 2.6e-8 V at 300 K), the galvanostat's
/// too. The new c is then formed from the fluxes of that μ, so the ion count does not depend on
/// these tolerances.
pub const TOLERANCE_MU: f64 = 1e-6;
/// How many times the round-off of the flux terms the ion-balance test allows.
pub const ROUND_OFF_MARGIN: f64 = 64.0;
/// Newton iterations before the step is declared not converged (the caller halves it).
pub const MAX_NEWTON: usize = 40;
/// Sub-steps a step takes at most when Newton does not converge: the step is halved, then each
/// half again, down to dt/2^MAX_HALVINGS.
pub const MAX_HALVINGS: u32 = 12;
/// Relative preconditioned residual of each linear solve: at most [`LINEAR_LOOSE`], and
/// tightened with the Newton residual (an inexact Newton method: the far iterates need no
/// precise direction), never below [`LINEAR_TIGHT`].
pub const LINEAR_LOOSE: f64 = 1e-3;
pub const LINEAR_TIGHT: f64 = 1e-10;
pub const MAX_LINEAR: usize = 2000;
/// A Newton step moves no voxel's convex potential ν by more than this (kT): a factor e⁵ ≈ 150
/// in c or 1 − c near a bound, a fifth of the 35 kT between P2's segments at their junction.
pub const MAX_POTENTIAL_STEP: f64 = 5.0;

/// What a converged step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub mu_e: Option<f64>,
    /// Ions the reaction put in, Σ ψ c ΔṼ units.
    pub ions_added: f64,
    pub newton_iterations: usize,
    pub linear_iterations: usize,
    /// Largest |Δc| over the solid.
    pub max_dc: f64,
}

/// Newton did not converge at this dt (the state is untouched).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotConverged {
    pub residual_c: f64,
    pub residual_mu: f64,
}
