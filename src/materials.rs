//! `Material`: one `[materials.<name>]` table turned into derived SI numbers (model.md §3–§4,
//! materials.md): site density, diffusivity, the free energy in kT, stiffness and eigenstrain.

use crate::config::MaterialConfig;
use crate::free_energy::{FreeEnergy, Segment};
use crate::units::{CM2_S, site_density_mol_m3};

/// The linear expansion between c = 0 and c = 1, transversely isotropic about the local c-axis:
/// `B = a I + (c − a) n⊗n` (isotropic when a = c = β).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expansion {
    pub a: f64,
    pub c: f64,
}

impl Expansion {
    pub fn is_isotropic(&self) -> bool {
        self.a == self.c
    }

    /// β = (1 + ΔV/V)^(1/3) − 1 (model.md §3).
    pub fn from_volume_change(dv: f64) -> Self {
        let beta = (1.0 + dv).cbrt() - 1.0;
        Expansion { a: beta, c: beta }
    }

    /// The largest principal value, for stability estimates.
    pub fn largest(&self) -> f64 {
        self.a.abs().max(self.c.abs())
    }
}

/// One material's derived constants.
#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    pub name: String,
    pub source: Option<String>,
    pub electrolyte: bool,
    /// Site density n in mol/m³ (0: no sites).
    pub site_density: f64,
    /// D in m²/s (0 for materials without sites).
    pub diffusivity: f64,
    /// g(c) per site in kT (materials with sites).
    pub free_energy: Option<FreeEnergy>,
    /// Young's modulus at c = 0 and c = 1, Pa (0 until resolved for the electrolyte default).
    pub young: f64,
    pub young_full: f64,
    pub poisson: f64,
    pub expansion: Expansion,
    pub c_ref: f64,
    /// Von Mises yield stress at c = 0 and c = 1 in Pa (linear between); `None`: elastic.
    pub yield_stress: Option<(f64, f64)>,
    /// Linear isotropic hardening modulus in Pa.
    pub hardening: f64,
}

impl Material {
    /// Derives a material; `kt_ev` converts U0 and Ω to kT.
    pub fn new(name: &str, m: &MaterialConfig, kt_ev: f64) -> Self {
        let sites = m.has_sites();
        let site_density = if !sites {
            0.0
        } else {
            m.site_density_mol_m3.unwrap_or_else(|| {
                site_density_mol_m3(
                    m.capacity_mah_g.unwrap_or(0.0),
                    m.density_g_cm3.unwrap_or(0.0),
                )
            })
        };
        let free_energy = sites.then(|| {
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
            FreeEnergy::RegularSolution { segments }
        });
        let expansion = match (m.eigenstrain, m.volume_change) {
            (Some(e), _) => Expansion { a: e[0], c: e[2] },
            (None, Some(dv)) => Expansion::from_volume_change(dv),
            (None, None) => Expansion { a: 0.0, c: 0.0 },
        };
        let young = m.young_modulus_gpa.unwrap_or(0.0) * 1e9;
        Material {
            name: name.to_string(),
            source: m.source.clone(),
            electrolyte: m.electrolyte,
            site_density,
            diffusivity: if sites {
                m.diffusivity_cm2_s.unwrap_or(0.0) * CM2_S
            } else {
                0.0
            },
            free_energy,
            young,
            young_full: m.young_modulus_full_gpa.map_or(young, |e| e * 1e9),
            poisson: m.poisson_ratio.unwrap_or(0.3),
            expansion,
            c_ref: m.c_ref,
            yield_stress: m.yield_stress_gpa.map(|y| {
                let full = m.yield_stress_full_gpa.unwrap_or(y);
                (y * 1e9, full * 1e9)
            }),
            hardening: m.hardening_gpa.unwrap_or(0.0) * 1e9,
        }
    }

    pub fn has_sites(&self) -> bool {
        self.site_density > 0.0
    }

    /// Lamé constants (λ, μ) in Pa at composition c (modulus linear in c).
    pub fn lame(&self, c: f64) -> (f64, f64) {
        let e = self.young + (self.young_full - self.young) * c.clamp(0.0, 1.0);
        lame(e, self.poisson)
    }
}

/// Lamé constants from Young's modulus and Poisson's ratio.
pub fn lame(e: f64, nu: f64) -> (f64, f64) {
    (
        e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)),
        e / (2.0 * (1.0 + nu)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// materials.md §2.1: Sn's +420 % gives β = 5.20^(1/3) − 1 = 0.7325, and det(I + B) − 1
    /// gives the volume change back exactly.
    #[test]
    fn beta_from_volume_change_round_trips() {
        let e = Expansion::from_volume_change(4.2);
        assert!((e.a - 0.7325).abs() < 1e-4, "{}", e.a);
        assert!(((1.0 + e.a).powi(3) - 1.0 - 4.2).abs() < 1e-12);
    }

    #[test]
    fn lame_constants() {
        let (l, m) = lame(200e9, 0.25);
        assert!((m - 80e9).abs() < 1.0);
        assert!((l - 80e9).abs() < 1.0);
    }
}
