//! What both backends' convex-splitting steps share (model.md §8, "The convex-splitting step"):
//! Newton's tolerances and limits, what a step reports, and the per-voxel layouts of the
//! device's step (shaders/convex_split.wgsl), which its CPU mirrors take too. The CPU's step is
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
/// precise direction), never below [`LINEAR_TIGHT`] ([`forcing`]).
pub const LINEAR_LOOSE: f64 = 1e-3;
pub const LINEAR_TIGHT: f64 = 1e-10;

/// The relative residual a Newton iteration's linear solve stops at, from the residuals it
/// starts from (`r1` in c, `r2` and the galvanostat's `rg` in kT, `tol_mu` the galvanostat's
/// tolerance): the largest residual itself, which keeps Newton's convergence quadratic
/// (Eisenstat & Walker 1996), capped at [`LINEAR_LOOSE`]; but never tighter than a tenth of
/// what brings every residual to its tolerance in this iteration (a solve beyond that refines
/// a direction the next test accepts anyway), nor than `floor` ([`LINEAR_TIGHT`], or f32's).
pub fn forcing(r1: f64, r2: f64, rg: f64, tol_mu: f64, floor: f64) -> f64 {
    let residual = r1.max(r2).max(rg);
    let over = (r1 / TOLERANCE_C)
        .max(r2 / TOLERANCE_MU)
        .max(rg / tol_mu)
        .max(1.0);
    residual
        .min(LINEAR_LOOSE)
        .max(0.1 / over)
        .clamp(floor, LINEAR_LOOSE)
}
pub const MAX_LINEAR: usize = 2000;
/// A Newton step moves no voxel's convex potential ν by more than this (kT): a factor e⁵ ≈ 150
/// in c or 1 − c near a bound, a fifth of the 35 kT between P2's segments at their junction.
pub const MAX_POTENTIAL_STEP: f64 = 5.0;

/// One sub-step's attempt, as a backend takes it: the elastic solve it made first (iterations
/// and relative residual, (0, 0) where none) and Newton's outcome.
pub type Attempt = ((u64, f64), std::result::Result<Outcome, NotConverged>);

/// A step of `dt` by `attempt` (one sub-step of the length it is given, from the state the
/// last successful one left): a sub-step whose Newton iteration does not converge, or whose
/// converged step the device cannot resolve in f32 (`Status::unbalanced`), is replaced by two of
/// half its length, down to `dt`/2^[`MAX_HALVINGS`], past which the run stops with
/// [`crate::error::Error::NotConverged`]. Both backends' steps run through it. The report sums
/// the sub-steps' iterations and ions (a failed attempt counts [`MAX_NEWTON`] iterations), keeps
/// the last μ_e, the largest of their max |Δc| and the first elastic solve's residual.
pub fn halving(
    dt: f64,
    mut attempt: impl FnMut(f64) -> crate::error::Result<Attempt>,
) -> crate::error::Result<crate::backend::StepReport> {
    let mut report = crate::backend::StepReport::default();
    // (length, halvings) of the sub-steps still to take, the next one last.
    let mut pending = vec![(dt, 0u32)];
    while let Some((h, depth)) = pending.pop() {
        let ((iterations, residual), outcome) = attempt(h)?;
        if report.elastic_iterations == 0 {
            report.elastic_residual = residual;
        }
        report.elastic_iterations += iterations;
        match outcome {
            Ok(out) => {
                report.newton_iterations += out.newton_iterations as u64;
                report.linear_iterations += out.linear_iterations as u64;
                report.ions_added += out.ions_added;
                report.mu_e = out.mu_e.or(report.mu_e);
                report.max_dc = report.max_dc.max(out.max_dc);
            }
            Err(_) if depth < MAX_HALVINGS => {
                report.newton_iterations += MAX_NEWTON as u64;
                pending.push((0.5 * h, depth + 1));
                pending.push((0.5 * h, depth + 1));
            }
            Err(failed) => {
                return Err(crate::error::Error::NotConverged {
                    dt,
                    residual_c: failed.residual_c,
                    residual_mu: failed.residual_mu,
                });
            }
        }
    }
    Ok(report)
}

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

/// Newton did not converge at this dt, or the device refused its converged step as unresolved
/// in f32 (`residual_c` then the unbalanced ions per site); the state is untouched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotConverged {
    pub residual_c: f64,
    pub residual_mu: f64,
}

/// The step's uniform; twin of convex_split.wgsl's `struct ConvexParams`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ConvexParams {
    pub n: [u32; 4],
    pub len: u32,
    pub components: u32,
    pub mobility: u32,
    pub exchange: u32,
    pub kappa: f32,
    pub dt: f32,
    pub galvanostatic: u32,
    pub current: f32,
    pub mu_e: f32,
    pub reference: f32,
    pub shift: f32,
    pub pad0: u32,
}

/// A host's regular solution; twin of convex_split.wgsl's `struct Host`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct HostParams {
    pub segments: u32,
    pub pad: [u32; 3],
    /// (c_min, c_max, u0, omega) per segment.
    pub seg: [[f32; 4]; 4],
}

/// A voxel's static data; twin of convex_split.wgsl's `struct Site`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Site {
    pub psi: f32,
    pub rate: f32,
    pub hosts: f32,
    pub only: u32,
}

/// `Site::only` off the solid, and in a mixture of hosts.
pub const OFF: u32 = u32::MAX - 1;
pub const MIXED: u32 = u32::MAX;

/// A voxel's state at the start of a step; twin of convex_split.wgsl's `struct Old`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Old {
    pub c: f32,
    pub nu: f32,
    pub frozen: f32,
    pub rho: f32,
    pub stabiliser: f32,
    pub blocking: f32,
    pub mu0: f32,
    pub pad0: f32,
}

/// A voxel's Newton iterate; twin of convex_split.wgsl's `struct Iterate`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Iterate {
    pub c: f32,
    pub nu: f32,
    pub mu: f32,
    pub dnu: f32,
}

/// The step's scalars; twin of convex_split.wgsl's `struct Status`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Status {
    pub mu_e: f32,
    pub r1: f32,
    pub r2: f32,
    pub rg: f32,
    pub rho_sum: f32,
    pub pull: f32,
    pub rho_mu: f32,
    pub ions: f32,
    pub max_dc: f32,
    pub non_finite: f32,
    pub gradient: f32,
    /// Σ ψ |c_Newton − c_fluxes| over the voxels whose flux-formed c fell outside (0, 1) and
    /// took Newton's: the ions the step would add beyond its fluxes.
    pub unbalanced: f32,
}
