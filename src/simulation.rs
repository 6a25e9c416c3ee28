//! `Simulation`: a backend, a clock, the time-step control and the writers; `run()`.
//!
//! Each iteration picks dt (landing on output times), steps the backend, stops on a
//! non-finite value *before* any writer runs (so a NaN never reaches a file), adapts dt, and
//! runs the writers when an output is due. Every writer's `finish` runs on every path.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::{Backend, BackendChoice, BackendKind, Observables, select};
use crate::config::Direction;
use crate::config::LoadedConfig;
use crate::diagnostics::{self, IonLedger};
use crate::error::{Error, Result};
use crate::fields::{FieldName, Fields};
use crate::output::hdf5::{RunAttributes, SnapshotWriter, StaticFields};
use crate::output::png::{ImageWriter, MapKind};
use crate::output::timeseries::TimeSeriesWriter;
use crate::output::{OutputWriter, Row, StopReason};
use crate::problem::Problem;
use crate::time_step::{self, TimeStepper, output_times};

/// How `run` should behave, from the CLI.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run's own folder (outputs/<name>/ or --out).
    pub out_dir: PathBuf,
    pub backend: BackendChoice,
    /// No progress bar and no notices.
    pub quiet: bool,
    /// Run the `[pristine]` twin of the microstructure.
    pub pristine: bool,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub steps: u64,
    /// Simulated time reached, in the user's unit.
    pub time: f64,
    pub time_unit: String,
    pub wall_s: f64,
    pub out_dir: PathBuf,
    pub backend: BackendKind,
    pub stop: StopReason,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = if self.time_unit == "1" {
            String::new()
        } else {
            format!(" {}", self.time_unit)
        };
        write!(
            f,
            "done: {} steps to t = {:.6e}{unit} in {:.1} s wall ({} backend); outputs in {}",
            self.steps,
            self.time,
            self.wall_s,
            self.backend.as_str(),
            self.out_dir.display()
        )?;
        Ok(())
    }
}

/// Runs one config end to end: folder, resolved config, backend, writers, loop.
pub fn run(loaded: &LoadedConfig, opts: &RunOptions) -> Result<RunSummary> {
    crate::memory::check_available(&loaded.config, opts.backend, 1.0)?;
    run_problem(loaded, loaded.problem(opts.pristine)?, opts)
}

/// [`run`] with the problem already built from `loaded` (for `opts.pristine`), as `compare`
/// has after checking both microstructures.
pub fn run_problem(
    loaded: &LoadedConfig,
    problem: Problem,
    opts: &RunOptions,
) -> Result<RunSummary> {
    let bar = if !opts.quiet && std::io::stderr().is_terminal() {
        progress_bar(None)
    } else {
        ProgressBar::hidden()
    };
    run_problem_with(loaded, problem, opts, bar)
}

