//! `swellfield check`: what a config means once derived, printed for a researcher to read
//! before spending compute on it.

use std::fmt::Write;

use crate::config::LoadedConfig;
use crate::error::Result;
use crate::free_energy::FreeEnergy;
use crate::problem::Problem;
use crate::time_step::output_times;
use crate::units::{E_CHARGE, N_A, NM};

/// The report as text.
pub fn report(loaded: &LoadedConfig) -> Result<String> {
    let p = Problem::new(&loaded.config)?;
    let u = &p.units;
    let g = &p.grid;
    let mut s = String::new();
    let (lu, tu) = if u.dimensionless {
        ("", "")
    } else {
        (" nm", " s")
    };
    let _ = writeln!(
        s,
        "config {}: valid (run name '{}')",
        loaded.path.display(),
        loaded.run_name()
    );
    let dims = if g.dim() == 2 {
        format!("{} x {} (2-D)", g.n[0], g.n[1])
    } else {
        format!("{} x {} x {} (3-D)", g.n[0], g.n[1], g.n[2])
    };
    let l = g.lengths();
    let h = g.spacing.map(|v| v * u.length);
    let _ = writeln!(
        s,
        "grid: {dims}, box {:.4} x {:.4}{}{lu}, voxel {:.5} x {:.5}{}{lu}",
        l[0] * u.length,
        l[1] * u.length,
        if g.dim() == 3 {
            format!(" x {:.4}", l[2] * u.length)
        } else {
            String::new()
        },
        h[0],
        h[1],
        if g.dim() == 3 {
            format!(" x {:.5}", h[2])
        } else {
            String::new()
        },
    );
    match &p.free_energy {
        FreeEnergy::DoubleWell { rho, a, b } => {
            let _ = writeln!(
                s,
                "free energy: double well rho = {rho}, wells at c = {a} and {b} (PFHub benchmark 1 form)"
            );
            let _ = writeln!(
                s,
                "kappa = {} (benchmark units); mobility constant",
                p.kappa * u.length * u.length
            );
        }
        FreeEnergy::RegularSolution { segments } => {
            if let Some(m) = &p.material {
                let _ = writeln!(
                    s,
                    "material {}: n = {:.4e} mol/m^3, D = {:.3e} cm^2/s{}",
                    m.name,
                    m.site_density_mol_m3,
                    m.diffusivity_m2_s / 1e-4,
                    m.source
                        .as_ref()
                        .map(|v| format!(", source: {v}"))
                        .unwrap_or_default()
                );
            }
            for seg in segments {
                let gap = if seg.omega > 2.0 {
                    let yb = crate::free_energy::binodal(seg.omega);
                    let w = seg.c_max - seg.c_min;
                    format!(
                        "miscibility gap c = {:.4}..{:.4}",
                        seg.c_min + w * yb,
                        seg.c_max - w * yb
                    )
                } else {
                    "solid solution (Omega <= 2kT)".into()
                };
                let _ = writeln!(
                    s,
                    "  segment c = {}..{}: U0 = {:.4} V, Omega = {:.4} eV = {:.3} kT; {gap}",
                    seg.c_min,
                    seg.c_max,
                    seg.u0 * u.kt_ev,
                    seg.omega * u.kt_ev,
                    seg.omega
                );
            }
            if let Some(m) = &p.material {
                let _ = writeln!(
                    s,
                    "kappa = {:.4e} J/m (T = {} K, kT = {:.4} meV)",
                    m.kappa_j_m,
                    loaded.config.temperature_k,
                    u.kt_ev * 1e3
                );
            }
        }
    }
    match (&p.interface, p.interface_width_voxels()) {
        (Some(i), Some(wv)) => {
            let width = wv * u.length;
            let energy = if u.dimensionless {
                format!("{:.4} (benchmark units)", i.energy(p.kappa) * u.length)
            } else {
                let m = p.material.as_ref().map_or(0.0, |m| m.site_density_mol_m3);
                let gamma = m * N_A * u.kt_ev * E_CHARGE * u.length * NM * i.energy(p.kappa);
                format!("{gamma:.4} J/m^2")
            };
            let _ = writeln!(
                s,
                "interface: width {width:.4}{lu} = {wv:.2} voxels (Δc/max|∇c|), energy {energy}"
            );
            if wv < 3.0 {
                let _ = writeln!(
                    s,
                    "  warning: fewer than 3 voxels across the interface; refine the grid or widen it"
                );
            }
        }
        _ => {
            let _ = writeln!(s, "interface: none (no miscibility gap)");
        }
    }
    let max_d2 = p.free_energy.max_d2();
    let _ = writeln!(
        s,
        "stabilisation: A = {}, S = {:.4} (max|f''|/2 = {:.4}){}",
        p.stabilization,
        p.stabilization_s,
        0.5 * max_d2,
        if p.unconditionally_stable() {
            ": stable at any dt; dt is set by accuracy (time.max_dc)"
        } else {
            ": below the unconditional-stability bound, keep dt small"
        }
    );
    let _ = writeln!(
        s,
        "time: unit tau = {:.4e}{tu}; end = {:.4e}{tu}; dt_max = {:.4e}{tu}; explicit-Euler stable dt would be {:.3e}{tu}",
        u.time,
        p.time.end * u.time,
        p.time.dt_max * u.time,
        p.explicit_dt_limit() * u.time
    );
    let outs = output_times(&loaded.config.output, p.time.end, p.time.dt_max, u.time);
    let snaps = outs
        .len()
        .div_ceil(loaded.config.output.snapshot_every as usize);
    let field_mb = g.len() as f64 * 8.0 / 1e6;
    let _ = writeln!(
        s,
        "outputs: {} time-series rows (plus every_steps), about {} snapshots of {:.1} MB each; CPU memory about {:.0} MB",
        outs.len(),
        snaps,
        2.0 * field_mb,
        field_mb * (3.0 + 2.0 * 6.0 / 2.0)
    );
    Ok(s)
}
