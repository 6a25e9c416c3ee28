//! `snapshots.h5` in the Dedalus layout: 1-D `/time`, `/step`, `/dt` grown by one per write,
//! `/fields/<name>` shaped (write, nz, ny, nx) with one chunk per write and a `units`
//! attribute, and file attributes describing the run. The file is opened, extended, written and
//! closed for every snapshot, so a crash later never damages what is already there.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use ndarray::{Array3, s};

use super::{OutputWriter, Row, StopReason};
use crate::error::{Error, Result};
use crate::fields::{FieldName, Fields};

/// Fields written once under `/static/`: φ_m per material, and the sharp material map with
/// the material names in label order.
#[derive(Debug, Clone, Default)]
pub struct StaticFields {
    pub phi: Vec<(String, Vec<f64>)>,
    pub labels: Option<(Vec<u16>, Vec<String>)>,
    /// The site density n(x) = Σ_m φ_m n_m in mol/m³.
    pub site_density: Option<Vec<f64>>,
}

/// Static facts about the run stored as file attributes.
#[derive(Debug, Clone)]
pub struct RunAttributes {
    pub version: String,
    pub backend: String,
    pub precision: String,
    /// Voxel edges in `length_unit`.
    pub spacing: [f64; 3],
    pub length_unit: String,
    pub time_unit: String,
    /// The resolved config text.
    pub config: String,
}

pub struct SnapshotWriter {
    path: PathBuf,
    n: [usize; 3],
    fields: Vec<(FieldName, String)>,
    writes: usize,
}

impl SnapshotWriter {
    /// Creates `dir/snapshots.h5` with its attributes and empty, growable datasets for each of
    /// `fields` (name and unit).
    pub fn create(
        dir: &Path,
        n: [usize; 3],
        fields: Vec<(FieldName, String)>,
        attrs: &RunAttributes,
        statics: &StaticFields,
    ) -> Result<Self> {
        let path = dir.join("snapshots.h5");
        let err = |e: hdf5::Error| Error::Write {
            path: path.clone(),
            message: e.to_string(),
        };
        let file = hdf5::File::create(&path).map_err(err)?;
        let text = |s: &str| s.parse::<VarLenUnicode>().unwrap_or_default();
        for (name, value) in [
            ("version", &attrs.version),
            ("backend", &attrs.backend),
            ("precision", &attrs.precision),
            ("length_unit", &attrs.length_unit),
            ("time_unit", &attrs.time_unit),
            ("config", &attrs.config),
            ("stop_reason", &"running".to_string()),
        ] {
            file.new_attr::<VarLenUnicode>()
                .shape(())
                .create(name)
                .and_then(|a| a.write_scalar(&text(value)))
                .map_err(err)?;
        }
        file.new_attr_builder()
            .with_data(&attrs.spacing)
            .create("spacing")
            .map_err(err)?;
        let grid_n = n.map(|v| v as u64);
        file.new_attr_builder()
            .with_data(&grid_n)
            .create("grid_n")
            .map_err(err)?;
        for name in ["time", "dt"] {
            file.new_dataset::<f64>()
                .chunk(64)
                .shape(0..)
                .create(name)
                .map_err(err)?;
        }
        file.new_dataset::<u64>()
            .chunk(64)
            .shape(0..)
            .create("step")
            .map_err(err)?;
        file.create_group("fields").map_err(err)?;
        let [nx, ny, nz] = n;
        if !statics.phi.is_empty() || statics.labels.is_some() {
            file.create_group("static").map_err(err)?;
        }
        for (name, phi) in &statics.phi {
            write_static(&file, &path, n, &format!("phi_{name}"), phi, ("units", "1"))?;
        }
        if let Some(n_x) = &statics.site_density {
            write_static(&file, &path, n, "site_density", n_x, ("units", "mol/m^3"))?;
        }
        if let Some((labels, names)) = &statics.labels {
            write_static(
                &file,
                &path,
                n,
                "material",
                labels,
                ("names", &names.join(",")),
            )?;
        }
        for (field, unit) in &fields {
            let ds = file
                .new_dataset::<f64>()
                .chunk((1, nz, ny, nx))
                .shape((0.., nz, ny, nx))
                .create(format!("fields/{}", field.as_str()).as_str())
                .map_err(err)?;
            ds.new_attr::<VarLenUnicode>()
                .shape(())
                .create("units")
                .and_then(|a| a.write_scalar(&text(unit)))
                .map_err(err)?;
        }
        drop(file);
        Ok(SnapshotWriter {
            path,
            n,
            fields,
            writes: 0,
        })
    }

