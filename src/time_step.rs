//! Time-step control (model.md §6) and the output schedule.
//!
//! dt adapts to the largest change of c in a step, `max|Δc|`, towards the config's `max_dc`,
//! changing by at most the growth and shrink factors per step and never above `dt_max`. A step
//! is shortened to land exactly on the next output time (Oceananigans' aligned time step) or on
//! the time a galvanostatic drive reaches its SOC target ([`land_on`]), and
//! the shortened step does not count as a choice of dt. No step is rejected: the stabilised
//! semi-implicit scheme stays bounded at any dt (model.md §6), so an overshoot costs one step's
//! accuracy, and the next dt is cut by the shrink factor at once.

use crate::config::OutputConfig;
use crate::problem::TimeSettings;

/// The adaptive (or fixed) step size, in model time.
#[derive(Debug, Clone)]
pub struct TimeStepper {
    settings: TimeSettings,
    dt: f64,
}

impl TimeStepper {
    pub fn new(settings: &TimeSettings) -> Self {
        let dt = if settings.adaptive {
            settings.dt_initial.min(settings.dt_max)
        } else {
            settings.dt_max
        };
        TimeStepper {
            settings: settings.clone(),
            dt,
        }
    }

    /// The step size the controller would take now, before landing on outputs.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The dt to take from `time`, shortened so as not to pass `next_stop`. When the stop is
    /// less than two steps away the remainder is split evenly, so no sliver step follows.
    pub fn propose(&self, time: f64, next_stop: f64) -> f64 {
        let remaining = next_stop - time;
        if remaining <= self.dt * (1.0 + 1e-9) {
            remaining
        } else if remaining < 2.0 * self.dt {
            0.5 * remaining
        } else {
            self.dt
        }
    }

    /// Updates dt after a step of `dt_used` whose largest change of c was `max_dc`. The change
    /// is taken as proportional to dt, so a shortened step predicts the full one.
    pub fn adapt(&mut self, dt_used: f64, max_dc: f64) {
        let s = &self.settings;
        if !s.adaptive {
            return;
        }
        let predicted = if dt_used > 0.0 {
            max_dc * self.dt / dt_used
        } else {
            0.0
        };
        let factor = if predicted > 0.0 {
            s.max_dc / predicted
        } else {
            s.growth
        };
        self.dt = (self.dt * factor.clamp(s.shrink, s.growth)).min(s.dt_max);
    }
}

/// Sorted output times in model units, always including 0 and the end.
pub fn output_times(output: &OutputConfig, end: f64, dt_max: f64, time_unit: f64) -> Vec<f64> {
    let end_user = end * time_unit;
    let mut t: Vec<f64> = vec![0.0, end_user];
    t.extend(output.times.iter().copied());
    if let Some(iv) = output.interval {
        let count = (end_user / iv).floor() as u64;
        t.extend((1..=count).map(|i| i as f64 * iv));
    }
    if let Some(per) = output.per_decade {
        let start = output.log_start.unwrap_or(dt_max * time_unit);
        let mut i = 0;
        loop {
            let v = start * 10f64.powf(i as f64 / per as f64);
            if v > end_user * (1.0 + 1e-12) {
                break;
            }
            t.push(v);
            i += 1;
        }
    }
    let mut model: Vec<f64> = t
        .into_iter()
        .filter(|v| *v >= 0.0 && *v <= end_user)
        .map(|v| v / time_unit)
        .collect();
    model.sort_by(f64::total_cmp);
    model.dedup_by(|a, b| same_time(*a, *b));
    model
}

/// Landing times closer than a relative 1e-9 are one.
fn same_time(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-300)
}

/// Adds `t` to the sorted landing times `times`, unless one there is the same time
/// ([`same_time`]); returns the time that lands on `t`.
pub fn land_on(times: &mut Vec<f64>, t: f64) -> f64 {
    let at = times.partition_point(|&v| v < t);
    let near = [at.checked_sub(1), Some(at)]
        .into_iter()
        .flatten()
        .filter_map(|i| times.get(i).copied())
        .find(|&v| same_time(v, t));
    near.unwrap_or_else(|| {
        times.insert(at, t);
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(adaptive: bool) -> TimeSettings {
        TimeSettings {
            end: 100.0,
            dt_max: 1.0,
            dt_initial: 0.01,
            adaptive,
            max_dc: 0.01,
            growth: 1.1,
            shrink: 0.5,
        }
    }

    #[test]
    fn land_on_inserts_in_order_once() {
        let mut t = vec![0.0, 10.0, 20.0];
        assert_eq!(land_on(&mut t, 12.5), 12.5);
        assert_eq!(land_on(&mut t, 12.5 * (1.0 + 1e-12)), 12.5);
        assert_eq!(land_on(&mut t, 20.0 * (1.0 - 1e-12)), 20.0);
        assert_eq!(t, vec![0.0, 10.0, 12.5, 20.0]);
    }

    #[test]
    fn grows_by_at_most_growth_and_never_past_dt_max() {
        let mut s = TimeStepper::new(&settings(true));
        s.adapt(0.01, 1e-6);
        assert!((s.dt() - 0.011).abs() < 1e-15);
        for _ in 0..200 {
            s.adapt(s.dt(), 1e-6);
        }
        assert_eq!(s.dt(), 1.0);
    }

    #[test]
    fn shrinks_towards_target_but_by_at_most_shrink() {
        let mut s = TimeStepper::new(&settings(true));
        s.adapt(0.01, 0.015);
        assert!((s.dt() - 0.01 * 0.01 / 0.015).abs() < 1e-15);
        s.adapt(s.dt(), 1.0);
        assert!((s.dt() - 0.01 * 0.01 / 0.015 * 0.5).abs() < 1e-15);
    }

    #[test]
    fn fixed_dt_stays_at_dt_max() {
        let mut s = TimeStepper::new(&settings(false));
        s.adapt(1.0, 10.0);
        assert_eq!(s.dt(), 1.0);
    }

    #[test]
    fn lands_on_stops_without_slivers() {
        let s = TimeStepper::new(&settings(false));
        assert_eq!(s.propose(0.0, 0.5), 0.5);
        assert_eq!(s.propose(0.0, 1.5), 0.75);
        assert_eq!(s.propose(0.0, 5.0), 1.0);
    }

    #[test]
    fn output_times_merge_all_schedules() {
        let out = OutputConfig {
            times: vec![3.0],
            interval: Some(4.0),
            per_decade: Some(1),
            log_start: Some(1.0),
            ..OutputConfig::default()
        };
        // end = 10 user units, time unit 2 → model end 5.
        let t = output_times(&out, 5.0, 1.0, 2.0);
        let user: Vec<f64> = t.iter().map(|v| v * 2.0).collect();
        assert_eq!(user, vec![0.0, 1.0, 3.0, 4.0, 8.0, 10.0]);
    }
}
