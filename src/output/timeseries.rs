//! `timeseries.csv`: one row per output, header first, flushed per row; and at the end the
//! free-energy plot `images/free_energy.png` from the same rows.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::plot::{LinePlot, Series};
use super::{OutputWriter, Row, StopReason};
use crate::error::{Error, Result};
use crate::fields::Fields;

/// Column names, in order (docs/outputs.md gives units). Later issues append; never rename.
pub const COLUMNS: [&str; 10] = [
    "step",
    "time",
    "dt",
    "free_energy",
    "energy_chemical",
    "energy_gradient",
    "mean_c",
    "c_min",
    "c_max",
    "wall_s",
];

pub struct TimeSeriesWriter {
    path: PathBuf,
    extra: usize,
    file: BufWriter<File>,
    rows: Vec<Row>,
    plot: Option<(PathBuf, String, String)>,
}

impl TimeSeriesWriter {
    /// Creates `dir/timeseries.csv` and writes the header. `plot` is the free-energy plot's
    /// path and axis units (time, energy), drawn at the end.
    pub fn create(
        dir: &Path,
        extra_columns: &[String],
        plot: Option<(PathBuf, String, String)>,
    ) -> Result<Self> {
        let path = dir.join("timeseries.csv");
        let file = File::create(&path).map_err(|e| write_err(&path, e))?;
        let mut w = TimeSeriesWriter {
            path,
            extra: extra_columns.len(),
            file: BufWriter::new(file),
            rows: Vec::new(),
            plot,
        };
        let mut header = COLUMNS.join(",");
        for c in extra_columns {
            header.push(',');
            header.push_str(c);
        }
        writeln!(w.file, "{header}")
            .and_then(|_| w.file.flush())
            .map_err(|e| write_err(&w.path, e))?;
        Ok(w)
    }
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl OutputWriter for TimeSeriesWriter {
    fn write(&mut self, r: &Row, _fields: Option<&Fields>) -> Result<()> {
        let mut line = format!(
            "{},{:e},{:e},{:.12e},{:.12e},{:.12e},{:.15e},{:.15e},{:.15e},{:.3}",
            r.step,
            r.time,
            r.dt,
            r.free_energy,
            r.energy_chemical,
            r.energy_gradient,
            r.mean_c,
            r.c_min,
            r.c_max,
            r.wall_s
        );
        debug_assert_eq!(r.extra.len(), self.extra);
        for v in &r.extra {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                line.push_str(&format!(",{}", *v as i64));
            } else {
                line.push_str(&format!(",{v:.10e}"));
            }
        }
        writeln!(self.file, "{line}")
            .and_then(|_| self.file.flush())
            .map_err(|e| write_err(&self.path, e))?;
        self.rows.push(r.clone());
        Ok(())
    }

    fn finish(&mut self, _reason: &StopReason) -> Result<()> {
        self.file.flush().map_err(|e| write_err(&self.path, e))?;
        if let Some((path, time_unit, energy_unit)) = &self.plot {
            let points: Vec<(f64, f64)> =
                self.rows.iter().map(|r| (r.time, r.free_energy)).collect();
            if points.len() >= 2 {
                LinePlot {
                    title: "Free energy".into(),
                    x_label: format!("time ({time_unit})"),
                    y_label: format!("free energy ({energy_unit})"),
                    log_x: true,
                    log_y: true,
                    series: vec![Series::line("swellfield", points)],
                }
                .save(path)?;
            }
        }
        Ok(())
    }
}

/// Reads a `timeseries.csv` (or any CSV of numbers with a header): column names and rows.
pub fn read(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::error::Error::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| v.trim().parse::<f64>().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    Ok((header, rows))
}
