//! `Problem`: the validated config turned into scaled numbers and static fields, built once.
//!
//! Units are converted here and only here. The solver works in model units: lengths in ℓ (the
//! smallest voxel edge, so spacings are about 1), energies per site in kT (regular solution) or
//! the benchmark's unit (double well), time in τ = ℓ²/D_ref (the fastest diffusivity) or ℓ²/M,
//! site densities relative to the largest, n_ref, and stresses in n_ref N_A kT. So f32 on the
//! GPU never sees 1e-19 m²/s. `Units` converts back. In these units (model.md §4, §8):
//!
//! `∂c/∂t = (1/ψ) ∇·(ψ d(x) c(1−c) ∇μ) + r(x)(μ_e − μ)`,
//! `μ = Σ_m (ψ_m/ψ) g_m'(c) − κ (1/ψ) ∇·(ψ ∇c) − (σ : A)/ψ + ½ (ε−ε*) : C' : (ε−ε*)/ψ`,
//!
//! with ψ_m = φ_m n_m/n_ref, ψ = Σ ψ_m, A = Σ φ_m B_m and C' = ∂C/∂c.

use std::path::Path;

use crate::config::{
    Boundary, Config, Direction, DriveMode, FreeEnergyConfig, OutOfPlane, SolverKind,
};
use crate::error::{Error, Result};
use crate::finite_volume::Faces;
use crate::free_energy::{FlatInterface, FreeEnergy, invert_increasing};
use crate::grid::Grid;
use crate::initial::initial_field;
use crate::materials::{Expansion, Material, lame};
use crate::microstructure::{self, Microstructure};
use crate::units::{CM2_S, E_CHARGE, KB_EV, N_A, NM};

/// Voxels with fewer sites than this fraction of the sparsest material's are not solid: μ is
/// not evaluated there and they hold no ions.
pub const SOLID_FRACTION: f64 = 0.1;

/// The mobility's dependence on c.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mobility {
    /// m = 1 (PFHub benchmark 1).
    Constant,
    /// m = w y (1 − y) per segment of each host: an ion can only hop to an empty site of the
    /// segment being filled (model.md §8, [`crate::free_energy::FreeEnergy::blocking`]).
    SiteBlocking,
}

/// How model units map back to what the user reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Units {
    /// True for benchmark (double-well) configs, whose numbers are in the benchmark's units.
    pub dimensionless: bool,
    /// ℓ: one model length in the config's length unit (nm, or the benchmark's unit).
    pub length: f64,
    /// τ: one model time in seconds (or the benchmark's time unit).
    pub time: f64,
    /// A model-unit energy sum `Σ f̃ ΔṼ` times this is the reported energy.
    pub energy: f64,
    /// Name of the reported energy unit.
    pub energy_unit: &'static str,
    /// Name of the reported time unit.
    pub time_unit: &'static str,
    /// kT in eV (1 for dimensionless configs).
    pub kt_ev: f64,
    /// One model stress in Pa (n_ref N_A kT).
    pub stress_pa: f64,
    /// A model-unit amount of ions `Σ ψ c ΔṼ` times this is mol (3-D) or mol per nm of depth (2-D).
    pub ions_mol: f64,
}

/// Time control in model units.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSettings {
    pub end: f64,
    pub dt_max: f64,
    pub dt_initial: f64,
    pub adaptive: bool,
    pub max_dc: f64,
    pub growth: f64,
    pub shrink: f64,
}

/// One free energy and where its sites are.
#[derive(Debug, Clone)]
pub struct Component {
    /// Index into `Problem::materials` (none for the double well).
    pub material: Option<usize>,
    pub free_energy: FreeEnergy,
    /// ψ_m(x) = φ_m n_m / n_ref; `None`: 1 everywhere.
    pub psi: Option<Vec<f64>>,
}

