//! The TOML config: serde structs that mirror the file, `--set` overrides and `validate()`.
//!
//! Every table denies unknown keys, so a typo fails with the key's name and the expected ones.
//! Dimensional keys carry their unit as a suffix (`_nm`, `_cm2_s`, `_v`, `_ev`, `_k`); keys
//! without a suffix are dimensionless, or in the benchmark's own units for dimensionless
//! (double-well) configs. `docs/config.md` lists every key; units are converted once, in
//! `problem.rs`. This module does not know about backends or files beyond the config itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The whole config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Run name: outputs go to `outputs/<name>/`. Default: the config file's stem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Temperature in kelvin. Default 298 K, room temperature (materials.md §1).
    #[serde(default = "default_temperature_k")]
    pub temperature_k: f64,
    /// The periodic grid.
    pub grid: GridConfig,
    /// Which free energy: the per-material regular solution (default) or PFHub's double well.
    #[serde(default)]
    pub free_energy: FreeEnergyConfig,
    /// Materials by name (regular-solution configs). The table name is the material's name
    /// everywhere (`phi_<name>`, `swelling_<name>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub materials: BTreeMap<String, MaterialConfig>,
    /// Gradient energy, mobility scale and the stabilisation of the semi-implicit scheme.
    #[serde(default)]
    pub cahn_hilliard: CahnHilliardConfig,
    /// The initial composition field.
    pub initial: InitialConfig,
    /// Simulated time span and the time-step control.
    pub time: TimeConfig,
    /// What is written, and when.
    #[serde(default)]
    pub output: OutputConfig,
    /// Where the materials sit. Absent: the one material with sites fills the cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub microstructure: Option<MicrostructureConfig>,
    /// How the unbuffered (pristine) twin of this microstructure differs (`run --pristine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pristine: Option<PristineConfig>,
    /// The fast diffusion path where two solids meet (model.md §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_band: Option<InterfaceBandConfig>,
    /// Linear elasticity (model.md §4). Absent: no mechanics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanics: Option<MechanicsConfig>,
    /// Charging through the solid–electrolyte surface (model.md §4). Absent: a closed cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive: Option<DriveConfig>,
}

fn default_temperature_k() -> f64 {
    298.0
}

/// `[grid]`: a periodic box of power-of-two voxel counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridConfig {
    /// Voxels along x, y (2-D) or x, y, z; each a power of two of at least 4 (nz may be 1,
    /// which is 2-D). No default.
    pub n: Vec<i64>,
    /// Box edge lengths in nanometres, one per entry of `n` (regular-solution configs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_nm: Option<Vec<f64>>,
    /// Box edge lengths in the benchmark's own length unit (double-well configs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Vec<f64>>,
}

/// `[free_energy]`: the homogeneous free energy per site.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FreeEnergyConfig {
    /// model.md §3: each material's regular solution, in physical units (eV, V, nm, s).
    RegularSolution {},
    /// PFHub benchmark 1: `f = rho (c - c_alpha)^2 (c_beta - c)^2`, all quantities
    /// dimensionless (the benchmark's units); constant mobility.
    DoubleWell {
        /// Barrier scale ρ (PFHub: 5).
        rho: f64,
        /// Left well (PFHub: 0.3).
        c_alpha: f64,
        /// Right well (PFHub: 0.7).
        c_beta: f64,
    },
}

impl Default for FreeEnergyConfig {
    fn default() -> Self {
        FreeEnergyConfig::RegularSolution {}
    }
}

impl FreeEnergyConfig {
    /// True for configs in the benchmark's own (dimensionless) units.
    pub fn is_dimensionless(&self) -> bool {
        matches!(self, FreeEnergyConfig::DoubleWell { .. })
    }
}

