//! `Config::validate()`: every value a backend would trip on, each problem with its key, the
//! value given and the fix, all reported at once.

use super::*;

/// The most time-series rows a run may ask for (`output.interval`, `per_decade`).
const MAX_OUTPUT_ROWS: f64 = 1e6;
use crate::error::{Error, Invalid, Result};
use crate::grid::nearest_powers_of_two;

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
        self.validate_structure(&mut p);
        self.validate_mechanics_and_drive(&mut p);
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
            let fix = "remove it or set free_energy.kind = \"regular_solution\"";
            p.unused("materials", !self.materials.is_empty(), "double-well", fix);
            p.unused(
                "microstructure",
                self.microstructure.is_some(),
                "double-well",
                fix,
            );
            p.unused("mechanics", self.mechanics.is_some(), "double-well", fix);
            p.unused("drive", self.drive.is_some(), "double-well", fix);
            p.unused(
                "interface_band",
                self.interface_band.is_some(),
                "double-well",
                fix,
            );
            return;
        }
        let with_sites: Vec<&String> = self
            .materials
            .iter()
            .filter(|(_, m)| m.has_sites())
            .map(|(n, _)| n)
            .collect();
        if with_sites.is_empty() {
            p.push(
                "materials",
                self.materials.keys().collect::<Vec<_>>(),
                "no material holds ion sites",
                "give a material capacity_mah_g and density_g_cm3 (or site_density_mol_m3)",
            );
        }
        if self.microstructure.is_none() && self.materials.len() > 1 {
            p.push(
                "materials",
                self.materials.keys().collect::<Vec<_>>(),
                "several materials need a [microstructure] to place them",
                "add [microstructure] (see docs/config.md), or keep one material",
            );
        }
        if self.materials.values().filter(|m| m.electrolyte).count() > 1 {
            p.push(
                "materials",
                "(several with electrolyte = true)",
                "one electrolyte is supported",
                "keep one",
            );
        }
        for (name, m) in &self.materials {
            self.validate_material(p, name, m);
        }
    }

    fn validate_material(&self, p: &mut Problems, name: &str, m: &MaterialConfig) {
        let key = |k: &str| format!("materials.{name}.{k}");
        for (k, v) in [
            ("capacity_mah_g", m.capacity_mah_g),
            ("density_g_cm3", m.density_g_cm3),
            ("site_density_mol_m3", m.site_density_mol_m3),
        ] {
            if let Some(v) = v
                && (!v.is_finite() || v < 0.0)
            {
                p.push(
                    &key(k),
                    v,
                    "must be a finite number >= 0",
                    "give a non-negative value",
                );
            }
        }
        if m.electrolyte {
            for (k, given) in [
                ("capacity_mah_g", m.capacity_mah_g.is_some()),
                ("site_density_mol_m3", m.site_density_mol_m3.is_some()),
                ("u0_v", m.u0_v.is_some()),
                ("segments", !m.segments.is_empty()),
            ] {
                if given {
                    p.push(
                        &key(k),
                        "(given)",
                        "the electrolyte holds no sites",
                        "remove it",
                    );
                }
            }
        }
        if m.has_sites() {
            match m.diffusivity_cm2_s {
                Some(d) => {
                    p.positive(&key("diffusivity_cm2_s"), d, "give D in cm^2/s, e.g. 1e-12");
                }
                None => p.push(
                    &key("diffusivity_cm2_s"),
                    "(missing)",
                    "a material with sites needs D",
                    "give D in cm^2/s",
                ),
            }
            let any_density = m.capacity_mah_g.is_some() || m.density_g_cm3.is_some();
            let have_density = m.capacity_mah_g.is_some() && m.density_g_cm3.is_some();
            if m.site_density_mol_m3.is_some() == any_density || (any_density && !have_density) {
                p.push(
                    &key("site_density_mol_m3"),
                    m.site_density_mol_m3,
                    "give either site_density_mol_m3 or both capacity_mah_g and density_g_cm3",
                    "see materials.md §1 for n = Q·3.6·rho·1e6/F",
                );
            }
            self.validate_segments(p, name, m);
        }
        if !(0.0..=1.0).contains(&m.c_ref) {
            p.push(
                &key("c_ref"),
                m.c_ref,
                "a site fraction lies in [0, 1]",
                "0 for anodes made empty, 1 for cathodes made full",
            );
        }
        if let Some(v) = m.volume_change {
            let beta = (1.0 + v).cbrt() - 1.0;
            if !v.is_finite() || v <= -1.0 {
                p.push(
                    &key("volume_change"),
                    v,
                    "must be a finite number above -1",
                    "give dV/V at c = 1, e.g. 4.2 for +420 %",
                );
            } else if beta.abs() >= 1.0 {
                p.push(
                    &key("volume_change"),
                    v,
                    &format!("gives a linear eigenstrain beta = {beta:.3}, 100 % or more, which linear elasticity cannot carry"),
                    "check the units (a fraction: 4.2 for +420 %); Sn's 4.2 gives beta = 0.73",
                );
            }
        }
        if let Some(e) = m.eigenstrain {
            if e.iter().any(|v| !v.is_finite() || v.abs() >= 1.0) {
                p.push(
                    &key("eigenstrain"),
                    e,
                    "each linear eigenstrain must be finite and below 100 % in size",
                    "linear elasticity cannot carry more; check the units (fractions, not %)",
                );
            } else if e[0] != e[1] {
                p.push(
                    &key("eigenstrain"),
                    e,
                    "only transversely isotropic eigenstrains [a, a, c] are supported",
                    "give equal a and b",
                );
            }
            if m.volume_change.is_some() {
                p.push(
                    &key("volume_change"),
                    "(given with eigenstrain)",
                    "one of them sets the eigenstrain",
                    "keep one",
                );
            }
        }
        if self.mechanics.is_some() {
            match m.young_modulus_gpa {
                Some(e) => {
                    p.positive(&key("young_modulus_gpa"), e, "give Young's modulus in GPa");
                }
                None if !m.electrolyte => p.push(
                    &key("young_modulus_gpa"),
                    "(missing)",
                    "[mechanics] needs every solid's stiffness",
                    "give young_modulus_gpa and poisson_ratio",
                ),
                None => {}
            }
            if let Some(e) = m.young_modulus_full_gpa {
                p.positive(
                    &key("young_modulus_full_gpa"),
                    e,
                    "give the modulus at c = 1 in GPa",
                );
            }
            self.validate_plasticity(p, name, m);
            match m.poisson_ratio {
                Some(nu) if !nu.is_finite() || nu <= -1.0 || nu >= 0.5 => p.push(
                    &key("poisson_ratio"),
                    nu,
                    "a Poisson ratio must lie in (-1, 0.5)",
                    "isotropic solids: typically 0.2-0.35",
                ),
                None if !m.electrolyte => p.push(
                    &key("poisson_ratio"),
                    "(missing)",
                    "[mechanics] needs every solid's Poisson ratio",
                    "give poisson_ratio",
                ),
                _ => {}
            }
        }
    }

    /// The J2 keys: positive yield stresses, a hardening modulus ≥ 0, none without a yield
    /// stress, none on the electrolyte.
    fn validate_plasticity(&self, p: &mut Problems, name: &str, m: &MaterialConfig) {
        let key = |k: &str| format!("materials.{name}.{k}");
        if m.electrolyte {
            if m.yield_stress_gpa.is_some() {
                p.push(
                    &key("yield_stress_gpa"),
                    m.yield_stress_gpa.unwrap_or_default(),
                    "the electrolyte is a soft pore filler and does not flow",
                    "remove it",
                );
            }
            return;
        }
        match m.yield_stress_gpa {
            Some(y) => {
                p.positive(&key("yield_stress_gpa"), y, "give the yield stress in GPa");
            }
            None if m.yield_stress_full_gpa.is_some() || m.hardening_gpa.is_some() => p.push(
                &key("yield_stress_gpa"),
                "(missing)",
                "yield_stress_full_gpa and hardening_gpa need the yield stress at c = 0",
                "give yield_stress_gpa, or remove them to keep the material elastic",
            ),
            None => {}
        }
        if m.yield_stress_gpa.is_some()
            && self
                .mechanics
                .as_ref()
                .is_some_and(|mc| mc.solver == SolverKind::FixedPoint)
        {
            p.push(
                "mechanics.solver",
                "fixed_point",
                &format!("materials.{name} flows (yield_stress_gpa), and the plastic solve is Newton on conjugate gradients"),
                "use solver = \"cg\" (the default)",
            );
        }
        if let Some(y) = m.yield_stress_full_gpa {
            p.positive(
                &key("yield_stress_full_gpa"),
                y,
                "give the yield stress at c = 1 in GPa",
            );
        }
        if let Some(h) = m.hardening_gpa
            && !(h.is_finite() && h >= 0.0)
        {
            p.push(
                &key("hardening_gpa"),
                h,
                "the hardening modulus must be finite and at least 0",
                "0 for perfect plasticity",
            );
        }
    }

    fn validate_segments(&self, p: &mut Problems, name: &str, m: &MaterialConfig) {
        let key = |k: &str| format!("materials.{name}.{k}");
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

    fn validate_structure(&self, p: &mut Problems) {
        let defined = |name: &str| self.materials.contains_key(name);
        let check_name = |p: &mut Problems, key: &str, name: &str| {
            if !defined(name) {
                p.push(
                    key,
                    name,
                    "names a material that is not defined",
                    &format!(
                        "define [materials.{name}] or use one of {:?}",
                        self.materials.keys().collect::<Vec<_>>()
                    ),
                );
            }
        };
        if let Some(ms) = &self.microstructure {
            check_name(p, "microstructure.matrix", &ms.matrix);
            if !ms.smoothing_voxels.is_finite() || ms.smoothing_voxels < 0.0 {
                p.push(
                    "microstructure.smoothing_voxels",
                    ms.smoothing_voxels,
                    "must be a finite number >= 0",
                    "1 gives boundaries about 2.6 voxels wide",
                );
            }
            if ms.c_axis.iter().any(|v| !v.is_finite()) || ms.c_axis.iter().all(|v| *v == 0.0) {
                p.push(
                    "microstructure.c_axis",
                    ms.c_axis,
                    "needs a finite, non-zero vector",
                    "e.g. [0, 0, 1]",
                );
            }
            self.validate_shapes(p, "microstructure.shapes", &ms.shapes, &check_name);
            if let Some(img) = &ms.image {
                let nz = if self.grid.n.len() == 3 {
                    self.grid.n[2].max(1) as usize
                } else {
                    1
                };
                if img.files.len() != nz {
                    p.push(
                        "microstructure.image.files",
                        img.files.len(),
                        &format!("needs one PNG per z slice ({nz})"),
                        "list one file per slice",
                    );
                }
                for (label, name) in &img.labels {
                    if label.parse::<u16>().is_err() {
                        p.push(
                            "microstructure.image.labels",
                            label,
                            "keys must be pixel values 0-65535",
                            "write e.g. \"255\" = \"sn\"",
                        );
                    }
                    check_name(p, &format!("microstructure.image.labels.\"{label}\""), name);
                }
            }
            // Every defined material should appear somewhere.
            let mut used: Vec<&str> = vec![ms.matrix.as_str()];
            for s in &ms.shapes {
                used.extend(s.materials());
            }
            if let Some(img) = &ms.image {
                used.extend(img.labels.values().map(String::as_str));
            }
            if let Some(pr) = &self.pristine {
                used.extend(pr.replace.values().map(String::as_str));
                used.extend(pr.matrix.iter().map(String::as_str));
                for s in pr.shapes.iter().flatten() {
                    used.extend(s.materials());
                }
            }
            for name in self.materials.keys() {
                if !used.contains(&name.as_str()) {
                    p.push(
                        &format!("materials.{name}"),
                        "(defined)",
                        "is not placed by [microstructure]",
                        "place it with a shape, or remove it",
                    );
                }
            }
        } else if self.pristine.is_some() {
            p.push(
                "pristine",
                "(given)",
                "needs a [microstructure] to differ from",
                "add [microstructure]",
            );
        }
        if let Some(pr) = &self.pristine {
            for (from, to) in &pr.replace {
                check_name(p, &format!("pristine.replace.{from}"), from);
                check_name(p, &format!("pristine.replace.{from}"), to);
            }
            if let Some(m) = &pr.matrix {
                check_name(p, "pristine.matrix", m);
            }
            if let Some(shapes) = &pr.shapes {
                self.validate_shapes(p, "pristine.shapes", shapes, &check_name);
            }
        }
        if let Some(b) = &self.interface_band {
            for m in &b.materials {
                check_name(p, "interface_band.materials", m);
            }
            if b.materials[0] == b.materials[1] {
                p.push(
                    "interface_band.materials",
                    &b.materials,
                    "needs two different materials",
                    "name the two solids that meet",
                );
            }
            p.positive(
                "interface_band.diffusivity_cm2_s",
                b.diffusivity_cm2_s,
                "give D_int in cm^2/s",
            );
            if !(b.threshold > 0.0 && b.threshold < 0.25) {
                p.push(
                    "interface_band.threshold",
                    b.threshold,
                    "phi_a phi_b lies in [0, 0.25], so the threshold must be inside (0, 0.25)",
                    "0.05 gives a band 2-3 voxels wide",
                );
            }
        }
    }

    fn validate_shapes(
        &self,
        p: &mut Problems,
        at: &str,
        shapes: &[ShapeConfig],
        check_name: &dyn Fn(&mut Problems, &str, &str),
    ) {
        for (i, shape) in shapes.iter().enumerate() {
            let key = |k: &str| format!("{at}[{i}].{k}");
            for name in shape.materials() {
                check_name(p, &key("material"), name);
            }
            let axis = |p: &mut Problems, a: &Option<AxisConfig>, k: &str| match a {
                Some(AxisConfig::Named(n)) if n != "radial" && n != "random" => p.push(
                    k,
                    n,
                    "an axis is a vector, \"radial\" or \"random\"",
                    "e.g. c_axis = [0, 0, 1]",
                ),
                Some(AxisConfig::Vector(v))
                    if v.iter().any(|x| !x.is_finite()) || v.iter().all(|x| *x == 0.0) =>
                {
                    p.push(k, v, "needs a finite, non-zero vector", "e.g. [0, 0, 1]")
                }
                _ => {}
            };
            match shape {
                ShapeConfig::Sphere {
                    radius_nm,
                    layers,
                    pores,
                    c_axis,
                    center_nm,
                    ..
                } => {
                    p.positive(&key("radius_nm"), *radius_nm, "give the core radius in nm");
                    if let Some(c) = center_nm
                        && (c.len() < 2 || c.len() > 3 || c.iter().any(|v| !v.is_finite()))
                    {
                        p.push(
                            &key("center_nm"),
                            c,
                            "needs 2 or 3 finite coordinates",
                            "e.g. [64.0, 64.0]",
                        );
                    }
                    self.validate_layers(p, &key(""), layers, pores);
                    axis(p, c_axis, &key("c_axis"));
                }
                ShapeConfig::Particles {
                    radius_nm,
                    radius_spread,
                    volume_fraction,
                    count,
                    min_gap_nm,
                    placement,
                    host,
                    layers,
                    pores,
                    c_axis,
                    ..
                } => {
                    p.positive(
                        &key("radius_nm"),
                        *radius_nm,
                        "give the mean core radius in nm",
                    );
                    if !(0.0..1.0).contains(radius_spread) {
                        p.push(
                            &key("radius_spread"),
                            radius_spread,
                            "must lie in [0, 1)",
                            "e.g. 0.2 for radii within ±20 %",
                        );
                    }
                    match (volume_fraction, count) {
                        (Some(f), None) => {
                            if !(*f > 0.0 && *f < 1.0) {
                                p.push(
                                    &key("volume_fraction"),
                                    f,
                                    "must lie in (0, 1)",
                                    "e.g. 0.3",
                                );
                            }
                        }
                        (None, Some(n)) => {
                            if *n == 0 {
                                p.push(
                                    &key("count"),
                                    n,
                                    "must be at least 1",
                                    "give a count or a volume_fraction",
                                );
                            }
                        }
                        _ => p.push(
                            &key("volume_fraction"),
                            (volume_fraction, count),
                            "give exactly one of volume_fraction and count",
                            "keep one",
                        ),
                    }
                    if !min_gap_nm.is_finite() || *min_gap_nm < 0.0 {
                        p.push(
                            &key("min_gap_nm"),
                            min_gap_nm,
                            "must be a finite number >= 0",
                            "e.g. 2",
                        );
                    }
                    if (*placement != Placement::Free) != host.is_some() {
                        p.push(
                            &key("host"),
                            host,
                            "embedded or attached placement needs a host, and only they do",
                            "give placement and host together",
                        );
                    }
                    self.validate_layers(p, &key(""), layers, pores);
                    axis(p, c_axis, &key("c_axis"));
                }
                ShapeConfig::Lenses {
                    thickness_nm,
                    diameter_nm,
                    volume_fraction,
                    ..
                } => {
                    p.positive(
                        &key("thickness_nm"),
                        *thickness_nm,
                        "give the lens thickness in nm",
                    );
                    p.positive(
                        &key("diameter_nm"),
                        *diameter_nm,
                        "give the lens diameter in nm",
                    );
                    if !(*volume_fraction > 0.0 && *volume_fraction < 1.0) {
                        p.push(
                            &key("volume_fraction"),
                            volume_fraction,
                            "must lie in (0, 1)",
                            "fraction of the host's volume, e.g. 0.26",
                        );
                    }
                }
                ShapeConfig::Lamellae {
                    thickness_nm,
                    period_nm,
                    ..
                } => {
                    p.positive(
                        &key("thickness_nm"),
                        *thickness_nm,
                        "give the lamella thickness in nm",
                    );
                    if p.positive(
                        &key("period_nm"),
                        *period_nm,
                        "give the stacking period in nm",
                    ) && *thickness_nm >= *period_nm
                    {
                        p.push(
                            &key("thickness_nm"),
                            thickness_nm,
                            "must be below period_nm",
                            "thinner lamellae or a longer period",
                        );
                    }
                }
            }
        }
    }

    fn validate_layers(
        &self,
        p: &mut Problems,
        at: &str,
        layers: &[LayerConfig],
        pores: &Option<PoresConfig>,
    ) {
        for (j, l) in layers.iter().enumerate() {
            p.positive(
                &format!("{at}layers[{j}].thickness_nm"),
                l.thickness_nm,
                "give the shell thickness in nm",
            );
        }
        if let Some(pores) = pores {
            p.positive(
                &format!("{at}pores.radius_nm"),
                pores.radius_nm,
                "give the pore radius in nm",
            );
            if !(pores.volume_fraction > 0.0 && pores.volume_fraction < 1.0) {
                p.push(
                    &format!("{at}pores.volume_fraction"),
                    pores.volume_fraction,
                    "must lie in (0, 1)",
                    "fraction of the core, e.g. 0.25",
                );
            }
        }
    }

    fn validate_mechanics_and_drive(&self, p: &mut Problems) {
        if let Some(m) = &self.mechanics {
            if !(m.tolerance > 0.0 && m.tolerance < 1.0) {
                p.push(
                    "mechanics.tolerance",
                    m.tolerance,
                    "must lie in (0, 1)",
                    "e.g. 1e-6",
                );
            }
            if !(m.overstress_gpa.is_finite() && m.overstress_gpa > 0.0) {
                p.push(
                    "mechanics.overstress_gpa",
                    m.overstress_gpa,
                    "must be a positive stress",
                    "e.g. 1.0 (GPa)",
                );
            }
            if m.mixing == crate::config::Mixing::Laminate && m.solver == SolverKind::FixedPoint {
                p.push(
                    "mechanics.solver",
                    "fixed_point",
                    "laminate voxels (mechanics.mixing) are solved by Newton on conjugate gradients",
                    "use solver = \"cg\" (the default), or mixing = \"voigt\"",
                );
            }
            if m.max_iterations == 0 {
                p.push(
                    "mechanics.max_iterations",
                    0,
                    "must be at least 1",
                    "e.g. 2000",
                );
            }
        }
        let Some(d) = &self.drive else { return };
        p.positive(
            "drive.rate_constant_per_s",
            d.rate_constant_per_s,
            "give k_r in 1/s",
        );
        let electrolyte = self.materials.values().any(|m| m.electrolyte);
        if !electrolyte || self.microstructure.is_none() {
            p.push(
                "drive",
                "(given)",
                "ions enter through the solid-electrolyte surface, and there is none",
                "add a material with electrolyte = true and place it in [microstructure]",
            );
        }
        match d.mode {
            DriveMode::Galvanostatic => match d.c_rate {
                Some(c) => {
                    p.positive("drive.c_rate", c, "give the C-rate, e.g. 0.1");
                }
                None => p.push(
                    "drive.c_rate",
                    "(missing)",
                    "galvanostatic needs a current",
                    "give c_rate",
                ),
            },
            DriveMode::Potentiostatic => match d.voltage_v {
                Some(v) => {
                    p.finite("drive.voltage_v", v, "give the potential in V");
                }
                None => p.push(
                    "drive.voltage_v",
                    "(missing)",
                    "potentiostatic needs a potential",
                    "give voltage_v",
                ),
            },
        }
        if let Some(s) = d.soc_target
            && !(s > 0.0 && s < 1.0)
        {
            p.push(
                "drive.soc_target",
                s,
                "a state of charge lies in (0, 1)",
                "e.g. 0.9",
            );
        }
        if let Some(v) = d.cutoff_voltage_v {
            p.finite("drive.cutoff_voltage_v", v, "give the cut-off in V");
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
        if let Some(v) = o.interval
            && p.positive("output.interval", v, "give a positive interval")
            && self.time.end.is_finite()
            && self.time.end / v > MAX_OUTPUT_ROWS
        {
            p.push(
                "output.interval",
                v,
                &format!(
                    "would write {:.3e} time-series rows over time.end = {}",
                    self.time.end / v,
                    self.time.end
                ),
                &format!(
                    "give an interval of at least {:.3e} (at most {MAX_OUTPUT_ROWS:e} rows)",
                    self.time.end / MAX_OUTPUT_ROWS
                ),
            );
        }
        let start = o.log_start.unwrap_or(self.time.dt_max);
        let decades = (self.time.end / start).log10().max(1.0);
        if let Some(per) = o.per_decade
            && decades.is_finite()
            && per as f64 * decades > MAX_OUTPUT_ROWS
        {
            p.push(
                "output.per_decade",
                per,
                &format!(
                    "would write {:.3e} time-series rows over {decades:.1} decades",
                    per as f64 * decades
                ),
                &format!("give at most {:.0} per decade", MAX_OUTPUT_ROWS / decades),
            );
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