/// The Cahn–Hilliard data.
#[derive(Debug, Clone)]
pub struct Chemistry {
    pub components: Vec<Component>,
    /// ψ(x) = n/n_ref; `None` when 1 everywhere (hosts of one site density filling the cell).
    pub psi: Option<Vec<f64>>,
    /// max(ψ, floor): what μ's gradient term and the flux divergence divide by.
    pub psi_floor: f64,
    /// ψ d(x) = Σ_m ψ_m D_m/D_ref, raised in the interface band; `None` when uniform 1.
    pub flux: Option<Vec<f64>>,
    pub mobility: Mobility,
    /// For every voxel the nearest solid voxel (itself if solid): c and μ are extended into
    /// the pores by copying, so spectral derivatives never see a jump at the solid's edge.
    pub nearest_solid: Option<Vec<u32>>,
    /// m_max = ¼ of the largest d(x) (the largest d c(1 − c)), or the double well's 1: the
    /// spectral step's stabiliser is `A m_max (κk⁴ + Sk²)`.
    pub mobility_max: f64,
    /// κ per site in energy unit × ℓ².
    pub kappa: f64,
    /// A in `A m_max (κk⁴ + Sk²)`.
    pub stabilization: f64,
    /// S in the same operator.
    pub stabilization_s: f64,
    /// The finite-volume faces of the convex-splitting step; `Some` exactly where that step
    /// runs (several hosts or pores).
    pub faces: Option<Faces>,
}

impl Chemistry {
    /// Whether voxel i holds sites (μ is evaluated there).
    #[inline]
    pub fn is_solid(&self, i: usize) -> bool {
        self.psi.as_ref().is_none_or(|p| p[i] >= self.psi_floor)
    }

    /// ψ at voxel i.
    #[inline]
    pub fn psi_at(&self, i: usize) -> f64 {
        self.psi.as_ref().map_or(1.0, |p| p[i])
    }

    /// Σ_m (ψ_m/ψ) q_m(c) at voxel i for a per-host quantity q (g', g'', the blocking
    /// factor): each host weighed by its share of the voxel's sites. With ψ uniform the weights
    /// are ψ_m themselves (they sum to 1), and one host is q(c) alone.
    #[inline]
    fn mixture(&self, i: usize, q: impl Fn(&FreeEnergy) -> f64) -> f64 {
        match &self.psi {
            None if self.components.len() == 1 => q(&self.components[0].free_energy),
            None => self
                .components
                .iter()
                .map(|comp| comp.psi.as_ref().map_or(1.0, |p| p[i]) * q(&comp.free_energy))
                .sum(),
            Some(psi) => {
                let mut s = 0.0;
                for comp in &self.components {
                    let w = comp.psi.as_ref().map_or(1.0, |p| p[i]);
                    if w > 0.0 {
                        s += w * q(&comp.free_energy);
                    }
                }
                s / psi[i].max(self.psi_floor)
            }
        }
    }

    /// Σ_m (ψ_m/ψ) g_m'(c) at voxel i (solid voxels).
    #[inline]
    pub fn mu_chemical(&self, i: usize, c: f64) -> f64 {
        self.mixture(i, |fe| fe.mu(c))
    }

    /// Σ_m (ψ_m/ψ) b_m(c) at voxel i: the site-blocking mobility factor of a mixture of hosts
    /// ([`FreeEnergy::blocking`]), weighted by their share of the voxel's sites as μ is; 1 for
    /// a constant mobility.
    #[inline]
    pub fn mobility_at(&self, i: usize, c: f64) -> f64 {
        if self.mobility == Mobility::Constant {
            return 1.0;
        }
        self.mixture(i, |fe| fe.blocking(c))
    }

    /// Σ_m ψ_m g_m(c) at voxel i: the chemical energy per model volume (of the sublattice
    /// model where the convex-splitting step runs, [`FreeEnergy::sublattice_energy`]).
    #[inline]
    pub fn energy_density(&self, i: usize, c: f64) -> f64 {
        let sublattices = self.faces.is_some();
        self.components
            .iter()
            .map(|comp| {
                let w = comp.psi.as_ref().map_or(1.0, |p| p[i]);
                if w <= 0.0 {
                    0.0
                } else if sublattices {
                    w * comp.free_energy.sublattice_energy(c)
                } else {
                    w * comp.free_energy.f(c)
                }
            })
            .sum()
    }