/// `[materials.<name>]`: one material (model.md §3, materials.md): an ion host, an inert solid
/// (no capacity keys: no sites), or the electrolyte filling the pores.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialConfig {
    /// Where the numbers come from (paper, derived, assumed): shown in `check` and kept in outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// True for the electrolyte: no sites, mechanically soft; ions enter the solids across its
    /// boundary. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub electrolyte: bool,
    /// Ion diffusivity D in cm²/s (required for materials with sites).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diffusivity_cm2_s: Option<f64>,
    /// Specific capacity at c = 1 in mAh/g; with `density_g_cm3` gives the site density.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_mah_g: Option<f64>,
    /// Density of the as-made host in g/cm³.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_g_cm3: Option<f64>,
    /// Site density n in mol/m³, instead of capacity and density. 0 (or no capacity keys) is an
    /// inert material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_density_mol_m3: Option<f64>,
    /// Reference potential U0 versus the ion's metal in V (single-segment materials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u0_v: Option<f64>,
    /// Regular-solution interaction Ω in eV (single-segment materials); Ω > 2kT opens a gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omega_ev: Option<f64>,
    /// Several plateaus: segments over contiguous sub-ranges of c covering [0, 1], in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentConfig>,
    /// Young's modulus at c = 0 in GPa (required with `[mechanics]`; the electrolyte defaults
    /// to 1e-3 of the softest solid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub young_modulus_gpa: Option<f64>,
    /// Young's modulus at c = 1 in GPa: the modulus is linear in c between the two. Default: no
    /// softening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub young_modulus_full_gpa: Option<f64>,
    /// Poisson ratio, in (-1, 0.5). Required with `[mechanics]`; the electrolyte defaults to 0.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poisson_ratio: Option<f64>,
    /// Isotropic volume change ΔV/V between c = 0 and c = 1: β = (1 + ΔV/V)^(1/3) − 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_change: Option<f64>,
    /// Anisotropic linear eigenstrain between c = 0 and 1 along the local crystal axes
    /// `[a, b, c]` (transversely isotropic: a = b), c along the grain's `c_axis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eigenstrain: Option<[f64; 3]>,
    /// Von Mises yield stress at c = 0 in GPa (J2 plasticity, model.md §4). Materials without
    /// it stay elastic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yield_stress_gpa: Option<f64>,
    /// Yield stress at c = 1 in GPa: linear in c between the two. Default: `yield_stress_gpa`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yield_stress_full_gpa: Option<f64>,
    /// Linear isotropic hardening modulus H = dσ_y/dα in GPa (α the equivalent plastic
    /// strain). Default 0: perfect plasticity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardening_gpa: Option<f64>,
    /// As-made composition at which the material is stress-free: 0 for anodes, 1 for cathodes
    /// made full. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub c_ref: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl MaterialConfig {
    /// Whether the material holds ion sites.
    pub fn has_sites(&self) -> bool {
        !self.electrolyte
            && (self.site_density_mol_m3.is_some_and(|n| n > 0.0)
                || self.capacity_mah_g.is_some_and(|q| q > 0.0))
    }
}

/// `[[materials.<name>.segments]]`: one regular-solution plateau over `c_min..c_max`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentConfig {
    /// Lower end of the segment's range of c.
    pub c_min: f64,
    /// Upper end of the segment's range of c.
    pub c_max: f64,
    /// Reference potential in V.
    pub u0_v: f64,
    /// Interaction Ω in eV.
    pub omega_ev: f64,
}

/// `[cahn_hilliard]`: gradient energy, mobility and stabilisation (model.md §3, §6).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CahnHilliardConfig {
    /// Gradient coefficient κ in the benchmark's units (double-well configs; PFHub: 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
    /// Constant mobility M in the benchmark's units (double-well configs; PFHub: 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobility: Option<f64>,
    /// Gradient coefficient κ in J/m (regular-solution configs), or give `interface_width_nm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kappa_j_m: Option<f64>,
    /// Interface width w = Δc / max|∇c| in nm of a flat two-phase interface in the material with
    /// the strongest miscibility gap; κ is derived from it (materials.md §5). Keep it 3–4 voxels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_width_nm: Option<f64>,
    /// Factor A on the largest mobility in the implicit operator `A M_max (κ k⁴ + S k²)`.
    /// Default 1 (Zhu et al. 1999: A ≥ 1/2 keeps variable mobility stable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization: Option<f64>,
    /// S in the implicit operator, in the free energy's units per site. Default: half the
    /// largest |f''| over c in [0.02, 0.98], which makes the explicit chemical term stable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_s: Option<f64>,
}

