//! Field names and full fields on the host (f64), shared by backends and writers.

/// Voigt order of tensor components everywhere (code, HDF5, docs): xx yy zz yz xz xy.
pub const VOIGT_NAMES: [&str; 6] = ["xx", "yy", "zz", "yz", "xz", "xy"];

/// A full field a backend can hand back. One name per concept across code, HDF5 and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldName {
    /// Site fraction c (dimensionless).
    C,
    /// Diffusion potential μ (kT per ion, or the benchmark's energy unit).
    Mu,
    /// Strain component (Voigt index), tensor components.
    Strain(usize),
    /// Stress component (Voigt index), model stress units.
    Stress(usize),
    /// tr ε.
    VolumetricStrain,
    /// Von Mises stress, model stress units.
    VonMises,
    /// Equivalent plastic strain α (J2 plasticity; dimensionless).
    EquivalentPlasticStrain,
}

impl FieldName {
    /// The name under `/fields/` in HDF5 and in image file names.
    pub fn as_str(self) -> String {
        match self {
            FieldName::C => "c".into(),
            FieldName::Mu => "mu".into(),
            FieldName::Strain(k) => format!("strain_{}", VOIGT_NAMES[k]),
            FieldName::Stress(k) => format!("stress_{}", VOIGT_NAMES[k]),
            FieldName::VolumetricStrain => "volumetric_strain".into(),
            FieldName::VonMises => "von_mises".into(),
            FieldName::EquivalentPlasticStrain => "equivalent_plastic_strain".into(),
        }
    }

    /// The elastic fields of a run: all six components in 3-D, the in-plane three and zz in 2-D
    /// (plane strain), then tr ε and von Mises.
    pub fn elastic(dim: usize) -> Vec<FieldName> {
        let comps: &[usize] = if dim == 3 {
            &[0, 1, 2, 3, 4, 5]
        } else {
            &[0, 1, 5, 2]
        };
        let mut v: Vec<FieldName> = comps.iter().map(|&k| FieldName::Strain(k)).collect();
        v.extend(comps.iter().map(|&k| FieldName::Stress(k)));
        v.push(FieldName::VolumetricStrain);
        v.push(FieldName::VonMises);
        v
    }
}

/// Full fields, each `grid.len()` values, x fastest.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(FieldName, Vec<f64>)>);

impl Fields {
    /// The field called `name`, if it was fetched.
    pub fn get(&self, name: FieldName) -> Option<&[f64]> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }
}
