//! The model.md §5 time-series quantities, from backend reductions, in the units
//! docs/outputs.md names: state of charge, voltage, ion balance, swelling, mean strain, elastic
//! energy and solver effort, and per material swelling, stress maxima, composition and plastic
//! flow.

use crate::backend::{Observables, StepReport};
use crate::config::Boundary;
use crate::problem::Problem;

/// CSV names of the extra columns, after the issue-3 base columns. Regular-solution runs get
/// all of them (NaN or 0 where a quantity does not apply); double-well runs none.
pub fn columns(problem: &Problem) -> Vec<String> {
    if problem.units.dimensionless {
        return Vec::new();
    }
    let mut c: Vec<String> = [
        "soc",
        "voltage",
        "total_ions",
        "ion_balance_error",
        "swelling",
        "strain_xx",
        "strain_yy",
        "strain_zz",
        "strain_xy",
        "strain_xz",
        "strain_yz",
        "energy_elastic",
        "elastic_iterations",
        "elastic_residual",
    ]
    .map(String::from)
    .to_vec();
    for m in &problem.materials {
        c.push(format!("swelling_{}", m.name));
        c.push(format!("max_von_mises_{}_gpa", m.name));
        c.push(format!("max_hydrostatic_{}_gpa", m.name));
        c.push(format!("mean_c_{}", m.name));
        c.push(format!("max_plastic_strain_{}", m.name));
        c.push(format!("plastic_work_{}", m.name));
    }
    c.push("overstressed_fraction".into());
    c
}

/// Running account of the ions put in through the surface.
#[derive(Debug, Clone, Copy, Default)]
pub struct IonLedger {
    /// Σ ψ c ΔṼ at t = 0.
    pub initial: f64,
    /// Σ of every step's inserted ions.
    pub inserted: f64,
    /// The last step's μ_e and elastic effort.
    pub mu_e: Option<f64>,
    pub elastic_iterations: u64,
    pub elastic_residual: f64,
}

impl IonLedger {
    pub fn record(&mut self, r: &StepReport) {
        self.inserted += r.ions_added;
        if r.mu_e.is_some() {
            self.mu_e = r.mu_e;
        }
        self.elastic_iterations = r.elastic_iterations;
        self.elastic_residual = r.elastic_residual;
    }

    /// State of charge implied by the ledger (exact: the backend conserves it to round-off).
    pub fn soc(&self, capacity: f64) -> f64 {
        (self.initial + self.inserted) / capacity
    }

    /// V = −μ_e/e.
    pub fn voltage(&self, problem: &Problem) -> f64 {
        self.mu_e.map_or(f64::NAN, |m| -m * problem.units.kt_ev)
    }
}

/// Electrode swelling (model.md §5): `free`: det(I + ⟨ε⟩) − 1; `clamped_inplane`: the mean
/// strain along the thickness axis (z in 3-D, y in 2-D); `fixed`: 0.
pub fn electrode_swelling(problem: &Problem, mean: [f64; 6]) -> f64 {
    match problem.mechanics.as_ref().map(|m| m.boundary) {
        None => 0.0,
        Some(Boundary::Free) => crate::backend::cpu::elasticity::volume_change(mean),
        Some(Boundary::ClampedInplane) => mean[if problem.grid.dim() == 3 { 2 } else { 1 }],
        Some(Boundary::Fixed) => 0.0,
    }
}

/// The extra columns' values, in `columns` order.
pub fn values(problem: &Problem, obs: &Observables, ledger: &IonLedger) -> Vec<f64> {
    if problem.units.dimensionless {
        return Vec::new();
    }
    let u = &problem.units;
    let e = obs.mean_strain;
    let gpa = u.stress_pa / 1e9;
    let mut v = vec![
        obs.total_c / problem.capacity,
        ledger.voltage(problem),
        obs.total_c * u.ions_mol,
        (obs.total_c - ledger.initial - ledger.inserted) / problem.capacity,
        electrode_swelling(problem, e),
        e[0],
        e[1],
        e[2],
        e[5],
        e[4],
        e[3],
        obs.energy_elastic * u.energy,
        obs.elastic_solve
            .map_or(ledger.elastic_iterations, |(i, _)| i) as f64,
        obs.elastic_solve
            .map_or(ledger.elastic_residual, |(_, r)| r),
    ];
    for (i, _) in problem.materials.iter().enumerate() {
        let m = obs.materials.get(i).copied().unwrap_or_default();
        v.push(m.swelling);
        v.push(m.max_von_mises * gpa);
        v.push(m.max_hydrostatic * gpa);
        v.push(m.mean_c);
        v.push(m.max_plastic_strain);
        v.push(m.plastic_work * u.energy);
    }
    v.push(obs.overstressed_fraction);
    v
}
