//! The seam between the physics loop and the arithmetic: one trait, two backends.
//!
//! Nothing above this trait (simulation, writers, CLI) knows which backend it drives. A step is
//! whole and the state stays inside the backend; full fields come back only through
//! [`Backend::fields`], so a search for `fields(` finds every costly copy.

pub mod cpu;
pub mod gpu;

use crate::error::Result;
use crate::fields::{FieldName, Fields};
use crate::problem::Problem;

/// Which arithmetic runs the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// f64 reference: rustfft + rayon.
    Cpu,
    /// f32 WGSL compute through wgpu.
    Gpu,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Gpu => "gpu",
        }
    }

    /// Floating-point precision of the fields.
    pub fn precision(self) -> &'static str {
        match self {
            BackendKind::Cpu => "f64",
            BackendKind::Gpu => "f32",
        }
    }
}

/// What the user asked for with `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU when there is one, else the CPU with a one-line notice.
    #[default]
    Auto,
    /// The f64 CPU reference.
    Cpu,
    /// WGSL compute shaders through wgpu (software adapters included).
    Gpu,
}

/// What one step reports back: cheap scalars only. `Default` is a step that changed nothing,
/// what a step made of sub-steps adds to.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepReport {
    /// Largest |c_new − c_old| over the solid (drives the adaptive dt).
    pub max_dc: f64,
    /// Voxels whose new c is NaN or infinite, or far outside [0, 1] (a diverged step).
    pub non_finite: u64,
    /// The electrode's μ_e used in this step (kT), when there is a drive.
    pub mu_e: Option<f64>,
    /// Ions inserted in this step, Σ ψ c ΔṼ units (negative: extracted).
    pub ions_added: f64,
    /// Newton iterations and linear (Krylov) iterations of the convex-splitting step, summed
    /// over its sub-steps; 0 for the spectral step.
    pub newton_iterations: u64,
    pub linear_iterations: u64,
    /// Elastic solver iterations and relative residual of this step's solve.
    pub elastic_iterations: u64,
    pub elastic_residual: f64,
}

/// Per-material reductions (model units).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MaterialObservables {
    /// Σ φ_m ΔṼ: the material's volume.
    pub volume: f64,
    /// The material's swelling det(I + ⟨ε_m⟩) − 1, ε_m = B_m (c − c_ref) + C_m⁻¹σ its own
    /// strain, φ_m-weighted.
    pub swelling: f64,
    /// Largest von Mises stress where φ_m > 1/2.
    pub max_von_mises: f64,
    /// Largest hydrostatic stress tr σ/3 (tension positive) where φ_m > 1/2.
    pub max_hydrostatic: f64,
    /// Site-weighted mean c of the material (NaN when it holds no sites).
    pub mean_c: f64,
    /// Largest equivalent plastic strain α where φ_m > ½ (0 where the material stays elastic).
    pub max_plastic_strain: f64,
    /// Plastic work done in the material so far, `Σ φ_m/φ_flowing w_p ΔṼ`: each voxel's work
    /// shared among the materials that flow there by their fractions.
    pub plastic_work: f64,
}

/// The reductions the time series needs, in model units.
#[derive(Debug, Clone, PartialEq)]
pub struct Observables {
    /// Mean, min and max of c over the solid.
    pub mean_c: f64,
    pub c_min: f64,
    pub c_max: f64,
    /// Σ ψ c ΔṼ: the amount of ions (conserved without current).
    pub total_c: f64,
    /// Σ Σ_m ψ_m g_m(c) ΔṼ.
    pub energy_chemical: f64,
    /// Σ ψ κ/2 |∇c|² ΔṼ.
    pub energy_gradient: f64,
    /// Σ (½ σ : (ε − ε* − ε_p) + ½ H α²) ΔṼ: the energy stored elastically and by hardening.
    pub energy_elastic: f64,
    /// Mean strain and stress (Voigt).
    pub mean_strain: [f64; 6],
    pub mean_stress: [f64; 6],
    pub materials: Vec<MaterialObservables>,
    /// Volume fraction of the solid whose von Mises stress exceeds `mechanics.overstress_gpa`.
    pub overstressed_fraction: f64,
    /// Voxels where c is NaN or infinite.
    pub non_finite: u64,
    /// Iterations and relative residual of the elastic solve made for this observation, where
    /// the steps make none (the convex-splitting step solves mechanics only when stress acts
    /// on μ); `None` where the last step's solve is the current one.
    pub elastic_solve: Option<(u64, f64)>,
}