    /// The convex-splitting step's `(μ_convex, dμ_convex/dc, μ_explicit)` at voxel i, each host
    /// weighed by its share of the voxel's sites ([`FreeEnergy::convex_split`]).
    #[inline]
    pub fn convex_split_at(&self, i: usize, c: f64) -> (f64, f64, f64) {
        let mut out = (0.0, 0.0, 0.0);
        let mut total = 0.0;
        for comp in &self.components {
            let w = comp.psi.as_ref().map_or(1.0, |p| p[i]);
            if w > 0.0 {
                let (a, b, e) = comp.free_energy.convex_split(c);
                out = (out.0 + w * a, out.1 + w * b, out.2 + w * e);
                total += w;
            }
        }
        if total > 0.0 {
            (out.0 / total, out.1 / total, out.2 / total)
        } else {
            out
        }
    }

    /// The composition at voxel i whose convex potential ([`Self::convex_split_at`]'s first
    /// part) is ν. A voxel of one host with a closed form ([`FreeEnergy::convex_inverse`]) uses
    /// it; a mixture, or a host with a convex interaction, is solved for it from `c_start`
    /// ([`invert_increasing`]).
    pub fn convex_inverse_at(&self, i: usize, nu: f64, c_start: f64) -> f64 {
        let mut present = self
            .components
            .iter()
            .filter(|comp| comp.psi.as_ref().is_none_or(|p| p[i] > 0.0));
        if let (Some(only), None) = (present.next(), present.next())
            && let Some(c) = only.free_energy.convex_inverse(nu)
        {
            return c;
        }
        invert_increasing(|c| self.convex_split_at(i, c), nu, c_start)
    }

    /// The convex-splitting step's site-blocking factor at voxel i, mixed as μ is
    /// ([`FreeEnergy::sublattice_blocking`]).
    #[inline]
    pub fn sublattice_blocking_at(&self, i: usize, c: f64) -> f64 {
        if self.mobility == Mobility::Constant {
            return 1.0;
        }
        self.mixture(i, |fe| fe.sublattice_blocking(c))
    }
}

/// One material's mechanics in model units.
#[derive(Debug, Clone, PartialEq)]
pub struct MechMaterial {
    /// Lamé (λ, μ) at c = 0 and their change to c = 1.
    pub lambda0: f64,
    pub mu0: f64,
    pub dlambda: f64,
    pub dmu: f64,
    pub expansion: Expansion,
    pub c_ref: f64,
    /// J2 plasticity: the yield stress at c = 0 and its change to c = 1, and the hardening
    /// modulus; `None`: elastic.
    pub plastic: Option<MechPlastic>,
}

/// One material's J2 data in model stress units (plasticity.rs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MechPlastic {
    pub yield0: f64,
    pub dyield: f64,
    pub hardening: f64,
}

/// The elasticity data (model.md §4, §6).
#[derive(Debug, Clone)]
pub struct Mechanics {
    pub boundary: Boundary,
    pub solver: SolverKind,
    pub tolerance: f64,
    pub max_iterations: u64,
    pub out_of_plane: OutOfPlane,
    /// How voxels holding solid and electrolyte mix (`mechanics.mixing`).
    pub mixing: crate::config::Mixing,
    pub materials: Vec<MechMaterial>,
    /// Some material expands anisotropically (the per-voxel c-axis matters).
    pub anisotropic: bool,
    /// The overstress threshold in model stress units.
    pub overstress: f64,
    /// Stress enters μ (`mechanics.stress_coupling`).
    pub stress_coupling: bool,
    /// The electrolyte's index, whose region is not solid.
    pub electrolyte: Option<usize>,
}

impl Mechanics {
    /// Whether some material flows (J2 plasticity).
    pub fn plastic(&self) -> bool {
        self.materials.iter().any(|m| m.plastic.is_some())
    }

    /// Which strain components vary in space (go through the FFT): all in 3-D; in 2-D the
    /// in-plane ones, and the antiplane shears only when some c-axis tilts out of the plane
    /// (anisotropic expansion); the rest are uniform means.
    pub fn spectral_components(&self, dim: usize, axis: &[[f64; 3]]) -> [bool; 6] {
        if dim == 3 {
            return [true; 6];
        }
        let antiplane = self.anisotropic
            && axis
                .iter()
                .any(|a| (a[2] * a[0]).abs() + (a[2] * a[1]).abs() > 1e-12);
        [true, true, false, antiplane, antiplane, true]
    }

