//! Writers: the time series, HDF5 snapshots, PNG maps and line plots (docs/outputs.md).
//!
//! The simulation decides *when* (every output time; snapshots every n-th); writers know
//! *files*. Each write opens, appends and closes, so a crash later never costs what is on disk.

pub mod hdf5;
pub mod plot;
pub mod png;
pub mod timeseries;

use crate::error::Result;
use crate::fields::Fields;

/// One time-series row in the units the user reads (docs/outputs.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: u64,
    /// Simulated time (s, or the benchmark's unit).
    pub time: f64,
    /// The step that led here (0 at t = 0).
    pub dt: f64,
    pub free_energy: f64,
    pub energy_chemical: f64,
    pub energy_gradient: f64,
    pub mean_c: f64,
    pub c_min: f64,
    pub c_max: f64,
    /// Wall-clock seconds since the run started.
    pub wall_s: f64,
    /// The run's further columns (diagnostics::columns order).
    pub extra: Vec<f64>,
}

/// Why a run ended; recorded by every writer.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// Reached `time.end`.
    EndTime,
    /// Reached `drive.soc_target`.
    SocTarget,
    /// The voltage crossed `drive.cutoff_voltage_v`.
    CutoffVoltage,
    /// A NaN or infinity appeared (nothing from that step was written).
    NonFinite { field: String, step: u64, time: f64 },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::EndTime => write!(f, "end_time"),
            StopReason::SocTarget => write!(f, "soc_target"),
            StopReason::CutoffVoltage => write!(f, "cutoff_voltage"),
            StopReason::NonFinite { field, step, time } => {
                write!(f, "non_finite {field} at step {step}, time {time:e}")
            }
        }
    }
}

/// Something that records output rows (and, for snapshots, full fields).
pub trait OutputWriter {
    /// Writes one record; `fields` is present on snapshot outputs.
    fn write(&mut self, row: &Row, fields: Option<&Fields>) -> Result<()>;
    /// Records why the run ended; runs on every path, errors included.
    fn finish(&mut self, reason: &StopReason) -> Result<()>;
}