/// A run's progress bar, its line prefixed by `label` when several runs share the terminal.
pub fn progress_bar(label: Option<&str>) -> ProgressBar {
    let template = match label {
        Some(l) => format!("{l:>9} {{bar:30}} {{percent:>3}}% {{msg}} ETA {{eta}}"),
        None => "{bar:30} {percent:>3}% {msg} ETA {eta}".to_string(),
    };
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// [`run_problem`] drawing its progress on `bar` (hidden: none).
pub fn run_problem_with(
    loaded: &LoadedConfig,
    problem: Problem,
    opts: &RunOptions,
    bar: ProgressBar,
) -> Result<RunSummary> {
    prepare_dir(&opts.out_dir)?;
    let images = opts.out_dir.join("images");
    prepare_dir(&images)?;
    let config_path = opts.out_dir.join("config.toml");
    std::fs::write(&config_path, &loaded.resolved).map_err(|e| Error::Write {
        path: config_path.clone(),
        message: e.to_string(),
    })?;

    let (backend, notice) = select(opts.backend, &problem)?;
    if let Some(notice) = notice
        && !opts.quiet
    {
        eprintln!("{notice}");
    }
    let writers = standard_writers(loaded, &problem, backend.kind(), &opts.out_dir)?;
    let mut sim = Simulation::new(problem, backend, writers, loaded);
    sim.run(&opts.out_dir, bar)
}

fn prepare_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::OutputDir {
        path: dir.to_path_buf(),
        source,
    })?;
    // create_dir_all succeeds on an existing read-only folder; probe that we can write.
    let probe = dir.join(".swellfield-write-test");
    std::fs::write(&probe, b"").map_err(|source| Error::OutputDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// The fields each snapshot holds, with their units.
fn snapshot_fields(problem: &Problem) -> Vec<(FieldName, String)> {
    let mu_unit = if problem.units.dimensionless {
        "1"
    } else {
        "kT"
    };
    let mut f = vec![
        (FieldName::C, "1".to_string()),
        (FieldName::Mu, mu_unit.to_string()),
    ];
    if problem.mechanics.is_some() {
        for name in FieldName::elastic(problem.grid.dim()) {
            let unit = match name {
                FieldName::Stress(_) | FieldName::VonMises => "GPa",
                _ => "1",
            };
            f.push((name, unit.to_string()));
        }
        if problem.mechanics.as_ref().is_some_and(|m| m.plastic()) {
            f.push((FieldName::EquivalentPlasticStrain, "1".to_string()));
        }
    }
    f
}

fn standard_writers(
    loaded: &LoadedConfig,
    problem: &Problem,
    kind: BackendKind,
    dir: &Path,
) -> Result<Vec<Box<dyn OutputWriter>>> {
    let u = &problem.units;
    let (length_unit, time_label, energy_label) = if u.dimensionless {
        ("1", "benchmark units", "benchmark units")
    } else {
        ("nm", "s", u.energy_unit)
    };
    let spacing = problem.grid.spacing.map(|h| h * u.length);
    let attrs = RunAttributes {
        version: env!("CARGO_PKG_VERSION").to_string(),
        backend: kind.as_str().into(),
        precision: kind.precision().into(),
        spacing,
        length_unit: length_unit.into(),
        time_unit: u.time_unit.into(),
        config: loaded.resolved.clone(),
    };
    let statics = match &problem.microstructure {
        Some(m) => StaticFields {
            phi: problem
                .materials
                .iter()
                .zip(&m.phi)
                .map(|(mat, phi)| (mat.name.clone(), phi.clone()))
                .collect(),
            labels: Some((
                m.labels.clone(),
                problem.materials.iter().map(|m| m.name.clone()).collect(),
            )),
            site_density: Some(
                (0..problem.grid.len())
                    .map(|i| {
                        problem
                            .materials
                            .iter()
                            .zip(&m.phi)
                            .map(|(mat, phi)| phi[i] * mat.site_density)
                            .sum()
                    })
                    .collect(),
            ),
        },
        None => StaticFields::default(),
    };
    let mut writers: Vec<Box<dyn OutputWriter>> = vec![
        Box::new(TimeSeriesWriter::create(
            dir,
            &diagnostics::columns(problem),
            Some((
                dir.join("images").join("free_energy.png"),
                time_label.into(),
                energy_label.into(),
            )),
        )?),
        Box::new(SnapshotWriter::create(
            dir,
            problem.grid.n,
            snapshot_fields(problem),
            &attrs,
            &statics,
        )?),
    ];
    let out = &loaded.config.output;
    if out.images {
        let range = out
            .c_range
            .unwrap_or(match problem.chemistry.components[0].free_energy {
                crate::free_energy::FreeEnergy::DoubleWell { a, b, .. } => {
                    [a - 0.1 * (b - a), b + 0.1 * (b - a)]
                }
                _ => [0.0, 1.0],
            });
        let mut maps = vec![MapKind {
            field: FieldName::C,
            label: "c (site fraction)".into(),
            range: Some(range),
        }];
        if let Some(m) = &problem.mechanics {
            // tr ε of a material at its full expansion bounds the map on both sides.
            let tr = m
                .materials
                .iter()
                .map(|x| (2.0 * x.expansion.a + x.expansion.c).abs())
                .fold(0.0, f64::max);
            let tr = if tr > 0.0 { tr } else { 1.0 };
            maps.push(MapKind {
                field: FieldName::VolumetricStrain,
                label: "volumetric strain tr ε".into(),
                range: Some([-tr, tr]),
            });
            maps.push(MapKind {
                field: FieldName::VonMises,
                label: "von Mises stress (GPa)".into(),
                range: None,
            });
        }
        let l = problem.grid.lengths();
        writers.push(Box::new(ImageWriter {
            dir: dir.join("images"),
            grid: problem.grid.clone(),
            maps,
            lengths: [l[0] * u.length, l[1] * u.length],
            length_unit: if u.dimensionless {
                "benchmark units".into()
            } else {
                "nm".into()
            },
            time_unit: if u.dimensionless {
                String::new()
            } else {
                "s".into()
            },
        }));
    }
    Ok(writers)
}

/// A backend and its writers, stepping through time.
pub struct Simulation {
    pub problem: Problem,
    backend: Box<dyn Backend>,
    writers: Vec<Box<dyn OutputWriter>>,
    output_times: Vec<f64>,
    every_steps: Option<u64>,
    snapshot_every: u64,
    ledger: IonLedger,
}

impl Simulation {
    pub fn new(
        problem: Problem,
        backend: Box<dyn Backend>,
        writers: Vec<Box<dyn OutputWriter>>,
        loaded: &LoadedConfig,
    ) -> Self {
        let out = &loaded.config.output;
        let output_times = output_times(
            out,
            problem.time.end,
            problem.time.dt_max,
            problem.units.time,
        );
        Simulation {
            problem,
            backend,
            writers,
            output_times,
            every_steps: out.every_steps,
            snapshot_every: out.snapshot_every,
            ledger: IonLedger::default(),
        }
    }

    /// The time series row for the current state.
    fn row(&self, step: u64, time: f64, dt: f64, obs: &Observables, wall_s: f64) -> Row {
        let u = &self.problem.units;
        Row {
            step,
            time: time * u.time,
            dt: dt * u.time,
            free_energy: (obs.energy_chemical + obs.energy_gradient + obs.energy_elastic)
                * u.energy,
            energy_chemical: obs.energy_chemical * u.energy,
            energy_gradient: obs.energy_gradient * u.energy,
            mean_c: obs.mean_c,
            c_min: obs.c_min,
            c_max: obs.c_max,
            wall_s,
            extra: diagnostics::values(&self.problem, obs, &self.ledger),
        }
    }

    fn output(&mut self, step: u64, time: f64, dt: f64, snapshot: bool, wall_s: f64) -> Result<()> {
        let obs = self.backend.observe()?;
        let row = self.row(step, time, dt, &obs, wall_s);
        let fields: Option<Fields> = if snapshot {
            let names: Vec<FieldName> = snapshot_fields(&self.problem)
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            let mut f = self.backend.fields(&names)?;
            let gpa = self.problem.units.stress_pa / 1e9;
            for (name, values) in f.0.iter_mut() {
                if matches!(name, FieldName::Stress(_) | FieldName::VonMises) {
                    values.iter_mut().for_each(|v| *v *= gpa);
                }
            }
            Some(f)
        } else {
            None
        };
        for w in self.writers.iter_mut() {
            w.write(&row, fields.as_ref())?;
        }
        Ok(())
    }

    fn finish(&mut self, reason: &StopReason) -> Result<()> {
        let mut first_err = None;
        for w in self.writers.iter_mut() {
            if let Err(e) = w.finish(reason) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Runs to the end time (or the first non-finite value).
    pub fn run(&mut self, out_dir: &Path, bar: ProgressBar) -> Result<RunSummary> {
        let start = Instant::now();
        let end = self.problem.time.end;
        let progress = !bar.is_hidden();
        let mut stepper = TimeStepper::new(&self.problem.time);
        let (mut step, mut time) = (0u64, 0.0f64);
        let mut outputs = 0u64;
        self.ledger.initial = self.backend.observe()?.total_c;
        if let Some(d) = &self.problem.drive
            && d.mode == crate::config::DriveMode::Potentiostatic
        {
            self.ledger.mu_e = Some(d.mu_e);
        }
        let soc_time = self
            .soc_target_time()
            .map(|t| time_step::land_on(&mut self.output_times, t));
        self.output(step, time, 0.0, true, 0.0)?;
        outputs += 1;
        let mut next = 1;
        while next < self.output_times.len() {
            let stop = self.output_times[next];
            let dt = stepper.propose(time, stop);
            let report = match self.backend.step(dt) {
                Ok(r) => r,
                // The backend knows what failed, the loop knows when: report both.
                Err(Error::NonFinite { field, .. }) => {
                    return Err(self.stop_non_finite(&bar, field, step + 1, time + dt)?);
                }
                Err(e) => return Err(e),
            };
            step += 1;
            let landed = time + dt >= stop * (1.0 - 1e-12);
            time = if landed { stop } else { time + dt };
            let at_soc_time = landed && soc_time == Some(stop);
            if report.non_finite > 0 || !report.max_dc.is_finite() {
                return Err(self.stop_non_finite(&bar, "c".into(), step, time)?);
            }
            stepper.adapt(dt, report.max_dc);
            self.ledger.record(&report);
            if landed {
                next += 1;
            }
            let stop = self.drive_stop(at_soc_time);
            let by_steps = self.every_steps.is_some_and(|n| step.is_multiple_of(n));
            if landed || by_steps || stop.is_some() {
                let last = next >= self.output_times.len() || stop.is_some();
                let snapshot = last || outputs.is_multiple_of(self.snapshot_every);
                self.output(step, time, dt, snapshot, start.elapsed().as_secs_f64())?;
                outputs += 1;
            }
            if let Some(reason) = stop {
                bar.finish_and_clear();
                self.finish(&reason)?;
                return Ok(self.summary(step, time, start, out_dir, reason));
            }
            if progress {
                bar.set_position((1000.0 * time / end) as u64);
                bar.set_message(format!(
                    "step {step} t={:.3e} dt={:.2e}",
                    time * self.problem.units.time,
                    dt * self.problem.units.time
                ));
            }
        }
        bar.finish_and_clear();
        self.finish(&StopReason::EndTime)?;
        Ok(self.summary(step, time, start, out_dir, StopReason::EndTime))
    }

    /// Closes every writer with the non-finite stop reason (so what is on disk says why the run
    /// stopped) and gives the error to return; `time` in model units.
    fn stop_non_finite(
        &mut self,
        bar: &ProgressBar,
        field: String,
        step: u64,
        time: f64,
    ) -> Result<Error> {
        let time = time * self.problem.units.time;
        bar.finish_and_clear();
        self.finish(&StopReason::NonFinite {
            field: field.clone(),
            step,
            time,
        })?;
        Ok(Error::NonFinite { field, step, time })
    }

    fn summary(
        &self,
        steps: u64,
        time: f64,
        start: Instant,
        out_dir: &Path,
        stop: StopReason,
    ) -> RunSummary {
        RunSummary {
            steps,
            time: time * self.problem.units.time,
            time_unit: self.problem.units.time_unit.into(),
            wall_s: start.elapsed().as_secs_f64(),
            out_dir: out_dir.to_path_buf(),
            backend: self.backend.kind(),
            stop,
        }
    }

    /// When a galvanostatic drive reaches its SOC target (model time): the current is constant
    /// and the ledger exact, so the time is known before the run, and the steps land on it as on
    /// an output time rather than passing the target by up to a step's charge.
    fn soc_target_time(&self) -> Option<f64> {
        let d = self.problem.drive.as_ref()?;
        let target = d.soc_target?;
        if d.mode != crate::config::DriveMode::Galvanostatic || d.current == 0.0 {
            return None;
        }
        let t = (target * self.problem.capacity - self.ledger.initial) / d.current;
        (t > 0.0 && t < self.problem.time.end).then_some(t)
    }

    /// A drive's stop condition, from the ledger (no reduction needed). `at_soc_time`: the step
    /// landed on [`Self::soc_target_time`], where the target is reached whatever the ledger's
    /// round-off (f64 on the CPU, f32 folds on the GPU).
    fn drive_stop(&self, at_soc_time: bool) -> Option<StopReason> {
        let d = self.problem.drive.as_ref()?;
        let inserting = d.direction == Direction::Insertion;
        if let Some(target) = d.soc_target {
            let soc = self.ledger.soc(self.problem.capacity);
            let reached =
                at_soc_time || (inserting && soc >= target) || (!inserting && soc <= target);
            if reached {
                return Some(StopReason::SocTarget);
            }
        }
        if let Some(cut) = d.cutoff_voltage_v {
            let v = self.ledger.voltage(&self.problem);
            if (inserting && v <= cut) || (!inserting && v >= cut) {
                return Some(StopReason::CutoffVoltage);
            }
        }
        None
    }
}