    /// Which mean strain components (Voigt xx yy zz yz xz xy) are free (solved for, with
    /// zero mean stress) rather than held at zero.
    pub fn free_means(&self, dim: usize) -> [bool; 6] {
        let gps = self.out_of_plane == OutOfPlane::Generalized;
        match (self.boundary, dim) {
            (Boundary::Fixed, _) => [false; 6],
            (Boundary::Free, 3) => [true; 6],
            (Boundary::Free, _) => [true, true, gps, true, true, true],
            // The thickness axis is z in 3-D and y in 2-D; in-plane means are held.
            (Boundary::ClampedInplane, 3) => [false, false, true, true, true, false],
            (Boundary::ClampedInplane, _) => [false, true, false, true, false, true],
        }
    }
}

/// The charging drive in model units (model.md §4).
#[derive(Debug, Clone)]
pub struct Drive {
    pub mode: DriveMode,
    pub direction: Direction,
    /// r(x) = k_r τ s(x): the insertion coefficient per site, zero off the surface.
    pub rate: Vec<f64>,
    /// How the step scales r with the filling: r j(c) (chemistry::exchange_factor).
    pub exchange: crate::config::Exchange,
    /// Ions per model time (Σ ψ c ΔṼ units), signed: positive inserts.
    pub current: f64,
    /// μ_e of a potentiostatic drive, in kT.
    pub mu_e: f64,
    pub soc_target: Option<f64>,
    pub cutoff_voltage_v: Option<f64>,
}

/// Everything a backend needs, in model units.
#[derive(Debug, Clone)]
pub struct Problem {
    pub grid: Grid,
    pub units: Units,
    pub time: TimeSettings,
    /// Materials in config (alphabetical) order; empty for the double well.
    pub materials: Vec<Material>,
    /// φ_m, the sharp labels and the c-axis; `None` for the double well.
    pub microstructure: Option<Microstructure>,
    pub chemistry: Chemistry,
    pub mechanics: Option<Mechanics>,
    pub drive: Option<Drive>,
    /// c at t = 0.
    pub initial_c: Vec<f64>,
    /// The sharpest flat interface the free energies support, if any (for width and energy).
    pub interface: Option<FlatInterface>,
    /// Total sites Σ ψ ΔṼ (model units): the capacity.
    pub capacity: f64,
}

impl Problem {
    /// Builds the scaled problem from a validated config (images relative to the working folder).
    pub fn new(config: &Config) -> Result<Problem> {
        Self::build(config, Path::new("."), false)
    }

