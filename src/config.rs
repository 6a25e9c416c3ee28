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

use crate::error::{Error, Invalid, Result};
use crate::grid::nearest_powers_of_two;

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

/// `[materials.<name>]`: one host material (model.md §3, materials.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialConfig {
    /// Where the numbers come from (paper, derived, assumed): shown in `check` and kept in outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Ion diffusivity D in cm²/s. No default.
    pub diffusivity_cm2_s: f64,
    /// Specific capacity at c = 1 in mAh/g; with `density_g_cm3` gives the site density.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_mah_g: Option<f64>,
    /// Density of the as-made host in g/cm³.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_g_cm3: Option<f64>,
    /// Site density n in mol/m³, instead of capacity and density.
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
        let entry = here
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        here = entry
            .as_table_mut()
            .ok_or_else(|| err(&format!("'{part}' is a value, not a table")))?;
    }
    here.insert(last.to_string(), value);
    Ok(())
}

/// Collects problems instead of stopping at the first.
#[derive(Default)]
struct Problems(Vec<Invalid>);

impl Problems {
    fn push(&mut self, key: &str, value: impl std::fmt::Debug, reason: &str, fix: &str) {
        self.0.push(Invalid {
            key: key.into(),
            value: format!("{value:?}"),
            reason: reason.into(),
            fix: fix.into(),
        });
    }

    /// A finite number greater than zero.
    fn positive(&mut self, key: &str, v: f64, fix: &str) -> bool {
        if !v.is_finite() {
            self.push(key, v, "not a finite number", fix);
            false
        } else if v <= 0.0 {
            self.push(key, v, "must be greater than zero", fix);
            false
        } else {
            true
        }
    }

    fn finite(&mut self, key: &str, v: f64, fix: &str) -> bool {
        if v.is_finite() {
            true
        } else {
            self.push(key, v, "not a finite number", fix);
            false
        }
    }

    fn unused(&mut self, key: &str, present: bool, kind: &str, fix: &str) {
        if present {
            self.0.push(Invalid {
                key: key.into(),
                value: "(given)".into(),
                reason: format!("not used by {kind} configs"),
                fix: fix.into(),
            });
        }
    }
}