/// `[initial]`: the composition at t = 0.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InitialConfig {
    /// `c0` plus uniform noise in `[-noise, noise]` from `seed` (reproducible).
    Uniform {
        /// Mean site fraction.
        c0: f64,
        /// Half-width of the noise. Default 0.
        #[serde(default)]
        noise: f64,
        /// Seed of the noise. Default 1.
        #[serde(default = "default_seed")]
        seed: u64,
    },
    /// PFHub benchmark 1a's perturbed field (coordinates in the config's length unit).
    #[serde(rename = "pfhub_1a")]
    Pfhub1a {
        /// Mean (PFHub: 0.5).
        c0: f64,
        /// Perturbation amplitude ε (PFHub: 0.01).
        epsilon: f64,
    },
    /// `c0 + Σ a cos(2π (mx x/Lx + my y/Ly + mz z/Lz))`: smooth and periodic, for convergence.
    Modes {
        /// Mean site fraction.
        c0: f64,
        /// Each mode as `[a, mx, my, mz]`, integer wavenumbers.
        modes: Vec<[f64; 4]>,
    },
}

fn default_seed() -> u64 {
    1
}

/// `[time]`: span and step control. Times are in seconds for regular-solution configs and in
/// the benchmark's units for double-well configs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeConfig {
    /// Simulated end time. No default.
    pub end: f64,
    /// Largest time step. No default.
    pub dt_max: f64,
    /// First time step. Default dt_max / 1000 (the early spinodal stage is fast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_initial: Option<f64>,
    /// Adapt dt to `max_dc`; false runs at fixed dt = `dt_max`. Default true.
    #[serde(default = "yes")]
    pub adaptive: bool,
    /// Target largest |Δc| of any voxel in one step. Default 0.01.
    #[serde(default = "default_max_dc")]
    pub max_dc: f64,
    /// Largest factor dt may grow by per step. Default 1.1.
    #[serde(default = "default_growth")]
    pub growth: f64,
    /// Smallest factor dt may shrink by per step. Default 0.5.
    #[serde(default = "default_shrink")]
    pub shrink: f64,
}

fn yes() -> bool {
    true
}
fn default_max_dc() -> f64 {
    0.01
}
fn default_growth() -> f64 {
    1.1
}
fn default_shrink() -> f64 {
    0.5
}

/// `[output]`: output times (time-series rows) and which of them also write snapshots.
/// With no schedule keys, output happens at t = 0 and at the end only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Explicit output times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<f64>,
    /// Output every `interval` of simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// Log-spaced outputs: this many per decade from `log_start` to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_decade: Option<u32>,
    /// First log-spaced output time. Default: `time.dt_max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_start: Option<f64>,
    /// Also output every this many steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_steps: Option<u64>,
    /// Every n-th output also writes a snapshot (HDF5 + images); the first and last always do.
    /// Default 1.
    #[serde(default = "one")]
    pub snapshot_every: u64,
    /// Write PNG maps with each snapshot. Default true.
    #[serde(default = "yes")]
    pub images: bool,
    /// Colour range of the c maps, fixed for the run. Default: [0, 1], or the double well's
    /// wells widened by 10 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_range: Option<[f64; 2]>,
}

fn one() -> u64 {
    1
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            times: Vec::new(),
            interval: None,
            per_decade: None,
            log_start: None,
            every_steps: None,
            snapshot_every: 1,
            images: true,
            c_range: None,
        }
    }
}

