//! `Problem`: the validated config turned into scaled numbers, built once per run.
//!
//! Units are converted here and only here. The solver works in model units: lengths in
//! `ℓ` (the smallest voxel edge, so spacings are about 1), energies per site in kT (regular
//! solution) or the benchmark's unit (double well), time in `τ = ℓ² / M` or `τ = ℓ² / D_ref`.
//! In these units the equation is `∂c/∂t = ∇·(m(c) ∇μ)`, `μ = f'(c) − κ ∇²c` (model.md §4 with
//! uniform site density), so f32 on the GPU never sees 1e-19 m²/s. `Units` converts back.

use crate::config::{Config, FreeEnergyConfig};
use crate::error::{Error, Result};
use crate::free_energy::{FlatInterface, FreeEnergy, Segment};
use crate::grid::Grid;
use crate::initial::initial_field;
use crate::units::{CM2_S, E_CHARGE, KB_EV, N_A, NM, site_density_mol_m3};

/// The mobility's dependence on c, scaled by the largest diffusivity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mobility {
    /// m = 1 (PFHub benchmark 1).
    Constant,
    /// m = c (1 − c): an ion can only hop to an empty site (model.md §4).
    SiteBlocking,
}

impl Mobility {
    /// m(c), never negative even where c overshoots [0, 1] by round-off.
    #[inline]
    pub fn at(self, c: f64) -> f64 {
        match self {
            Mobility::Constant => 1.0,
            Mobility::SiteBlocking => (c * (1.0 - c)).max(0.0),
        }
    }

    /// Largest m over c in [0, 1], for the implicit operator.
    pub fn max(self) -> f64 {
        match self {
            Mobility::Constant => 1.0,
            Mobility::SiteBlocking => 0.25,
        }
    }
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
}