impl Config {
    /// Checks everything a backend would trip on and reports every problem at once.
    pub fn validate(&self) -> Result<()> {
        let mut p = Problems::default();
        let dimensionless = self.free_energy.is_dimensionless();
        p.positive(
            "temperature_k",
            self.temperature_k,
            "give the temperature in kelvin, e.g. 298",
        );
        self.validate_grid(&mut p, dimensionless);
        self.validate_free_energy(&mut p, dimensionless);
        self.validate_cahn_hilliard(&mut p, dimensionless);
        self.validate_initial(&mut p, dimensionless);
        self.validate_time(&mut p);
        self.validate_output(&mut p);
        if p.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(p.0))
        }
    }

    fn validate_grid(&self, p: &mut Problems, dimensionless: bool) {
        let n = &self.grid.n;
        if n.len() != 2 && n.len() != 3 {
            p.push(
                "grid.n",
                n,
                "needs 2 (2-D) or 3 (3-D) voxel counts",
                "write e.g. n = [256, 256]",
            );
            return;
        }
        for (axis, &v) in n.iter().enumerate() {
            let key = format!("grid.n[{axis}]");
            let may_be_one = axis == 2;
            if v <= 0 {
                p.push(
                    &key,
                    v,
                    "a voxel count must be positive",
                    "use a power of two such as 64, 128 or 256",
                );
            } else if v == 1 && may_be_one {
                // nz = 1 is 2-D.
            } else if v < 4 {
                p.push(
                    &key,
                    v,
                    "at least 4 voxels are needed per axis",
                    "use 4 or more (a power of two), or nz = 1 for 2-D",
                );
            } else if !(v as u64).is_power_of_two() {
                let (below, above) = nearest_powers_of_two(v as usize);
                p.push(
                    &key,
                    v,
                    "the FFT needs a power of two",
                    &format!("use {below} or {above} and set the lengths to keep the voxel size"),
                );
            }
        }
        let (given, other, unit) = if dimensionless {
            (&self.grid.length, &self.grid.length_nm, "length")
        } else {
            (&self.grid.length_nm, &self.grid.length, "length_nm")
        };
        let other_key = if dimensionless {
            "grid.length_nm"
        } else {
            "grid.length"
        };
        p.unused(
            other_key,
            other.is_some(),
            if dimensionless {
                "double-well (dimensionless)"
            } else {
                "regular-solution (physical)"
            },
            &format!("use grid.{unit}"),
        );
        match given {
            None => p.push(
                &format!("grid.{unit}"),
                "(missing)",
                "the box size is needed",
                &format!("add {unit} = [..] with one edge length per entry of n"),
            ),
            Some(lengths) => {
                if lengths.len() != n.len() && !(n.len() == 3 && lengths.len() == 2 && n[2] == 1) {
                    p.push(
                        &format!("grid.{unit}"),
                        lengths,
                        &format!("needs one length per entry of n ({})", n.len()),
                        "give as many lengths as voxel counts",
                    );
                }
                for (axis, &l) in lengths.iter().enumerate() {
                    p.positive(
                        &format!("grid.{unit}[{axis}]"),
                        l,
                        "give a positive edge length",
                    );
                }
            }
        }
    }

    fn validate_free_energy(&self, p: &mut Problems, dimensionless: bool) {
        if let FreeEnergyConfig::DoubleWell {
            rho,
            c_alpha,
            c_beta,
        } = self.free_energy
        {
            p.positive("free_energy.rho", rho, "PFHub 1 uses rho = 5");
            let a = p.finite("free_energy.c_alpha", c_alpha, "PFHub 1 uses 0.3");
            let b = p.finite("free_energy.c_beta", c_beta, "PFHub 1 uses 0.7");
            if a && b && c_alpha >= c_beta {
                p.push(
                    "free_energy.c_alpha",
                    c_alpha,
                    "must be below c_beta",
                    "swap them",
                );
            }
        }
        if dimensionless {
            p.unused(
                "materials",
                !self.materials.is_empty(),
                "double-well",
                "remove [materials.*] or set free_energy.kind = \"regular_solution\"",
            );
            return;
        }
        if self.materials.is_empty() {
            p.push(
                "materials",
                "(none)",
                "a regular-solution config needs a material",
                "add a [materials.<name>] table (see configs/)",
            );
        }
        if self.materials.len() > 1 {
            p.push(
                "materials",
                self.materials.keys().collect::<Vec<_>>(),
                "several materials need a [microstructure] to place them, which this version does not read yet",
                "keep one material",
            );
        }
        for (name, m) in &self.materials {
            let key = |k: &str| format!("materials.{name}.{k}");
            p.positive(
                &key("diffusivity_cm2_s"),
                m.diffusivity_cm2_s,
                "give D in cm^2/s, e.g. 1e-12",
            );
            let have_density = m.capacity_mah_g.is_some() && m.density_g_cm3.is_some();
            let any_density = m.capacity_mah_g.is_some() || m.density_g_cm3.is_some();
            let n_given = m.site_density_mol_m3.is_some();
            if (n_given && any_density) || (!n_given && !have_density) {
                p.push(
                    &key("site_density_mol_m3"),
                    m.site_density_mol_m3,
                    "give either site_density_mol_m3 or both capacity_mah_g and density_g_cm3",
                    "see materials.md §1 for n = Q·3.6·rho·1e6/F",
                );
            }
            for (k, v) in [
                ("capacity_mah_g", m.capacity_mah_g),
                ("density_g_cm3", m.density_g_cm3),
                ("site_density_mol_m3", m.site_density_mol_m3),
            ] {
                if let Some(v) = v {
                    p.positive(&key(k), v, "give a positive value");
                }
            }
            let single = m.u0_v.is_some() || m.omega_ev.is_some();
            if single && !m.segments.is_empty() {
                p.push(
                    &key("segments"),
                    m.segments.len(),
                    "given together with u0_v/omega_ev",
                    "use either u0_v and omega_ev, or segments",
                );
            } else if !single && m.segments.is_empty() {
                p.push(
                    &key("u0_v"),
                    "(missing)",
                    "the free energy needs U0 and Omega",
                    "add u0_v and omega_ev, or [[segments]]",
                );
            } else if single {
                match (m.u0_v, m.omega_ev) {
                    (Some(u), Some(o)) => {
                        p.finite(&key("u0_v"), u, "give U0 in volts");
                        p.finite(&key("omega_ev"), o, "give Omega in eV");
                    }
                    _ => p.push(
                        &key("u0_v"),
                        (m.u0_v, m.omega_ev),
                        "u0_v and omega_ev go together",
                        "give both",
                    ),
                }
            } else {
                let mut expect = 0.0;
                for (i, s) in m.segments.iter().enumerate() {
                    let sk = |k: &str| format!("materials.{name}.segments[{i}].{k}");
                    p.finite(&sk("u0_v"), s.u0_v, "give U0 in volts");
                    p.finite(&sk("omega_ev"), s.omega_ev, "give Omega in eV");
                    if !(s.c_min.is_finite() && s.c_max.is_finite()) || s.c_min >= s.c_max {
                        p.push(
                            &sk("c_min"),
                            (s.c_min, s.c_max),
                            "needs c_min < c_max",
                            "give an increasing range",
                        );
                    } else if (s.c_min - expect).abs() > 1e-12 {
                        p.push(
                            &sk("c_min"),
                            s.c_min,
                            &format!("segments must be contiguous from 0; expected {expect}"),
                            "start each segment where the previous one ends",
                        );
                    }
                    expect = s.c_max;
                }
                if (expect - 1.0).abs() > 1e-12 {
                    p.push(
                        &key("segments"),
                        expect,
                        "the last segment must end at c = 1",
                        "set its c_max = 1",
                    );
                }
            }
        }
    }

    fn validate_cahn_hilliard(&self, p: &mut Problems, dimensionless: bool) {
        let ch = &self.cahn_hilliard;
        if dimensionless {
            for (k, v) in [("kappa", ch.kappa), ("mobility", ch.mobility)] {
                match v {
                    Some(v) => {
                        p.positive(
                            &format!("cahn_hilliard.{k}"),
                            v,
                            "PFHub 1 uses kappa = 2, mobility = 5",
                        );
                    }
                    None => p.push(
                        &format!("cahn_hilliard.{k}"),
                        "(missing)",
                        "double-well configs need it",
                        "PFHub 1 uses kappa = 2, mobility = 5",
                    ),
                }
            }
            p.unused(
                "cahn_hilliard.kappa_j_m",
                ch.kappa_j_m.is_some(),
                "double-well",
                "use cahn_hilliard.kappa",
            );
            p.unused(
                "cahn_hilliard.interface_width_nm",
                ch.interface_width_nm.is_some(),
                "double-well",
                "use cahn_hilliard.kappa",
            );
        } else {
            p.unused(
                "cahn_hilliard.kappa",
                ch.kappa.is_some(),
                "regular-solution",
                "use kappa_j_m or interface_width_nm",
            );
            p.unused(
                "cahn_hilliard.mobility",
                ch.mobility.is_some(),
                "regular-solution",
                "mobility comes from each material's diffusivity_cm2_s",
            );
            match (ch.kappa_j_m, ch.interface_width_nm) {
                (Some(k), None) => {
                    p.positive(
                        "cahn_hilliard.kappa_j_m",
                        k,
                        "give kappa in J/m, e.g. 1e-10",
                    );
                }
                (None, Some(w)) => {
                    p.positive(
                        "cahn_hilliard.interface_width_nm",
                        w,
                        "give the width in nm, 3-4 voxels",
                    );
                }
                (Some(_), Some(_)) => p.push(
                    "cahn_hilliard.kappa_j_m",
                    "(given with interface_width_nm)",
                    "one of them sets the other",
                    "keep one",
                ),
                (None, None) => p.push(
                    "cahn_hilliard.interface_width_nm",
                    "(missing)",
                    "the gradient energy is needed",
                    "add interface_width_nm (3-4 voxels) or kappa_j_m",
                ),
            }
        }
        if let Some(a) = ch.stabilization
            && (!a.is_finite() || a < 0.0)
        {
            p.push(
                "cahn_hilliard.stabilization",
                a,
                "must be a finite number >= 0",
                "the default 1 is stable",
            );
        }
        if let Some(s) = ch.stabilization_s
            && (!s.is_finite() || s < 0.0)
        {
            p.push(
                "cahn_hilliard.stabilization_s",
                s,
                "must be a finite number >= 0",
                "leave it out for the automatic value",
            );
        }
    }

    fn validate_initial(&self, p: &mut Problems, dimensionless: bool) {
        let c0 = match &self.initial {
            InitialConfig::Uniform { c0, noise, .. } => {
                if !noise.is_finite() || *noise < 0.0 {
                    p.push(
                        "initial.noise",
                        noise,
                        "must be a finite number >= 0",
                        "e.g. 0.01",
                    );
                }
                *c0
            }
            InitialConfig::Pfhub1a { c0, epsilon } => {
                p.finite("initial.epsilon", *epsilon, "PFHub 1a uses 0.01");
                *c0
            }
            InitialConfig::Modes { c0, modes } => {
                for (i, m) in modes.iter().enumerate() {
                    if m.iter().any(|v| !v.is_finite()) || m[1..].iter().any(|v| v.fract() != 0.0) {
                        p.push(
                            &format!("initial.modes[{i}]"),
                            m,
                            "needs a finite amplitude and integer wavenumbers",
                            "write [a, mx, my, mz]",
                        );
                    }
                }
                *c0
            }
        };
        if !c0.is_finite() {
            p.push(
                "initial.c0",
                c0,
                "not a finite number",
                "give the mean site fraction",
            );
        } else if !dimensionless && (c0 <= 0.0 || c0 >= 1.0) {
            p.push(
                "initial.c0",
                c0,
                "a site fraction must lie strictly between 0 and 1",
                "e.g. 0.5",
            );
        }
    }

    fn validate_time(&self, p: &mut Problems) {
        let t = &self.time;
        let end_ok = p.positive("time.end", t.end, "give the simulated end time");
        let dt_ok = p.positive(
            "time.dt_max",
            t.dt_max,
            "give the largest time step, e.g. end/1000",
        );
        if let Some(dt0) = t.dt_initial
            && p.positive("time.dt_initial", dt0, "leave it out for dt_max/1000")
            && dt_ok
            && dt0 > t.dt_max
        {
            p.push(
                "time.dt_initial",
                dt0,
                "larger than dt_max",
                "make it at most dt_max",
            );
        }
        if end_ok && dt_ok && t.dt_max > t.end {
            p.push(
                "time.dt_max",
                t.dt_max,
                "larger than time.end",
                "make it at most end",
            );
        }
        p.positive("time.max_dc", t.max_dc, "e.g. 0.01");
        if !t.growth.is_finite() || t.growth < 1.0 {
            p.push(
                "time.growth",
                t.growth,
                "must be a finite number >= 1",
                "e.g. 1.1",
            );
        }
        if !t.shrink.is_finite() || t.shrink <= 0.0 || t.shrink > 1.0 {
            p.push("time.shrink", t.shrink, "must lie in (0, 1]", "e.g. 0.5");
        }
    }

    fn validate_output(&self, p: &mut Problems) {
        let o = &self.output;
        for (i, &t) in o.times.iter().enumerate() {
            // Times past the end are dropped (so --set time.end=... shortens any run).
            if !t.is_finite() || t < 0.0 {
                p.push(
                    &format!("output.times[{i}]"),
                    t,
                    "must be a finite time >= 0",
                    "drop it",
                );
            }
        }
        if let Some(v) = o.interval {
            p.positive("output.interval", v, "give a positive interval");
        }
        if let Some(v) = o.log_start {
            p.positive(
                "output.log_start",
                v,
                "give the first log-spaced output time",
            );
        }
        if o.per_decade == Some(0) {
            p.push("output.per_decade", 0, "must be at least 1", "e.g. 10");
        }
        if o.every_steps == Some(0) {
            p.push("output.every_steps", 0, "must be at least 1", "e.g. 100");
        }
        if o.snapshot_every == 0 {
            p.push(
                "output.snapshot_every",
                0,
                "must be at least 1",
                "1 writes a snapshot at every output",
            );
        }
        if let Some([lo, hi]) = o.c_range
            && (!lo.is_finite() || !hi.is_finite() || lo >= hi)
        {
            p.push(
                "output.c_range",
                [lo, hi],
                "needs finite lo < hi",
                "e.g. [0, 1]",
            );
        }
    }
}
