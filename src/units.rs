//! Physical constants (exact SI values) and the conversions configs need.

/// Boltzmann constant in eV/K.
pub const KB_EV: f64 = 8.617_333_262e-5;
/// Elementary charge in C (also J per eV).
pub const E_CHARGE: f64 = 1.602_176_634e-19;
/// Avogadro constant in 1/mol.
pub const N_A: f64 = 6.022_140_76e23;
/// Faraday constant in C/mol.
pub const FARADAY: f64 = E_CHARGE * N_A;
/// 1 cm²/s in m²/s.
pub const CM2_S: f64 = 1e-4;
/// 1 nm in m.
pub const NM: f64 = 1e-9;

/// Site density in mol/m³ from a capacity in mAh/g and a density in g/cm³ (materials.md §1):
/// `n = Q · 3.6 · rho · 1e6 / F`.
pub fn site_density_mol_m3(capacity_mah_g: f64, density_g_cm3: f64) -> f64 {
    capacity_mah_g * 3.6 * density_g_cm3 * 1e6 / FARADAY
}

#[cfg(test)]
mod tests {
    use super::*;

    /// materials.md §1 worked example: Sn at 847 mAh/g and 7.29 g/cm³ holds 2.30e5 mol/m³.
    #[test]
    fn sn_site_density_matches_materials_md() {
        let n = site_density_mol_m3(847.0, 7.29);
        assert!((n / 2.30e5 - 1.0).abs() < 0.005, "{n}");
    }
}