    fn hdf5_err(&self, e: hdf5::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// Writes `/static/<name>`, a grid-shaped (nz, ny, nx) array, with one text attribute.
fn write_static<T: hdf5::H5Type + Clone>(
    file: &hdf5::File,
    path: &Path,
    [nx, ny, nz]: [usize; 3],
    name: &str,
    values: &[T],
    (attr, text): (&str, &str),
) -> Result<()> {
    let err = |message: String| Error::Write {
        path: path.to_path_buf(),
        message,
    };
    let arr =
        Array3::from_shape_vec((nz, ny, nx), values.to_vec()).map_err(|e| err(e.to_string()))?;
    let ds = file
        .new_dataset_builder()
        .with_data(&arr)
        .create(format!("static/{name}").as_str())
        .map_err(|e| err(e.to_string()))?;
    ds.new_attr::<VarLenUnicode>()
        .shape(())
        .create(attr)
        .and_then(|a| a.write_scalar(&text.parse::<VarLenUnicode>().unwrap_or_default()))
        .map_err(|e| err(e.to_string()))
}

impl OutputWriter for SnapshotWriter {
    fn write(&mut self, row: &Row, fields: Option<&Fields>) -> Result<()> {
        let Some(fields) = fields else { return Ok(()) };
        let file = hdf5::File::open_rw(&self.path).map_err(|e| self.hdf5_err(e))?;
        let k = self.writes;
        let [nx, ny, nz] = self.n;
        let append = |name: &str, v: f64| -> hdf5::Result<()> {
            let ds = file.dataset(name)?;
            ds.resize(k + 1)?;
            ds.write_slice(&[v], s![k..k + 1])
        };
        append("time", row.time).map_err(|e| self.hdf5_err(e))?;
        append("dt", row.dt).map_err(|e| self.hdf5_err(e))?;
        file.dataset("step")
            .and_then(|ds| {
                ds.resize(k + 1)?;
                ds.write_slice(&[row.step], s![k..k + 1])
            })
            .map_err(|e| self.hdf5_err(e))?;
        for (name, _) in &self.fields {
            let values = fields.get(*name).ok_or_else(|| Error::Write {
                path: self.path.clone(),
                message: format!("field {} was not fetched for the snapshot", name.as_str()),
            })?;
            let arr = Array3::from_shape_vec((nz, ny, nx), values.to_vec()).map_err(|e| {
                Error::Write {
                    path: self.path.clone(),
                    message: e.to_string(),
                }
            })?;
            file.dataset(&format!("fields/{}", name.as_str()))
                .and_then(|ds| {
                    ds.resize((k + 1, nz, ny, nx))?;
                    ds.write_slice(&arr, s![k, .., .., ..])
                })
                .map_err(|e| self.hdf5_err(e))?;
        }
        file.close().map_err(|e| self.hdf5_err(e))?;
        self.writes += 1;
        Ok(())
    }

    fn finish(&mut self, reason: &StopReason) -> Result<()> {
        let file = hdf5::File::open_rw(&self.path).map_err(|e| self.hdf5_err(e))?;
        let text = reason
            .to_string()
            .parse::<VarLenUnicode>()
            .unwrap_or_default();
        file.attr("stop_reason")
            .and_then(|a| a.write_scalar(&text))
            .map_err(|e| self.hdf5_err(e))?;
        file.close().map_err(|e| self.hdf5_err(e))
    }
}

/// The last snapshot of `/fields/<name>` in a `snapshots.h5`, x fastest (grid order); `None`
/// when the file holds no such field or no snapshot yet.
pub fn read_last_field(path: &Path, name: &str) -> Result<Option<Vec<f64>>> {
    let err = |e: hdf5::Error| Error::Read {
        path: path.to_path_buf(),
        message: format!("/fields/{name}: {e}"),
    };
    let file = hdf5::File::open(path).map_err(err)?;
    let Ok(ds) = file.dataset(&format!("fields/{name}")) else {
        return Ok(None);
    };
    let k = ds.shape().first().copied().unwrap_or(0);
    if k == 0 {
        return Ok(None);
    }
    let arr: Array3<f64> = ds.read_slice(s![k - 1, .., .., ..]).map_err(err)?;
    Ok(Some(arr.iter().copied().collect()))
}