    /// Builds the buffered problem, or its `[pristine]` twin; `config_dir` resolves image paths.
    pub fn build(config: &Config, config_dir: &Path, pristine: bool) -> Result<Problem> {
        let n3 = {
            let n = &config.grid.n;
            [
                n[0] as usize,
                n[1] as usize,
                if n.len() == 3 { n[2] as usize } else { 1 },
            ]
        };
        let dimensionless = config.free_energy.is_dimensionless();
        let lengths = if dimensionless {
            config.grid.length.clone()
        } else {
            config.grid.length_nm.clone()
        }
        .ok_or_else(|| {
            Error::invalid(
                "grid.length",
                "(missing)",
                "the box size is needed",
                "add it",
            )
        })?;
        let d = if n3[2] == 1 { 2 } else { 3 };
        let mut h_config = [1.0; 3];
        for a in 0..d {
            h_config[a] = lengths[a] / n3[a] as f64;
        }
        if d == 2 {
            h_config[2] = h_config[0].min(h_config[1]);
        }
        let ell = h_config[..d].iter().cloned().fold(f64::INFINITY, f64::min);
        let grid = Grid {
            n: n3,
            spacing: h_config.map(|h| h / ell),
        };
        let t = &config.time;
        let ch = &config.cahn_hilliard;

        let (units, materials, micro, chemistry, mechanics, drive, capacity) = match &config
            .free_energy
        {
            FreeEnergyConfig::DoubleWell {
                rho,
                c_alpha,
                c_beta,
            } => {
                let m = ch.mobility.unwrap_or(1.0);
                let fe = FreeEnergy::DoubleWell {
                    rho: *rho,
                    a: *c_alpha,
                    b: *c_beta,
                };
                let s = ch.stabilization_s.unwrap_or_else(|| 0.5 * fe.max_d2());
                let chemistry = Chemistry {
                    components: vec![Component {
                        material: None,
                        free_energy: fe,
                        psi: None,
                    }],
                    psi: None,
                    psi_floor: 0.0,
                    flux: None,
                    mobility: Mobility::Constant,
                    nearest_solid: None,
                    mobility_max: 1.0,
                    kappa: ch.kappa.unwrap_or(0.0) / (ell * ell),
                    stabilization: ch.stabilization.unwrap_or(1.0),
                    stabilization_s: s,
                    faces: None,
                };
                let units = Units {
                    dimensionless: true,
                    length: ell,
                    time: ell * ell / m,
                    energy: ell.powi(d as i32),
                    energy_unit: "1",
                    time_unit: "1",
                    kt_ev: 1.0,
                    stress_pa: 1.0,
                    ions_mol: ell.powi(d as i32),
                };
                (
                    units,
                    Vec::new(),
                    None,
                    chemistry,
                    None,
                    None,
                    grid.len() as f64 * grid.voxel_volume(),
                )
            }
            FreeEnergyConfig::RegularSolution {} => {
                let kt_ev = KB_EV * config.temperature_k;
                let mut materials: Vec<Material> = config
                    .materials
                    .iter()
                    .map(|(name, m)| Material::new(name, m, kt_ev))
                    .collect();
                let micro = microstructure::build(config, &grid, h_config, pristine, config_dir)?;
                build_physical(config, &grid, ell, d, kt_ev, &mut materials, micro)?
            }
        };
        let time = TimeSettings {
            end: t.end / units.time,
            dt_max: t.dt_max / units.time,
            dt_initial: t.dt_initial.unwrap_or(t.dt_max / 1000.0) / units.time,
            adaptive: t.adaptive,
            max_dc: t.max_dc,
            growth: t.growth,
            shrink: t.shrink,
        };
        let interface = chemistry
            .components
            .iter()
            .flat_map(|c| c.free_energy.interfaces())
            .max_by(|a, b| a.barrier.total_cmp(&b.barrier));
        let initial_c = initial_field(&grid, &config.initial, h_config);
        Ok(Problem {
            grid,
            units,
            time,
            materials,
            microstructure: micro,
            chemistry,
            mechanics,
            drive,
            initial_c,
            interface,
            capacity,
        })
    }

    /// Interface width in voxels (along the finest axis), if a free energy has a gap.
    pub fn interface_width_voxels(&self) -> Option<f64> {
        self.interface
            .as_ref()
            .map(|i| i.width(self.chemistry.kappa))
    }

    /// Largest f'' the explicit part sees (chemistry over the working ranges, plus elasticity).
    pub fn max_d2(&self) -> f64 {
        self.chemistry
            .components
            .iter()
            .map(|c| c.free_energy.max_d2())
            .fold(0.0, f64::max)
    }

    /// Explicit-Euler stability limit of the same equation, in model time: the semi-implicit
    /// scheme runs far beyond it; this is the scale it beats.
    pub fn explicit_dt_limit(&self) -> f64 {
        let k2 = self.grid.k2_max();
        let m = self.chemistry.mobility_max;
        let lmax = m * (self.chemistry.kappa * k2 * k2 + self.max_d2() * k2);
        2.0 / lmax
    }

    /// Whether S covers half of max f'', which makes the scheme stable for any dt at constant
    /// mobility (and, with A ≥ 1/2, for variable mobility; Zhu et al. 1999).
    pub fn unconditionally_stable(&self) -> bool {
        self.chemistry.stabilization >= 0.5
            && self.chemistry.stabilization_s >= 0.5 * self.max_d2() - 1e-12
    }

    /// Names of the materials, in order.
    pub fn material_names(&self) -> Vec<&str> {
        self.materials.iter().map(|m| m.name.as_str()).collect()
    }
}

type Physical = (
    Units,
    Vec<Material>,
    Option<Microstructure>,
    Chemistry,
    Option<Mechanics>,
    Option<Drive>,
    f64,
);