/// `[microstructure]`: volume fractions φ_m(x) from shapes painted in order (later shapes over
/// earlier ones) on a matrix, or from a segmented image; then smoothed (model.md §2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MicrostructureConfig {
    /// Material filling every voxel no shape covers (often the electrolyte).
    pub matrix: String,
    /// Seed of every random placement. Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Standard deviation of the Gaussian that smooths the sharp map, in voxels; the 10–90 %
    /// width of a boundary is 2.6× this. Default 1.
    #[serde(default = "one_f64")]
    pub smoothing_voxels: f64,
    /// Crystal c-axis of voxels no shape sets. Default [0, 0, 1].
    #[serde(default = "z_axis")]
    pub c_axis: [f64; 3],
    /// Shapes, painted in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapes: Vec<ShapeConfig>,
    /// A segmented image (2-D: one PNG; 3-D: one PNG per z slice) instead of or under the shapes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageConfig>,
}

fn one_f64() -> f64 {
    1.0
}
fn z_axis() -> [f64; 3] {
    [0.0, 0.0, 1.0]
}

/// A segmented label image: pixel value → material.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// PNG files (8- or 16-bit grey): one for 2-D, one per z slice for 3-D, relative to the config.
    pub files: Vec<String>,
    /// Label value (as a string key) → material name; every value in the image must be listed.
    pub labels: BTreeMap<String, String>,
}

/// A crystal c-axis: a vector, `"radial"` (from the particle's centre) or `"random"` per grain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum AxisConfig {
    Vector([f64; 3]),
    Named(String),
}

/// A shell around a particle's core.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    pub material: String,
    /// Shell thickness in nm.
    pub thickness_nm: f64,
    /// Crystal axis of this layer. Default: the particle's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_axis: Option<AxisConfig>,
}

/// Pores inside a particle's core (internal porosity).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoresConfig {
    /// The filling (usually the electrolyte).
    pub material: String,
    pub radius_nm: f64,
    /// Fraction of the core's volume.
    pub volume_fraction: f64,
}

/// Where random particles may sit relative to another material.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Anywhere not overlapping earlier particles of this shape.
    #[default]
    Free,
    /// Wholly inside the `host` material.
    Embedded,
    /// Centre outside `host`, touching it.
    Attached,
}

/// One shape of `[[microstructure.shapes]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShapeConfig {
    /// One particle (circle in 2-D, sphere in 3-D), with optional shells and internal pores.
    Sphere {
        material: String,
        /// Centre in nm (2 or 3 values). Default: the box centre.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        center_nm: Option<Vec<f64>>,
        radius_nm: f64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        layers: Vec<LayerConfig>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pores: Option<PoresConfig>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        c_axis: Option<AxisConfig>,
    },
    /// Random non-overlapping particles from `seed`, until a volume fraction or a count.
    Particles {
        material: String,
        /// Mean core radius in nm.
        radius_nm: f64,
        /// Radii uniform in radius·(1 ± spread). Default 0.
        #[serde(default)]
        radius_spread: f64,
        /// Target fraction of the cell the particles (core and shells) fill.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        volume_fraction: Option<f64>,
        /// Or a number of particles.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
        /// Smallest gap between particles in nm. Default 0.
        #[serde(default)]
        min_gap_nm: f64,
        /// Relative to `host`: free (default), embedded in it, attached to it.
        #[serde(default)]
        placement: Placement,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        layers: Vec<LayerConfig>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pores: Option<PoresConfig>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        c_axis: Option<AxisConfig>,
    },
    /// Lens-shaped (oblate) inclusions of `material` inside `host`, thin axis along the host
    /// grain's c-axis.
    Lenses {
        material: String,
        host: String,
        thickness_nm: f64,
        diameter_nm: f64,
        /// Fraction of the host's volume the lenses take.
        volume_fraction: f64,
    },
    /// Through-going lamellae of `material` inside `host`, normal to the host grain's c-axis
    /// direction (stacked along c), `thickness_nm` every `period_nm`.
    Lamellae {
        material: String,
        host: String,
        thickness_nm: f64,
        period_nm: f64,
    },
}

