//! Field names and full fields on the host (f64), shared by backends and writers.

/// A full field a backend can hand back. One name per concept across code, HDF5 and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldName {
    /// Site fraction c (dimensionless).
    C,
    /// Diffusion potential μ (kT per ion, or the benchmark's energy unit).
    Mu,
}

impl FieldName {
    /// The name under `/fields/` in HDF5 and in image file names.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldName::C => "c",
            FieldName::Mu => "mu",
        }
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