/// The regular-solution problem: site densities, mobilities, faces, mechanics
/// and drive from the materials and the microstructure.
fn build_physical(
    config: &Config,
    grid: &Grid,
    ell: f64,
    d: usize,
    kt_ev: f64,
    materials: &mut [Material],
    micro: Microstructure,
) -> Result<Physical> {
    let n = grid.len();
    let ch = &config.cahn_hilliard;
    let sites: Vec<usize> = (0..materials.len())
        .filter(|&m| materials[m].has_sites())
        .collect();
    let n_ref = sites
        .iter()
        .map(|&m| materials[m].site_density)
        .fold(0.0, f64::max);
    let n_min = sites
        .iter()
        .map(|&m| materials[m].site_density)
        .fold(f64::INFINITY, f64::min);
    let band = config.interface_band.as_ref();
    let d_int = band.map_or(0.0, |b| b.diffusivity_cm2_s * CM2_S);
    let d_ref = sites
        .iter()
        .map(|&m| materials[m].diffusivity)
        .fold(d_int, f64::max);
    let ell_m = ell * NM;
    let kt_j = kt_ev * E_CHARGE;
    let density_scale = n_ref * N_A * kt_j; // Pa = J/m³ per kT per reference site
    let depth_m3 = if d == 2 {
        ell_m * ell_m * NM
    } else {
        ell_m.powi(3)
    };
    let uniform = sites.len() == 1 && micro.phi[sites[0]].iter().all(|&v| v == 1.0);

    // Site fractions per material and in total.
    let mut components = Vec::new();
    let mut psi = vec![0.0; n];
    for &m in &sites {
        let scale = materials[m].site_density / n_ref;
        let psi_m: Vec<f64> = micro.phi[m].iter().map(|&f| f * scale).collect();
        for (p, v) in psi.iter_mut().zip(&psi_m) {
            *p += v;
        }
        components.push(Component {
            material: Some(m),
            free_energy: materials[m]
                .free_energy
                .clone()
                .expect("materials with sites carry a free energy"),
            psi: if uniform { None } else { Some(psi_m) },
        });
    }
    let psi_floor = SOLID_FRACTION * n_min / n_ref;

    // Every voxel solid with the same site density (hosts of equal n, no pores): the constant-
    // coefficient filter is exact there, so the fast uniform path applies.
    let uniform_psi = psi.iter().all(|&p| (p - 1.0).abs() < 1e-12);

    // Flux prefactor ψ d(x), raised (never lowered) in the interface band.
    let mut flux = vec![0.0; n];
    for &m in &sites {
        let w = materials[m].site_density / n_ref * materials[m].diffusivity / d_ref;
        for (f, &phi) in flux.iter_mut().zip(&micro.phi[m]) {
            *f += phi * w;
        }
    }
    let mut band_used = false;
    if let Some(b) = band {
        let ia = materials
            .iter()
            .position(|m| m.name == b.materials[0])
            .unwrap_or(0);
        let ib = materials
            .iter()
            .position(|m| m.name == b.materials[1])
            .unwrap_or(0);
        for i in 0..n {
            if micro.phi[ia][i] * micro.phi[ib][i] > b.threshold {
                flux[i] = flux[i].max(psi[i] * d_int / d_ref);
                band_used = true;
            }
        }
    }
    // Pores hold no ions, so no face touching one carries any: the harmonic face mean is then
    // 0 there. Traces of a fast host in a pore voxel (hard carbon's ψ d below the solid floor)
    // otherwise moved ions pore to pore, into whichever solid voxel was nearest, however few
    // sites it had (model.md §8).
    for (f, &p) in flux.iter_mut().zip(&psi) {
        if p < psi_floor {
            *f = 0.0;
        }
    }
    // The spectral step's m_max: ¼ (the largest c(1 − c)) of the largest d present. Only
    // materials in this cell count: a pristine twin may drop one.
    let d_max = sites
        .iter()
        .filter(|&&m| micro.phi[m].iter().any(|&p| p > 0.0))
        .map(|&m| materials[m].diffusivity / d_ref)
        .chain(band_used.then_some(d_int / d_ref))
        .fold(0.0, f64::max);
    let mobility_max = 0.25 * if d_max > 0.0 { d_max } else { 1.0 };

    // Gradient energy per site: from kappa_j_m (per volume of the densest host), or a width.
    let kappa = match (ch.kappa_j_m, ch.interface_width_nm) {
        (Some(k), _) => k / (density_scale * ell_m * ell_m),
        (None, Some(w)) => {
            let strongest = components
                .iter()
                .flat_map(|c| c.free_energy.interfaces())
                .max_by(|a, b| a.barrier.total_cmp(&b.barrier))
                .ok_or_else(|| {
                    Error::invalid(
                        "cahn_hilliard.interface_width_nm",
                        w,
                        &format!("no material has a miscibility gap (omega_ev > 2kT = {:.4} eV), so there is no interface to size", 2.0 * kt_ev),
                        "give kappa_j_m instead",
                    )
                })?;
            strongest.kappa_for_width(w / ell)
        }
        (None, None) => 0.0,
    };

    // Electrolyte default stiffness: 1e-3 of the softest solid (model.md §2).
    let softest = materials
        .iter()
        .filter(|m| !m.electrolyte)
        .map(|m| m.young.min(m.young_full))
        .fold(f64::INFINITY, f64::min);
    for (m, cfg) in materials.iter_mut().zip(config.materials.values()) {
        if m.electrolyte && cfg.young_modulus_gpa.is_none() && softest.is_finite() {
            m.young = 1e-3 * softest;
            m.young_full = m.young;
        }
    }
    let mechanics = config.mechanics.as_ref().map(|mc| {
        let mats = materials
            .iter()
            .map(|m| {
                let (l0, m0) = lame(m.young, m.poisson);
                let (l1, m1) = lame(m.young_full, m.poisson);
                MechMaterial {
                    lambda0: l0 / density_scale,
                    mu0: m0 / density_scale,
                    dlambda: (l1 - l0) / density_scale,
                    dmu: (m1 - m0) / density_scale,
                    expansion: m.expansion,
                    c_ref: m.c_ref,
                    plastic: m.yield_stress.map(|(y0, y1)| MechPlastic {
                        yield0: y0 / density_scale,
                        dyield: (y1 - y0) / density_scale,
                        hardening: m.hardening / density_scale,
                    }),
                }
            })
            .collect::<Vec<_>>();
        Mechanics {
            boundary: mc.boundary,
            solver: mc.solver,
            tolerance: mc.tolerance,
            max_iterations: mc.max_iterations,
            out_of_plane: mc.out_of_plane,
            mixing: mc.mixing,
            anisotropic: mats.iter().any(|m| !m.expansion.is_isotropic()),
            overstress: mc.overstress_gpa * 1e9 / density_scale,
            stress_coupling: mc.stress_coupling,
            electrolyte: materials.iter().position(|m| m.electrolyte),
            materials: mats,
        }
    });

    // Default S: half the largest f'' of any host over its working range, plus the elastic
    // self-stiffness E β²/(1−ν) per site where mechanics couples (model.md §8).
    let mut s_default = components
        .iter()
        .map(|c| c.free_energy.max_d2())
        .fold(0.0, f64::max);
    if mechanics.is_some() {
        for &m in &sites {
            let mat = &materials[m];
            let b = mat.expansion.largest();
            let stiff = mat.young.max(mat.young_full) * b * b
                / (1.0 - mat.poisson)
                / (mat.site_density * N_A * kt_j);
            let f2 = mat.free_energy.as_ref().map_or(0.0, FreeEnergy::max_d2);
            s_default = s_default.max(f2 + stiff);
        }
    }
    // The convex-splitting step runs wherever the site density or the diffusivity varies
    // (pores, hosts of different n or D); hosts of one n and one D filling the cell keep the
    // spectral step, whose constant-coefficient filter is exact there (model.md §8).
    let uniform_flux = flux
        .iter()
        .all(|&f| (f - flux[0]).abs() <= 1e-12 * flux[0].abs());
    let faces = (!(uniform_psi && uniform_flux))
        .then(|| Faces::new(grid, &psi, psi_floor, (!uniform).then_some(flux.as_slice())));
    let chemistry = Chemistry {
        components,
        psi: if uniform_psi { None } else { Some(psi.clone()) },
        psi_floor,
        flux: if uniform { None } else { Some(flux) },
        mobility: Mobility::SiteBlocking,
        nearest_solid: if uniform_psi {
            None
        } else {
            Some(nearest_solid(grid, &psi, psi_floor))
        },
        mobility_max,
        kappa,
        stabilization: ch.stabilization.unwrap_or(1.0),
        stabilization_s: ch.stabilization_s.unwrap_or(0.5 * s_default),
        faces,
    };
    let capacity: f64 = if uniform_psi {
        n as f64
    } else {
        // Ions live on solid voxels only (model.md §8): the capacity counts those sites.
        psi.iter().filter(|&&p| p >= psi_floor).sum::<f64>()
    } * grid.voxel_volume();

    let tau = ell_m * ell_m / d_ref;
    let drive = config.drive.as_ref().map(|dc| {
        let e = materials.iter().position(|m| m.electrolyte).unwrap_or(0);
        let grad = spectral_gradient(grid, &micro.phi[e]);
        // s(x) = h |∇φ_electrolyte| on solid voxels (h = 1 model length).
        let rate: Vec<f64> = (0..n)
            .map(|i| {
                if psi[i] < psi_floor {
                    0.0
                } else {
                    let g2 = grad[0][i].powi(2) + grad[1][i].powi(2) + grad[2][i].powi(2);
                    dc.rate_constant_per_s * tau * g2.sqrt()
                }
            })
            .collect();
        let sign = if dc.direction == Direction::Insertion {
            1.0
        } else {
            -1.0
        };
        Drive {
            mode: dc.mode,
            direction: dc.direction,
            rate,
            exchange: dc.exchange_current,
            current: sign * dc.c_rate.unwrap_or(0.0) * capacity * tau / 3600.0,
            mu_e: -dc.voltage_v.unwrap_or(0.0) / kt_ev,
            soc_target: dc.soc_target,
            cutoff_voltage_v: dc.cutoff_voltage_v,
        }
    });
    let units = Units {
        dimensionless: false,
        length: ell,
        time: tau,
        energy: n_ref * N_A * kt_ev * depth_m3,
        energy_unit: if d == 2 { "eV/nm" } else { "eV" },
        time_unit: "s",
        kt_ev,
        stress_pa: density_scale,
        ions_mol: n_ref * depth_m3,
    };
    Ok((
        units,
        materials.to_vec(),
        Some(micro),
        chemistry,
        mechanics,
        drive,
        capacity,
    ))
}

