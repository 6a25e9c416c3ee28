//! Reductions for the time series on the CPU (rayon sums; the GPU's `reduce.wgsl` must agree
//! to f32 round-off). Model units throughout.

use rayon::prelude::*;
use rustfft::num_complex::Complex64;

use super::cahn_hilliard::Wavenumbers;
use super::elasticity::{Elasticity, expansion_tensor, volume_change, von_mises};
use super::fft::Spectrum;
use crate::backend::{MaterialObservables, Observables};
use crate::problem::Chemistry;

/// Observables of a field that went non-finite: only the count means anything.
pub fn non_finite(count: u64, materials: usize) -> Observables {
    Observables {
        mean_c: f64::NAN,
        c_min: f64::NAN,
        c_max: f64::NAN,
        total_c: f64::NAN,
        energy_chemical: f64::NAN,
        energy_gradient: f64::NAN,
        energy_elastic: f64::NAN,
        mean_strain: [f64::NAN; 6],
        mean_stress: [f64::NAN; 6],
        materials: vec![MaterialObservables::default(); materials],
        overstressed_fraction: f64::NAN,
        non_finite: count,
        elastic_solve: None,
    }
}

/// `Σ_x κ/2 |∇c|² ΔV` by Parseval, `Σ_x |∇c|² = (1/N) Σ_k |k|² |ĉ_k|²`, with the full |k|² so
/// that μ is exactly this discrete energy's variation (uniform site density).
pub fn gradient_energy_parseval(
    c_hat: &[Complex64],
    spectrum: &Spectrum,
    k: &Wavenumbers,
    kappa: f64,
    dv: f64,
    n: usize,
) -> f64 {
    let [_, ny, nz] = spectrum.n;
    let grad2: f64 = c_hat
        .par_chunks(ny * nz)
        .enumerate()
        .map(|(kx, plane)| {
            let mut s = 0.0;
            for ky in 0..ny {
                for kz in 0..nz {
                    s += k.k2(kx, ky, kz) * plane[ky * nz + kz].norm_sqr();
                }
            }
            s * spectrum.multiplicity(kx)
        })
        .sum();
    0.5 * kappa * grad2 / n as f64 * dv
}

/// Mean, extremes and total of c over the solid, and the chemical energy.
pub fn observe_chemistry(c: &[f64], chem: &Chemistry, dv: f64) -> Observables {
    let (sum, count, min, max, total, energy) = c
        .par_iter()
        .enumerate()
        .map(|(i, &c)| {
            let psi = chem.psi_at(i);
            let e = chem.energy_density(i, c);
            if chem.is_solid(i) {
                (c, 1.0, c, c, psi * c, e)
            } else {
                (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0)
            }
        })
        .reduce(
            || (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0),
            |a, b| {
                (
                    a.0 + b.0,
                    a.1 + b.1,
                    a.2.min(b.2),
                    a.3.max(b.3),
                    a.4 + b.4,
                    a.5 + b.5,
                )
            },
        );
    Observables {
        mean_c: sum / count,
        c_min: min,
        c_max: max,
        total_c: total * dv,
        energy_chemical: energy * dv,
        energy_gradient: 0.0,
        energy_elastic: 0.0,
        mean_strain: [0.0; 6],
        mean_stress: [0.0; 6],
        materials: Vec::new(),
        overstressed_fraction: 0.0,
        non_finite: 0,
        elastic_solve: None,
    }
}