impl ShapeConfig {
    /// Every material name the shape uses.
    pub fn materials(&self) -> Vec<&str> {
        let mut v = Vec::new();
        match self {
            ShapeConfig::Sphere {
                material,
                layers,
                pores,
                ..
            }
            | ShapeConfig::Particles {
                material,
                layers,
                pores,
                ..
            } => {
                v.push(material.as_str());
                v.extend(layers.iter().map(|l| l.material.as_str()));
                v.extend(pores.iter().map(|p| p.material.as_str()));
            }
            ShapeConfig::Lenses { material, host, .. }
            | ShapeConfig::Lamellae { material, host, .. } => {
                v.push(material.as_str());
                v.push(host.as_str());
            }
        }
        if let ShapeConfig::Particles { host: Some(h), .. } = self {
            v.push(h.as_str());
        }
        v
    }
}

/// `[pristine]`: the unbuffered twin, same active material, same drive.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PristineConfig {
    /// Material substitutions, e.g. `{ hc = "electrolyte" }` (buffer becomes pore) or
    /// `{ mose2 = "carbon" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub replace: BTreeMap<String, String>,
    /// Shapes painted instead of `[microstructure].shapes` (keep the active amount the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shapes: Option<Vec<ShapeConfig>>,
    /// Matrix instead of `[microstructure].matrix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<String>,
}

/// `[interface_band]`: where two solids meet (φ_a φ_b above `threshold`), D is raised to at
/// least `diffusivity_cm2_s` (model.md §4; never lowered).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceBandConfig {
    /// The two materials whose contact forms the band.
    pub materials: [String; 2],
    /// D_int in cm²/s.
    pub diffusivity_cm2_s: f64,
    /// Band where φ_a φ_b exceeds this (at most 0.25). Default 0.05.
    #[serde(default = "default_band_threshold")]
    pub threshold: f64,
}

fn default_band_threshold() -> f64 {
    0.05
}

/// Macroscopic mechanical condition on the periodic cell (model.md §4).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// Mean stress 0: free swelling.
    #[default]
    Free,
    /// Mean in-plane strain 0, mean out-of-plane stress 0: an electrode on its current
    /// collector; the thickness axis is z in 3-D and y in 2-D.
    ClampedInplane,
    /// Mean strain 0.
    Fixed,
}

/// Elastic solver.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SolverKind {
    /// Conjugate gradients on the projected (Galerkin) Lippmann–Schwinger equation.
    #[default]
    Cg,
    /// The basic fixed-point scheme of Moulinec and Suquet (slow at high contrast).
    FixedPoint,
}

/// How a voxel that holds both solid and electrolyte mixes their mechanics (model.md §8).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mixing {
    /// One strain for every material of the voxel, stiffness and eigenstrain averaged by φ.
    #[default]
    Voigt,
    /// A laminate of the solid part and the electrolyte part across the interface normal:
    /// shared strain along the layers, balanced traction across them (CPU only).
    Laminate,
}

/// What the z axis does in 2-D.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutOfPlane {
    /// ε_zz = 0 (plane strain).
    #[default]
    PlaneStrain,
    /// ε_zz uniform with mean σ_zz = 0 where the boundary leaves z free (generalised plane strain).
    Generalized,
}

/// `[mechanics]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanicsConfig {
    /// free, clamped_inplane or fixed. Default free.
    #[serde(default)]
    pub boundary: Boundary,
    /// cg (default) or fixed_point.
    #[serde(default)]
    pub solver: SolverKind,
    /// Relative residual of the equilibrium solve. Default 1e-6.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// Iteration cap per solve. Default 2000.
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
    /// 2-D only: plane_strain (default) or generalized.
    #[serde(default)]
    pub out_of_plane: OutOfPlane,
    /// voigt (default) or laminate: how voxels that hold both solid and electrolyte mix.
    #[serde(default)]
    pub mixing: Mixing,
    /// Von Mises stress above which solid counts as overstressed (a proxy for cracking,
    /// reported as `overstressed_fraction`), GPa. Default 1.
    #[serde(default = "default_overstress")]
    pub overstress_gpa: f64,
    /// Whether stress acts back on the chemical potential (−σ:B per site). Default true; false
    /// is the limit where plastic flow relaxes the stress as fast as it builds (materials.md §8.2).
    #[serde(default = "default_true")]
    pub stress_coupling: bool,
}