/// For every voxel the nearest voxel with ψ ≥ floor, by breadth-first search over face
/// neighbours on the periodic grid (itself when solid).
fn nearest_solid(grid: &Grid, psi: &[f64], floor: f64) -> Vec<u32> {
    let n = grid.len();
    let mut nearest = vec![u32::MAX; n];
    let mut queue = std::collections::VecDeque::new();
    for (i, &p) in psi.iter().enumerate() {
        if p >= floor {
            nearest[i] = i as u32;
            queue.push_back(i);
        }
    }
    let [nx, ny, nz] = grid.n;
    while let Some(i) = queue.pop_front() {
        let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
        let mut visit = |j: usize| {
            if nearest[j] == u32::MAX {
                nearest[j] = nearest[i];
                queue.push_back(j);
            }
        };
        visit(grid.index((x + 1) % nx, y, z));
        visit(grid.index((x + nx - 1) % nx, y, z));
        visit(grid.index(x, (y + 1) % ny, z));
        visit(grid.index(x, (y + ny - 1) % ny, z));
        if nz > 1 {
            visit(grid.index(x, y, (z + 1) % nz));
            visit(grid.index(x, y, (z + nz - 1) % nz));
        }
    }
    nearest
}

/// ∇f by FFT (model length units), x, y, z components (z zero in 2-D).
pub fn spectral_gradient(grid: &Grid, f: &[f64]) -> [Vec<f64>; 3] {
    use crate::backend::cpu::fft::Fft;
    use rustfft::num_complex::Complex64;
    let mut fft = Fft::new(grid.n);
    let sp = fft.spectrum;
    let mut hat = vec![Complex64::default(); sp.len()];
    fft.forward(f, &mut hat);
    let mut out = [vec![0.0; f.len()], vec![0.0; f.len()], vec![0.0; f.len()]];
    for (a, o) in out.iter_mut().enumerate().take(grid.dim()) {
        let mut g = hat.clone();
        for kx in 0..sp.nxh {
            for ky in 0..grid.n[1] {
                for kz in 0..grid.n[2] {
                    let k = grid.derivative_wavenumber(a, [kx, ky, kz][a]);
                    let v = &mut g[sp.index(kx, ky, kz)];
                    *v = Complex64::new(-k * v.im, k * v.re);
                }
            }
        }
        fft.inverse(&mut g, o);
    }
    out
}
