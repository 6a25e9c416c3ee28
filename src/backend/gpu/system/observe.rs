//! The time-series reductions of the multi-material step on the device (observe.wgsl): the
//! host records one reduction per group of four lanes and assembles the observables from the
//! few dozen floats that come back. Mirror of src/backend/cpu/reduce.rs.

use super::*;
use crate::backend::MaterialObservables;
use crate::backend::cpu::elasticity::volume_change;

/// The observables' lanes: 32 fixed, then 12 per material, then 4 per component.
const OBS: u32 = 32;
pub(super) const OBS_MATERIALS: u32 = OBS + 32;

// Programs of observe.wgsl's `observe_partial`.
const OBS_C: u32 = 0;
const OBS_ENERGY: u32 = 1;
const OBS_PARSEVAL: u32 = 3;
const OBS_ELASTIC: u32 = 4;
const OBS_STRESS: u32 = 5;
const OBS_STRAIN: u32 = 6;
const OBS_MATERIAL: u32 = 7;
const OBS_MATERIAL_STRAIN: u32 = 8;
const OBS_COMPOSITION: u32 = 9;
const OBS_NON_FINITE: u32 = 10;

impl SystemStep {
    /// The time-series reductions on the device (observe.wgsl); a few dozen floats come back.
    pub fn observe(&mut self) -> Result<Observables> {
        self.ensure_elastic()?;
        let (k, n) = (&self.k, self.n);
        let dv = self.params.voxel_volume as f64;
        let program = |index: u32, a: u32, sums: bool| Op {
            index,
            a,
            b: sums as u32,
            ..op()
        };
        let mut enc = k.encoder();
        // As the CPU: c is extended into the pores.
        self.extend(&mut enc, self.c);
        let (c, psi) = (self.c, self.psi);
        k.reduce(
            &mut enc,
            "observe_partial",
            program(OBS_C, 0, false),
            &[c, psi],
            n,
            (OBS, 1),
        );
        k.reduce(
            &mut enc,
            "observe_partial",
            program(OBS_ENERGY, 0, true),
            &[c, psi, self.psim],
            n,
            (OBS + 4, 1),
        );
        let d = self.k.dummy();
        if self.convex.is_none() {
            // The spectral step's gradient energy by Parseval (the convex-splitting step sums
            // its faces instead, below).
            k.run(&mut enc, "weighted_to_complex", op(), &[c, self.hat], n);
            self.fft(&mut enc, self.hat, false);
            let slots = [c, psi, d, d, d, d, d, self.hat];
            k.reduce(
                &mut enc,
                "observe_partial",
                program(OBS_PARSEVAL, 0, true),
                &slots,
                n,
                (OBS + 8, 1),
            );
        }
        if let (Some(el), Some(phi)) = (&self.elastic, self.phi) {
            let slots = [c, psi, phi, el.strain, el.local, el.eigen, el.axis];
            let mut run = |index: u32, a: u32, sums: bool, flag: u32, dst: u32| {
                let o = Op {
                    flag,
                    ..program(index, a, sums)
                };
                k.reduce(&mut enc, "observe_partial", o, &slots, n, (dst, 1));
            };
            run(OBS_ELASTIC, 0, true, 0, OBS + 12);
            run(OBS_STRESS, 0, true, 0, OBS + 16);
            run(OBS_STRESS, 4, true, 0, OBS + 20);
            run(OBS_STRAIN, 0, true, 0, OBS + 24);
            run(OBS_STRAIN, 4, true, 0, OBS + 28);
            for m in 0..self.materials as u32 {
                let base = OBS_MATERIALS + 12 * m;
                run(OBS_MATERIAL, m, false, 0, base);
                run(OBS_MATERIAL_STRAIN, m, true, 0, base + 4);
                run(OBS_MATERIAL_STRAIN, m, true, 1, base + 8);
            }
        }
        let components = OBS_MATERIALS + 12 * self.materials as u32;
        for j in 0..self.component_materials.len() as u32 {
            let o = program(OBS_COMPOSITION, j, true);
            k.reduce(
                &mut enc,
                "observe_partial",
                o,
                &[c, psi, self.psim],
                n,
                (components + 4 * j, 1),
            );
        }
        k.submit(enc);
        let s: Vec<f64> = self.scalars()?.into_iter().map(f64::from).collect();
        let at = |slot: u32| s[slot as usize];
        if at(OBS + 6) > 0.0 || !at(OBS).is_finite() {
            let mut enc = k.encoder();
            k.reduce(
                &mut enc,
                "observe_partial",
                program(OBS_NON_FINITE, 0, true),
                &[c, psi],
                n,
                (OBS, 1),
            );
            k.submit(enc);
            let bad = self.scalars()?[OBS as usize] as u64;
            return Ok(crate::backend::cpu::reduce::non_finite(
                bad.max(1),
                self.materials,
            ));
        }
        let energy_gradient = match &self.convex {
            Some(convex) => convex.gradient_energy(&self.ctx)?,
            None => 0.5 * self.kappa * at(OBS + 8) / n as f64 * dv,
        };
        let mut obs = Observables {
            mean_c: at(OBS) / at(OBS + 3),
            c_min: at(OBS + 2),
            c_max: at(OBS + 1),
            total_c: at(OBS + 4) * dv,
            energy_chemical: at(OBS + 5) * dv,
            energy_gradient,
            energy_elastic: 0.0,
            mean_strain: [0.0; 6],
            mean_stress: [0.0; 6],
            materials: Vec::new(),
            overstressed_fraction: 0.0,
            non_finite: 0,
            elastic_solve: None,
        };
        if self.elastic.is_some() {
            obs.energy_elastic = at(OBS + 12) * dv;
            let solid = at(OBS + 14);
            obs.overstressed_fraction = if solid > 0.0 {
                at(OBS + 13) / solid
            } else {
                0.0
            };
            obs.mean_stress = std::array::from_fn(|k| at(OBS + 16 + k as u32) / n as f64);
            obs.mean_strain = std::array::from_fn(|k| at(OBS + 24 + k as u32) / n as f64);
            obs.materials = (0..self.materials as u32)
                .map(|m| {
                    let b = OBS_MATERIALS + 12 * m;
                    let vol = at(b);
                    let sums = [
                        at(b + 3),
                        at(b + 4),
                        at(b + 5),
                        at(b + 6),
                        at(b + 7),
                        at(b + 8),
                    ];
                    // Lanes left at their ±3.4e38 start saw no voxel with φ > ½.
                    let (vm, hyd) = (at(b + 1), -at(b + 2));
                    let seen = |v: f64| vol > 0.0 && v.abs() < 1e38;
                    MaterialObservables {
                        volume: vol * dv,
                        swelling: if vol > 0.0 {
                            volume_change(sums.map(|v| v / vol))
                        } else {
                            f64::NAN
                        },
                        max_von_mises: if seen(vm) { vm } else { f64::NAN },
                        max_hydrostatic: if seen(hyd) { hyd } else { f64::NAN },
                        mean_c: f64::NAN,
                        // The device refuses configs that flow (gpu::new).
                        max_plastic_strain: 0.0,
                        plastic_work: 0.0,
                    }
                })
                .collect();
        } else {
            // As the CPU without mechanics: the materials' volumes in voxels.
            obs.materials = self
                .phi_volumes
                .iter()
                .map(|&volume| MaterialObservables {
                    volume,
                    mean_c: f64::NAN,
                    ..Default::default()
                })
                .collect();
        }
        for (j, material) in self.component_materials.iter().enumerate() {
            let Some(mi) = *material else { continue };
            let (sum, w) = (
                at(components + 4 * j as u32),
                at(components + 4 * j as u32 + 1),
            );
            if mi < obs.materials.len() && w > 0.0 {
                obs.materials[mi].mean_c = sum / w;
            }
        }
        Ok(obs)
    }
}
