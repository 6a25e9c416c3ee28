//! swellfield: how battery electrodes swell.
//!
//! Cahn–Hilliard ion insertion (and, in later versions, heterogeneous linear elasticity and
//! electrochemical charging) on a periodic grid, Fourier-spectral and semi-implicit
//! (`docs/model.md`). The map of the crate:
//!
//! - [`config`]: the TOML file, `--set` and `validate()`; [`error`]: the one error type.
//! - [`problem`]: the config turned into scaled numbers, built once; [`units`] converts,
//!   [`free_energy`] is f(c) and its derivatives, [`grid`] the periodic box, [`initial`] c at t = 0.
//! - [`backend`]: the `Backend` trait and the f64 CPU reference (`backend::cpu`).
//! - [`simulation`]: the run loop; [`time_step`] the adaptive dt and output times;
//!   [`output`] the CSV, HDF5, PNG and plot writers.
//! - [`check`] and [`bench`]: the `check` and `bench` commands.

pub mod backend;
pub mod bench;
pub mod bench_gpu;
pub mod check;
pub mod compare;
pub mod config;
pub mod convex_split;
pub mod diagnostics;
pub mod error;
pub mod fields;
pub mod finite_volume;
pub mod free_energy;
pub mod grid;
pub mod initial;
pub mod laminate;
pub mod materials;
pub mod memory;
pub mod microstructure;
pub mod output;
pub mod plasticity;
pub mod problem;
pub mod simulation;
pub mod time_step;
pub mod units;

pub use error::{Error, Result};