/// The one material of a regular-solution run, as derived numbers (for `check` and outputs).
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialInfo {
    pub name: String,
    pub source: Option<String>,
    /// Site density in mol/m³.
    pub site_density_mol_m3: f64,
    /// D in m²/s.
    pub diffusivity_m2_s: f64,
    /// κ in J/m.
    pub kappa_j_m: f64,
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

/// Everything a backend needs, in model units.
#[derive(Debug, Clone)]
pub struct Problem {
    pub grid: Grid,
    pub free_energy: FreeEnergy,
    /// κ per site in energy unit × ℓ².
    pub kappa: f64,
    pub mobility: Mobility,
    /// A in `A m_max (κ k⁴ + S k²)`.
    pub stabilization: f64,
    /// S in the same operator.
    pub stabilization_s: f64,
    /// c at t = 0.
    pub initial_c: Vec<f64>,
    pub units: Units,
    pub time: TimeSettings,
    pub material: Option<MaterialInfo>,
    /// The sharpest flat interface the free energy supports, if any (for width and energy).
    pub interface: Option<FlatInterface>,
}

impl Problem {
    /// Builds the scaled problem from a validated config.
    pub fn new(config: &Config) -> Result<Problem> {
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
        let mut h_config = [1.0; 3];
        for a in 0..3 {
            if n3[a] > 1 || a < 2 {
                h_config[a] = lengths[a] / n3[a] as f64;
            }
        }
        let d = if n3[2] == 1 { 2 } else { 3 };
        if n3[2] == 1 {
            h_config[2] = h_config[0].min(h_config[1]);
        }
        let ell = h_config[..d].iter().cloned().fold(f64::INFINITY, f64::min);
        let grid = Grid {
            n: n3,
            spacing: h_config.map(|h| h / ell),
        };

        let ch = &config.cahn_hilliard;
        let (free_energy, kappa, mobility, units, material) = match &config.free_energy {
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
                let units = Units {
                    dimensionless: true,
                    length: ell,
                    time: ell * ell / m,
                    energy: ell.powi(d as i32),
                    energy_unit: "1",
                    time_unit: "1",
                    kt_ev: 1.0,
                };
                (
                    fe,
                    ch.kappa.unwrap_or(0.0) / (ell * ell),
                    Mobility::Constant,
                    units,
                    None,
                )
            }
            FreeEnergyConfig::RegularSolution {} => {
                let (name, m) = config.materials.iter().next().ok_or_else(|| {
                    Error::invalid("materials", "(none)", "no material", "add one")
                })?;
                let kt_ev = KB_EV * config.temperature_k;
                let segments = if m.segments.is_empty() {
                    vec![Segment {
                        c_min: 0.0,
                        c_max: 1.0,
                        u0: m.u0_v.unwrap_or(0.0) / kt_ev,
                        omega: m.omega_ev.unwrap_or(0.0) / kt_ev,
                    }]
                } else {
                    m.segments
                        .iter()
                        .map(|s| Segment {
                            c_min: s.c_min,
                            c_max: s.c_max,
                            u0: s.u0_v / kt_ev,
                            omega: s.omega_ev / kt_ev,
                        })
                        .collect()
                };
                let fe = FreeEnergy::RegularSolution { segments };
                let n_mol = m.site_density_mol_m3.unwrap_or_else(|| {
                    site_density_mol_m3(
                        m.capacity_mah_g.unwrap_or(0.0),
                        m.density_g_cm3.unwrap_or(0.0),
                    )
                });
                let ell_m = ell * NM;
                // kT per m³ of sites: the energy density scale.
                let kt_density = n_mol * N_A * kt_ev * E_CHARGE;
                let kappa = match (ch.kappa_j_m, ch.interface_width_nm) {
                    (Some(k), _) => k / (kt_density * ell_m * ell_m),
                    (None, Some(w)) => {
                        let i = strongest_interface(&fe).ok_or_else(|| {
                            Error::invalid(
                                "cahn_hilliard.interface_width_nm",
                                w,
                                &format!("material {name} has no miscibility gap (omega_ev <= 2kT = {:.4} eV), so no interface to size", 2.0 * kt_ev),
                                "give kappa_j_m instead",
                            )
                        })?;
                        i.kappa_for_width(w / ell)
                    }
                    (None, None) => 0.0,
                };
                let d_m2_s = m.diffusivity_cm2_s * CM2_S;
                // 2-D totals are per nm of depth.
                let depth_m3 = if d == 2 {
                    ell_m * ell_m * NM
                } else {
                    ell_m.powi(3)
                };
                let units = Units {
                    dimensionless: false,
                    length: ell,
                    time: ell_m * ell_m / d_m2_s,
                    energy: n_mol * N_A * kt_ev * depth_m3,
                    energy_unit: if d == 2 { "eV/nm" } else { "eV" },
                    time_unit: "s",
                    kt_ev,
                };
                let info = MaterialInfo {
                    name: name.clone(),
                    source: m.source.clone(),
                    site_density_mol_m3: n_mol,
                    diffusivity_m2_s: d_m2_s,
                    kappa_j_m: kappa * kt_density * ell_m * ell_m,
                };
                (fe, kappa, Mobility::SiteBlocking, units, Some(info))
            }
        };

        let t = &config.time;
        let tau = units.time;
        let time = TimeSettings {
            end: t.end / tau,
            dt_max: t.dt_max / tau,
            dt_initial: t.dt_initial.unwrap_or(t.dt_max / 1000.0) / tau,
            adaptive: t.adaptive,
            max_dc: t.max_dc,
            growth: t.growth,
            shrink: t.shrink,
        };
        let interface = strongest_interface(&free_energy);
        let stabilization_s = ch
            .stabilization_s
            .unwrap_or_else(|| 0.5 * free_energy.max_d2());
        let initial_c = initial_field(&grid, &config.initial, h_config);
        Ok(Problem {
            grid,
            free_energy,
            kappa,
            mobility,
            stabilization: ch.stabilization.unwrap_or(1.0),
            stabilization_s,
            initial_c,
            units,
            time,
            material,
            interface,
        })
    }

    /// Interface width in voxels (along the finest axis), if the free energy has a gap.
    pub fn interface_width_voxels(&self) -> Option<f64> {
        self.interface.as_ref().map(|i| i.width(self.kappa))
    }

    /// Explicit-Euler stability limit of the same equation, in model time: the semi-implicit
    /// scheme runs far beyond it; this is the scale it beats.
    pub fn explicit_dt_limit(&self) -> f64 {
        let k2 = self.grid.k2_max();
        let lmax = self.mobility.max() * (self.kappa * k2 * k2 + self.free_energy.max_d2() * k2);
        2.0 / lmax
    }

    /// Whether S covers half of max|f''|, which makes the scheme stable for any dt at constant
    /// mobility (and, with A ≥ 1/2, for variable mobility; Zhu et al. 1999).
    pub fn unconditionally_stable(&self) -> bool {
        self.stabilization >= 0.5 && self.stabilization_s >= 0.5 * self.free_energy.max_d2() - 1e-12
    }
}

fn strongest_interface(fe: &FreeEnergy) -> Option<FlatInterface> {
    fe.interfaces()
        .into_iter()
        .max_by(|a, b| a.barrier.total_cmp(&b.barrier))
}