/// Elastic energy, mean strain and stress, and per material the swelling and stress maxima.
pub fn observe_elasticity(
    obs: &mut Observables,
    el: &Elasticity,
    phi: &[Vec<f64>],
    c: &[f64],
    dv: f64,
) {
    let n = el.local.len();
    let (energy, stress_sum) = (0..n)
        .into_par_iter()
        .map(|i| (el.energy_at(i), el.stress_at(i)))
        .reduce(
            || (0.0, [0.0; 6]),
            |a, b| (a.0 + b.0, std::array::from_fn(|k| a.1[k] + b.1[k])),
        );
    obs.energy_elastic = energy * dv;
    // Solid voxels (not mostly electrolyte) above the overstress threshold, by volume.
    let mech = &el.mechanics;
    let (solid, over) = (0..n)
        .into_par_iter()
        .filter(|&i| mech.electrolyte.is_none_or(|e| phi[e][i] < 0.5))
        .map(|i| {
            (
                1.0,
                if von_mises(el.solid_stress_at(i)) > mech.overstress {
                    1.0
                } else {
                    0.0
                },
            )
        })
        .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    obs.overstressed_fraction = if solid > 0.0 { over / solid } else { 0.0 };
    obs.mean_strain = el.mean_strain();
    obs.mean_stress = stress_sum.map(|v| v / n as f64);
    // Per voxel the fraction of the materials that flow there: a voxel's plastic work is
    // shared among them by their fractions.
    let flows: Vec<bool> = mech.materials.iter().map(|m| m.plastic.is_some()).collect();
    let flowing: Vec<f64> = if el.is_plastic() {
        (0..n)
            .into_par_iter()
            .map(|i| {
                (0..phi.len())
                    .filter(|&m| flows[m])
                    .map(|m| phi[m][i])
                    .sum()
            })
            .collect()
    } else {
        Vec::new()
    };
    obs.materials = phi
        .iter()
        .enumerate()
        .map(|(m, f)| {
            let (max_plastic_strain, plastic_work) = if flows[m] {
                (0..n)
                    .into_par_iter()
                    .filter(|&i| f[i] > 0.0)
                    .map(|i| {
                        let alpha = if f[i] > 0.5 {
                            el.equivalent_plastic_strain_at(i)
                        } else {
                            0.0
                        };
                        (alpha, f[i] / flowing[i] * el.plastic_work_at(i))
                    })
                    .reduce(|| (0.0, 0.0), |a, b| (a.0.max(b.0), a.1 + b.1))
            } else {
                (0.0, 0.0)
            };
            // A material's swelling is det(I + ⟨ε_m⟩) − 1 with ε_m = B_m (c − c_ref) + C_m⁻¹ σ (+ ε_p
            // where it flows) its own strain (eigenstrain plus its elastic response to the local
            // stress and its plastic strain), averaged
            // with weight φ_m (model.md §5, §8). For a sharp interface this is the region's
            // strain; with a diffuse one it keeps the surroundings' deformation out, which the
            // total strain of a boundary voxel would mix in (biasing swelling low by ~σ/R).
            let mat = &el.mechanics.materials[m];
            let (vol, sum, vm, hyd) = (0..n)
                .into_par_iter()
                .filter(|&i| f[i] > 0.0)
                .map(|i| {
                    // A laminate voxel's solid materials carry its solid part's stress.
                    let s = if Some(m) == mech.electrolyte {
                        el.stress_at(i)
                    } else {
                        el.solid_stress_at(i)
                    };
                    let ci = c[i].clamp(0.0, 1.0);
                    let (l, mu) = (mat.lambda0 + mat.dlambda * ci, mat.mu0 + mat.dmu * ci);
                    let b = expansion_tensor(mat.expansion.a, mat.expansion.c, el.axis_at(i));
                    let tr = s[0] + s[1] + s[2];
                    // A voxel that flowed carries its plastic strain too.
                    let plastic = if mat.plastic.is_some() {
                        el.plastic_strain_at(i)
                    } else {
                        [0.0; 6]
                    };
                    let e: [f64; 6] = std::array::from_fn(|k| {
                        let iso = if k < 3 {
                            l / (3.0 * l + 2.0 * mu) * tr
                        } else {
                            0.0
                        };
                        f[i] * (b[k] * (c[i] - mat.c_ref) + (s[k] - iso) / (2.0 * mu) + plastic[k])
                    });
                    let major = f[i] > 0.5;
                    let vm = if major {
                        von_mises(s)
                    } else {
                        f64::NEG_INFINITY
                    };
                    let h = if major { tr / 3.0 } else { f64::NEG_INFINITY };
                    (f[i], e, vm, h)
                })
                .reduce(
                    || (0.0, [0.0; 6], f64::NEG_INFINITY, f64::NEG_INFINITY),
                    |a, b| {
                        (
                            a.0 + b.0,
                            std::array::from_fn(|k| a.1[k] + b.1[k]),
                            a.2.max(b.2),
                            a.3.max(b.3),
                        )
                    },
                );
            let swell = if vol > 0.0 {
                volume_change(sum.map(|v| v / vol))
            } else {
                0.0
            };
            MaterialObservables {
                volume: vol * dv,
                swelling: if vol > 0.0 { swell } else { f64::NAN },
                // A material absent from the cell has no stress to report, not a zero one.
                max_von_mises: if vol > 0.0 && vm.is_finite() {
                    vm
                } else {
                    f64::NAN
                },
                max_hydrostatic: if vol > 0.0 && hyd.is_finite() {
                    hyd
                } else {
                    f64::NAN
                },
                mean_c: f64::NAN,
                max_plastic_strain,
                plastic_work: plastic_work * dv,
            }
        })
        .collect();
}

/// Site-weighted mean c per material (and volumes when mechanics did not fill them).
pub fn material_compositions(
    c: &[f64],
    chem: &Chemistry,
    phi: &[Vec<f64>],
    mut mats: Vec<MaterialObservables>,
) -> Vec<MaterialObservables> {
    if mats.len() != phi.len() {
        mats = phi
            .iter()
            .map(|f| MaterialObservables {
                volume: f.par_iter().sum(),
                ..Default::default()
            })
            .collect();
    }
    for m in mats.iter_mut() {
        m.mean_c = f64::NAN;
    }
    for comp in &chem.components {
        let Some(mi) = comp.material else { continue };
        let (s, w) = match &comp.psi {
            Some(p) => p
                .par_iter()
                .zip(c.par_iter())
                .map(|(p, c)| (p * c, *p))
                .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1)),
            None => (c.par_iter().sum(), c.len() as f64),
        };
        if mi < mats.len() && w > 0.0 {
            mats[mi].mean_c = s / w;
        }
    }
    mats
}
