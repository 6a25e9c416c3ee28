//! `swellfield check`: what a config means once derived, printed for a researcher to read
//! before spending compute on it.

use std::fmt::Write;

use crate::config::LoadedConfig;
use crate::error::Result;
use crate::free_energy::FreeEnergy;
use crate::microstructure::volume_fractions;
use crate::problem::{Problem, spectral_gradient};
use crate::time_step::output_times;
use crate::units::{E_CHARGE, N_A, NM};

/// The report as text (of the `[pristine]` twin when `pristine`).
pub fn report(loaded: &LoadedConfig, pristine: bool) -> Result<String> {
    // Building the problem allocates its fields: a grid beyond the memory is refused first.
    crate::memory::check_available(&loaded.config, crate::backend::BackendChoice::Gpu, 1.0)?;
    let p = loaded.problem(pristine)?;
    let u = &p.units;
    let g = &p.grid;
    let mut s = String::new();
    let (lu, tu) = if u.dimensionless {
        ("", "")
    } else {
        (" nm", " s")
    };
    let twin = if pristine { " (pristine twin)" } else { "" };
    let _ = writeln!(
        s,
        "config {}: valid (run name '{}'){twin}",
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
    if p.materials.is_empty() {
        if let FreeEnergy::DoubleWell { rho, a, b } = &p.chemistry.components[0].free_energy {
            let _ = writeln!(
                s,
                "free energy: double well rho = {rho}, wells at c = {a} and {b} (PFHub benchmark 1 form)"
            );
            let _ = writeln!(
                s,
                "kappa = {} (benchmark units); mobility constant",
                p.chemistry.kappa * u.length * u.length
            );
        }
    } else {
        materials_report(&mut s, &p, loaded.config.temperature_k);
    }
    interface_report(&mut s, &p, lu);
    if let Some(faces) = &p.chemistry.faces {
        let solid = faces.solid.iter().filter(|&&v| v).count();
        let _ = writeln!(
            s,
            "chemistry step: convex splitting on {solid} solid voxels (finite volumes, Newton with \
             multigrid-preconditioned MINRES): stable at any dt; dt is set by accuracy \
             (time.max_dc), and a step is halved where Newton does not converge"
        );
    } else {
        let max_d2 = p.max_d2();
        let _ = writeln!(
            s,
            "chemistry step: spectral, hosts of one site density and diffusivity filling the \
             cell; stabilisation A = {}, S = {:.4} (max f''/2 = {:.4}){}",
            p.chemistry.stabilization,
            p.chemistry.stabilization_s,
            0.5 * max_d2,
            if p.unconditionally_stable() {
                ": stable at any dt; dt is set by accuracy (time.max_dc)"
            } else {
                ": below the unconditional-stability bound, keep dt small"
            }
        );
    }
    if let Some(m) = &p.mechanics {
        let _ = writeln!(
            s,
            "mechanics: boundary {:?}, solver {:?}, tolerance {:e}{}",
            m.boundary,
            m.solver,
            m.tolerance,
            if g.dim() == 2 {
                format!(", 2-D {:?}", m.out_of_plane)
            } else {
                String::new()
            }
        );
    }
    if let Some(d) = &p.drive {
        let area: f64 = d.rate.iter().filter(|&&r| r > 0.0).count() as f64;
        let _ = writeln!(
            s,
            "drive: {:?} {:?}, current {:.4e} sites/tau, {} surface voxels{}{}",
            d.mode,
            d.direction,
            d.current,
            area,
            d.soc_target
                .map(|v| format!(", stop at soc {v}"))
                .unwrap_or_default(),
            d.cutoff_voltage_v
                .map(|v| format!(", cut-off {v} V"))
                .unwrap_or_default(),
        );
    }
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
    let cpu = crate::memory::estimate(&loaded.config, crate::backend::BackendChoice::Cpu, 1.0);
    let _ = writeln!(
        s,
        "outputs: {} time-series rows (plus every_steps), about {} snapshots; host memory about \
         {} for a run on the CPU ({:.0} bytes per voxel), {} for compare's two side by side{}",
        outs.len(),
        snaps,
        crate::memory::human(cpu.bytes),
        cpu.per_voxel,
        crate::memory::human(
            crate::memory::estimate(&loaded.config, crate::backend::BackendChoice::Cpu, 2.0).bytes
        ),
        crate::memory::available()
            .map(|a| format!("; {} available", crate::memory::human(a)))
            .unwrap_or_default()
    );
    Ok(s)
}

fn materials_report(s: &mut String, p: &Problem, temperature_k: f64) {
    let u = &p.units;
    let micro = p.microstructure.as_ref();
    let fractions = micro.map(|m| volume_fractions(&m.phi)).unwrap_or_default();
    for (i, m) in p.materials.iter().enumerate() {
        let frac = fractions.get(i).copied().unwrap_or(0.0);
        let what = if m.electrolyte {
            "electrolyte".to_string()
        } else if m.has_sites() {
            format!(
                "n = {:.4e} mol/m^3, D = {:.3e} cm^2/s",
                m.site_density,
                m.diffusivity / 1e-4
            )
        } else {
            "inert (no sites)".to_string()
        };
        let mech = if p.mechanics.is_some() {
            let e = &m.expansion;
            let exp = if e.is_isotropic() {
                format!("beta = {:.4}", e.a)
            } else {
                format!("eigenstrain a = {:.4}, c = {:.4}", e.a, e.c)
            };
            let flow = m.yield_stress.map_or_else(
                || ", elastic".to_string(),
                |(y0, y1)| {
                    format!(
                        ", yields (J2) at {:.4} -> {:.4} GPa, hardening {:.4} GPa",
                        y0 / 1e9,
                        y1 / 1e9,
                        m.hardening / 1e9
                    )
                },
            );
            format!(
                ", E = {:.4} -> {:.4} GPa, nu = {}, {exp}, c_ref = {}{flow}",
                m.young / 1e9,
                m.young_full / 1e9,
                m.poisson,
                m.c_ref
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "material {}: volume fraction {:.4}, {what}{mech}{}",
            m.name,
            frac,
            m.source
                .as_ref()
                .map(|v| format!(" [{v}]"))
                .unwrap_or_default()
        );
        if let Some(FreeEnergy::RegularSolution { segments }) = &m.free_energy {
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
        }
    }
    if let (Some(micro), Some(e)) = (micro, p.materials.iter().position(|m| m.electrolyte)) {
        let grad = spectral_gradient(&p.grid, &micro.phi[e]);
        let area: f64 = (0..p.grid.len())
            .map(|i| (grad[0][i].powi(2) + grad[1][i].powi(2) + grad[2][i].powi(2)).sqrt())
            .sum::<f64>()
            * p.grid.voxel_volume();
        let (value, unit) = if p.grid.dim() == 2 {
            (area * u.length, "nm of perimeter (per nm of depth)")
        } else {
            (area * u.length * u.length, "nm^2")
        };
        let _ = writeln!(s, "solid-electrolyte surface: {value:.4e} {unit}");
    }
    let n_ref = p
        .materials
        .iter()
        .map(|m| m.site_density)
        .fold(0.0, f64::max);
    let kappa_j_m = p.chemistry.kappa * n_ref * N_A * u.kt_ev * E_CHARGE * (u.length * NM).powi(2);
    let _ = writeln!(
        s,
        "kappa = {kappa_j_m:.4e} J/m for the densest host (T = {temperature_k} K, kT = {:.4} meV)",
        u.kt_ev * 1e3
    );
}

fn interface_report(s: &mut String, p: &Problem, lu: &str) {
    let u = &p.units;
    match (&p.interface, p.interface_width_voxels()) {
        (Some(i), Some(wv)) => {
            let width = wv * u.length;
            let energy = if u.dimensionless {
                format!(
                    "{:.4} (benchmark units)",
                    i.energy(p.chemistry.kappa) * u.length
                )
            } else {
                let gamma = u.stress_pa * u.length * NM * i.energy(p.chemistry.kappa);
                format!("{gamma:.4} J/m^2 in the densest host")
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
}