fn default_true() -> bool {
    true
}

fn default_overstress() -> f64 {
    1.0
}

fn default_tolerance() -> f64 {
    1e-6
}
fn default_max_iterations() -> u64 {
    2000
}

/// Constant current or constant potential.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum DriveMode {
    #[default]
    Galvanostatic,
    Potentiostatic,
}

/// How the insertion's exchange current depends on the filling (docs/model.md §8).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Exchange {
    /// ∝ √(c (1 − c)) (symmetric Butler–Volmer, linearised): no ions leave an empty host, none
    /// enter a full one.
    #[default]
    SiteLimited,
    /// Independent of c: `R = k_r s n (μ_e − μ)` exactly as MODEL.md §4 writes it.
    Constant,
}

/// Which way the current flows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Ions enter the solids (sodiation/lithiation: charging an anode, discharging a cathode).
    #[default]
    Insertion,
    /// Ions leave (charging a cathode).
    Extraction,
}

/// `[drive]`: insertion `R = k_r s(x) n (μ_e − μ)` at the solid–electrolyte surface.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveConfig {
    /// galvanostatic (default) or potentiostatic.
    #[serde(default)]
    pub mode: DriveMode,
    /// Current as a C-rate of the cell's site capacity (galvanostatic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_rate: Option<f64>,
    /// insertion (default) or extraction.
    #[serde(default)]
    pub direction: Direction,
    /// Electrode potential versus the ion's metal in V (potentiostatic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage_v: Option<f64>,
    /// Surface rate constant k_r in 1/s per kT of driving force (per site at the surface, at
    /// half filling for `site_limited`).
    pub rate_constant_per_s: f64,
    /// site_limited (default: the exchange current ∝ √(c (1 − c))) or constant.
    #[serde(default)]
    pub exchange_current: Exchange,
    /// Stop at this state of charge (fraction of all sites filled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_target: Option<f64>,
    /// Stop when the voltage crosses this value (V).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff_voltage_v: Option<f64>,
}

/// A config read from a file, with `--set` applied, and its resolved text.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The typed config, validated.
    pub config: Config,
    /// The resolved config as TOML (defaults filled in, overrides applied): what was run.
    pub resolved: String,
    /// The file it came from.
    pub path: PathBuf,
}

impl LoadedConfig {
    /// The scaled problem (or its `[pristine]` twin), images resolved next to the config file.
    pub fn problem(&self, pristine: bool) -> Result<crate::problem::Problem> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        crate::problem::Problem::build(&self.config, dir, pristine)
    }

    /// The run name: `name` from the config, else the file's stem.
    pub fn run_name(&self) -> String {
        self.config.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into())
        })
    }
}

/// Reads, overrides, parses and validates a config file.
pub fn load(path: &Path, sets: &[String]) -> Result<LoadedConfig> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
        path: path.to_path_buf(),
        source,
    })?;
    let config = parse(&text, path, sets)?;
    config.validate()?;
    let resolved = toml::to_string(&config).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        message: format!("cannot serialise the resolved config: {e}"),
    })?;
    Ok(LoadedConfig {
        config,
        resolved,
        path: path.to_path_buf(),
    })
}