/// One backend computing the model.md §4/§6 step.
pub trait Backend {
    fn kind(&self) -> BackendKind;
    /// One step of `dt` (model time): mechanical equilibrium at the current c, the insertion
    /// (galvanostatic μ_e solved inside), and the semi-implicit Cahn–Hilliard update.
    fn step(&mut self, dt: f64) -> Result<StepReport>;
    /// A few reductions: cheap on every backend.
    fn observe(&mut self) -> Result<Observables>;
    /// The only way full fields reach the host, as f64. Ask only for what you write.
    fn fields(&mut self, names: &[FieldName]) -> Result<Fields>;
}

/// Builds the backend the user chose. Returns a one-line notice for the user when `auto` runs
/// the CPU backend, saying why.
pub fn select(
    choice: BackendChoice,
    problem: &Problem,
) -> Result<(Box<dyn Backend>, Option<String>)> {
    match choice {
        BackendChoice::Cpu => Ok((Box::new(cpu::CpuBackend::new(problem)), None)),
        BackendChoice::Gpu => Ok((Box::new(gpu::GpuBackend::new(problem)?), None)),
        BackendChoice::Auto => match auto_device(problem) {
            Ok(ctx) => {
                let name = ctx.info.name.clone();
                Ok(match gpu::GpuBackend::with_context(ctx, problem) {
                    Ok(b) => (Box::new(b), None),
                    Err(e) => (
                        Box::new(cpu::CpuBackend::new(problem)),
                        Some(cpu_notice(&format!(
                            "the GPU {name} cannot run this config ({e})"
                        ))),
                    ),
                })
            }
            Err(why) => Ok((
                Box::new(cpu::CpuBackend::new(problem)),
                Some(cpu_notice(&why)),
            )),
        },
    }
}

/// The hardware GPU `auto` runs `problem` on, or why it runs the CPU instead; builds no
/// backend, so a caller can ask before deciding how to run (compare's side by side).
pub fn auto_device(problem: &Problem) -> std::result::Result<gpu::context::GpuContext, String> {
    if let Some(what) = gpu::unsupported(problem) {
        return Err(format!(
            "the GPU backend does not run configs with {what} yet"
        ));
    }
    match gpu::context::GpuContext::new() {
        Ok(ctx) if !ctx.is_software() => Ok(ctx),
        Ok(ctx) => Err(format!(
            "only a software adapter was found ({}); --backend gpu runs the shaders on it anyway",
            ctx.info.name
        )),
        Err(_) => Err("no GPU adapter was found".into()),
    }
}

/// `auto`'s one-line notice when it runs the CPU backend.
pub fn cpu_notice(why: &str) -> String {
    format!("note: running the f64 CPU backend: {why}")
}

/// The galvanostat's error when no solid voxel touches the electrolyte (both backends).
pub fn no_surface() -> crate::error::Error {
    crate::error::Error::invalid(
        "drive",
        "(galvanostatic)",
        "no solid voxel touches the electrolyte, so no current can flow",
        "place the electrolyte next to the solids",
    )
}

/// The galvanostat's error when this step's exchange current is zero everywhere: every solid
/// voxel at the electrolyte is full (inserting) or empty (extracting), so no μ_e can deliver the
/// current (model.md §8, the site-limited exchange current).
pub fn exchange_exhausted() -> crate::error::Error {
    crate::error::Error::invalid(
        "drive",
        "(galvanostatic)",
        "every solid voxel at the electrolyte is full (or, extracting, empty): the exchange \
         current is zero and the current cannot flow",
        "stop earlier: a lower drive.soc_target or a drive.cutoff_voltage_v",
    )
}
