//! The one error type of swellfield.
//!
//! Every variant names what is wrong, the value given and what to do, on one line, so that a
//! researcher reading a terminal or a batch log knows the fix without opening the code.

use std::path::PathBuf;

/// A result with swellfield's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One impossible config value: the key, the value given, why it is wrong and the fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Dotted key as written in the TOML, e.g. `grid.n`.
    pub key: String,
    /// The value given, as the user would write it.
    pub value: String,
    /// Why it cannot be simulated.
    pub reason: String,
    /// What to write instead.
    pub fix: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} = {}: {}. {}",
            self.key,
            self.value,
            self.reason,
            capitalised(&self.fix)
        )
    }
}

/// Everything that can stop swellfield.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file could not be read (missing, unreadable).
    #[error(
        "cannot read config {path}: {source}. Check the path (configs/ holds the shipped ones)"
    )]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The config is not valid TOML, or has a key swellfield does not know.
    #[error(
        "{path}:{line}:{column}: {message}. Fix the TOML there; docs/config.md lists every key"
    )]
    ConfigParse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// One or more config values parse but cannot be simulated.
    #[error("{}", join_invalid(.0))]
    Invalid(Vec<Invalid>),

    /// A `--set` argument that is not `section.key=value`.
    #[error("--set {given}: {reason}. Write --set section.key=value, e.g. --set time.end=100")]
    SetSyntax { given: String, reason: String },

    /// The output folder cannot be created or written.
    #[error("cannot write output folder {path}: {source}. Choose another with --out DIR")]
    OutputDir {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file inside the output folder could not be written.
    #[error("cannot write {path}: {message}. Check free disk space and permissions")]
    Write { path: PathBuf, message: String },

    /// A run's output could not be read back (by `compare`).
    #[error(
        "cannot read {path}: {message}. The run that writes it may have stopped early; rerun it"
    )]
    Read { path: PathBuf, message: String },

    /// The evolving field went NaN or infinite; nothing from this step was written.
    #[error(
        "non-finite {field} at step {step}, time {time:e} (NaN, infinite, or c far outside [0, 1]): the run is \
         unstable. Outputs written before it are intact; lower time.dt_max or time.max_dc, or raise \
         cahn_hilliard.stabilization"
    )]
    NonFinite { field: String, step: u64, time: f64 },

    /// The convex-splitting step's Newton iteration did not converge even at the smallest
    /// sub-step.
    #[error(
        "the chemistry step of dt = {dt:e} (model time) did not converge even when halved 12 times \
         (ion-balance residual {residual_c:e}, potential residual {residual_mu:e} kT): outputs \
         written before it are intact; lower time.dt_max, or check the config's material data"
    )]
    NotConverged {
        dt: f64,
        residual_c: f64,
        residual_mu: f64,
    },

    /// The elastic solve did not reach its tolerance.
    #[error(
        "the elastic solve stopped after {iterations} iterations at relative residual {residual:e} (tolerance {tolerance:e}): \
         raise mechanics.max_iterations, loosen mechanics.tolerance, or use solver = \"cg\" if the fixed point is too slow at this stiffness contrast"
    )]
    ElasticNotConverged {
        iterations: u64,
        residual: f64,
        tolerance: f64,
    },

    /// The GPU refused something (validation, a limit).
    #[error("GPU {what}: {message}. {fix}")]
    Gpu {
        what: String,
        message: String,
        fix: String,
    },

    /// The requested backend cannot run here.
    #[error("--backend {requested}: {reason}. {fix}")]
    BackendUnavailable {
        requested: String,
        reason: String,
        fix: String,
    },

    /// A benchmark peer could not be run or its output not read.
    #[error("benchmark peer {peer}: {reason}. {fix}")]
    Peer {
        peer: String,
        reason: String,
        fix: String,
    },
}

/// The fix as a sentence: first letter upper-case.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn join_invalid(problems: &[Invalid]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

impl Error {
    /// A single invalid value, as an error.
    pub fn invalid(key: &str, value: impl ToString, reason: &str, fix: &str) -> Self {
        Error::Invalid(vec![Invalid {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
            fix: fix.to_string(),
        }])
    }
}