/// Parses TOML text and applies `--set` overrides before typed deserialisation, so overrides
/// pass the same typo and type checks as the file (does not validate).
pub fn parse(text: &str, path: &Path, sets: &[String]) -> Result<Config> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| located(&e, text, path, None))?;
    for set in sets {
        apply_set(&mut table, set)?;
    }
    refuse_removed(&table)?;
    let edited = toml::to_string(&table).map_err(|e| Error::SetSyntax {
        given: sets.join(" "),
        reason: e.to_string(),
    })?;
    match toml::from_str::<Config>(&edited) {
        Ok(config) => Ok(config),
        Err(e) => {
            // Point at the user's file when the problem is already there; otherwise it came in
            // through --set and a line number in the rewritten text would mislead.
            if let Err(orig) = toml::from_str::<Config>(text)
                && orig.message() == e.message()
            {
                return Err(located(&orig, text, path, None));
            }
            Err(located(&e, &edited, path, Some("after --set")))
        }
    }
}

/// Keys swellfield no longer reads, each with what replaced it: a config naming one is told
/// that, not that the key is unknown.
const REMOVED: [(&str, &str); 3] = [
    (
        "cahn_hilliard.scheme",
        "cells with several hosts or pores always run the convex-splitting step (docs/model.md \
         §8), the only multi-material step",
    ),
    (
        "drive.reaction_gradient",
        "the convex-splitting step solves the surface reaction inside its implicit step, with no \
         linearised stiffness to choose",
    ),
    (
        "drive.max_bound_transfer",
        "the convex-splitting step keeps 0 < c < 1 by its logarithm and projects nothing, so \
         there is no transfer to stop on",
    ),
];

/// Refuses a table that names a [`REMOVED`] key.
fn refuse_removed(table: &toml::Table) -> Result<()> {
    for (key, replaced) in REMOVED {
        let (section, name) = key.split_once('.').expect("section.key");
        if let Some(value) = table
            .get(section)
            .and_then(toml::Value::as_table)
            .and_then(|t| t.get(name))
        {
            return Err(Error::invalid(
                key,
                value,
                &format!("this key was removed: {replaced}"),
                "delete the key",
            ));
        }
    }
    Ok(())
}

fn located(e: &toml::de::Error, text: &str, path: &Path, note: Option<&str>) -> Error {
    let (line, column) = match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, column)
        }
        None => (0, 0),
    };
    let mut message = e.message().trim().replace('\n', " ");
    if let Some(note) = note {
        message = format!("{message} ({note})");
    }
    Error::ConfigParse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Applies one `section.key=value` to the parsed table. The value is read as a TOML value
/// (`1e-3`, `[64, 64]`, `true`, `"text"`); a bare word is taken as a string.
pub fn apply_set(table: &mut toml::Table, set: &str) -> Result<()> {
    let err = |reason: &str| Error::SetSyntax {
        given: set.to_string(),
        reason: reason.to_string(),
    };
    let (key, raw) = set.split_once('=').ok_or_else(|| err("no '=' in it"))?;
    let key = key.trim();
    let raw = raw.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(err("the key has an empty part"));
    }
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").ok_or_else(|| err("no value"))?,
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let parts: Vec<&str> = key.split('.').collect();
    let (last, sections) = parts.split_last().ok_or_else(|| err("empty key"))?;
    let mut here = table;
    for part in sections {
        // `name[i]` steps into the i-th table of an array of tables ([[name]]).
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => {
                let i = rest
                    .strip_suffix(']')
                    .and_then(|v| v.parse::<usize>().ok())
                    .ok_or_else(|| err(&format!("'{part}' is not name[index]")))?;
                (name, Some(i))
            }
            None => (*part, None),
        };
        let entry = here
            .entry(name.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let entry = match index {
            None => entry,
            Some(i) => {
                let len = entry.as_array().map_or(0, Vec::len);
                entry
                    .as_array_mut()
                    .and_then(|a| a.get_mut(i))
                    .ok_or_else(|| {
                        err(&format!(
                            "'{name}' has {len} entries, so [{i}] does not exist"
                        ))
                    })?
            }
        };
        here = entry
            .as_table_mut()
            .ok_or_else(|| err(&format!("'{part}' is a value, not a table")))?;
    }
    here.insert(last.to_string(), value);
    Ok(())
}

mod validate;
