// observe.wgsl: the time-series reductions of the multi-material step (model.md §5), each a
// program of `observe_partial` folding four lanes per voxel; the host assembles the observables
// from the folded lanes. Mirror of src/backend/cpu/reduce.rs (`observe_chemistry`,
// `observe_elasticity`, `material_compositions`, `gradient_energy_parseval`).
//
// Slots: s0 c, s1 ψ, s2 ψ_m or φ_m stacked, s3 strain, s4 local (λ, μ, ∂λ, ∂μ), s5 ε*,
// s6 the c-axis (stacked), s7 |∇c|² (real) or ĉ (complex, Parseval). op.a: the material or
// component; op.b: 0 for (sum, max, min, sum) lanes, 1 for four sums.

const OBS_C: u32 = 0u;
const OBS_ENERGY: u32 = 1u;
const OBS_PARSEVAL: u32 = 3u;
const OBS_ELASTIC: u32 = 4u;
const OBS_STRESS: u32 = 5u;
const OBS_STRAIN: u32 = 6u;
const OBS_MATERIAL: u32 = 7u;
const OBS_MATERIAL_STRAIN: u32 = 8u;
const OBS_COMPOSITION: u32 = 9u;
const OBS_NON_FINITE: u32 = 10u;

fn stress_at(i: u32) -> array<f32, 6> {
    let n = params.count;
    var e: array<f32, 6>;
    for (var k = 0u; k < 6u; k = k + 1u) {
        e[k] = s3[k * n + i] - s5[k * n + i];
    }
    return hooke(s4[i], s4[n + i], e);
}

fn von_mises(s: array<f32, 6>) -> f32 {
    let d = (s[0] - s[1]) * (s[0] - s[1]) + (s[1] - s[2]) * (s[1] - s[2]) + (s[2] - s[0]) * (s[2] - s[0]);
    return sqrt(0.5 * d + 3.0 * (s[3] * s[3] + s[4] * s[4] + s[5] * s[5]));
}

// Material m's own strain at voxel i, φ_m-weighted: B_m (c − c_ref) + C_m⁻¹ σ.
fn material_strain(m: u32, i: u32) -> array<f32, 6> {
    let n = params.count;
    let f = s2[m * n + i];
    let b = material_base(m);
    let c = s0[i];
    let ci = clamp(c, 0.0, 1.0);
    let l = table[b] + table[b + 2u] * ci;
    let mu = table[b + 1u] + table[b + 3u] * ci;
    var ax = vec3<f32>(0.0, 0.0, 1.0);
    if (params.anisotropic == 1u) {
        ax = vec3<f32>(s6[i], s6[n + i], s6[2u * n + i]);
    }
    let a = table[b + 4u];
    let d = table[b + 5u] - a;
    let s = stress_at(i);
    let tr = s[0] + s[1] + s[2];
    var e: array<f32, 6>;
    for (var k = 0u; k < 6u; k = k + 1u) {
        let p = pair_i(k);
        let q = pair_j(k);
        var bk = d * ax[p] * ax[q];
        var iso = 0.0;
        if (p == q) {
            bk = bk + a;
            iso = l / (3.0 * l + 2.0 * mu) * tr;
        }
        e[k] = f * (bk * (c - table[b + 6u]) + (s[k] - iso) / (2.0 * mu));
    }
    return e;
}

@compute @workgroup_size(256)
fn observe_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = select(EMPTY, vec4<f32>(0.0), op.b == 1u);
    let n = params.count;
    if (i < n) {
        switch op.index {
            case 0u: {
                // (Σ c, max c, min c, count) over the solid.
                let c = s0[i];
                if (is_solid(s1[i])) {
                    v = vec4<f32>(c, c, c, 1.0);
                }
            }
            case 1u: {
                // (Σ ψ c, Σ Σ_m ψ_m g_m(c)) over the solid, and the count of voxels anywhere whose
                // c is not finite (sums).
                v.z = select(1.0, 0.0, is_finite(s0[i]));
                if (is_solid(s1[i])) {
                    let c = s0[i];
                    var e = 0.0;
                    for (var m = 0u; m < params.components; m = m + 1u) {
                        let w = s2[m * n + i];
                        if (w > 0.0) {
                            e = e + w * fe_f(component_fe(m), c);
                        }
                    }
                    v.x = s1[i] * c;
                    v.y = e;
                }
            }
            case 3u: {
                // (Σ |k|² |ĉ|², ·, ·, ·) over all modes (sums).
                let k = mode_k(i, false);
                v.x = dot(k, k) * (s7[2u * i] * s7[2u * i] + s7[2u * i + 1u] * s7[2u * i + 1u]);
            }
            case 4u: {
                // (½ σ : (ε − ε*), overstressed solid, solid, ·), solid = not mostly electrolyte.
                let s = stress_at(i);
                var w = 0.0;
                for (var k = 0u; k < 6u; k = k + 1u) {
                    w = w + select(1.0, 2.0, k >= 3u) * s[k] * (s3[k * n + i] - s5[k * n + i]);
                }
                v = vec4<f32>(0.5 * w, 0.0, 0.0, 0.0);
                if (params.electrolyte == 0xffffffffu || s2[params.electrolyte * n + i] < 0.5) {
                    v.z = 1.0;
                    v.y = select(0.0, 1.0, von_mises(s) > params.overstress);
                }
            }
            case 5u: {
                // Σ σ_k for k = a .. a + 3 (sums).
                let s = stress_at(i);
                for (var k = 0u; k < 4u; k = k + 1u) {
                    if (op.a + k < 6u) {
                        v[k] = s[op.a + k];
                    }
                }
            }
            case 6u: {
                // Σ ε_k for k = a .. a + 3 (sums).
                for (var k = 0u; k < 4u; k = k + 1u) {
                    if (op.a + k < 6u) {
                        v[k] = s3[(op.a + k) * n + i];
                    }
                }
            }
            case 7u: {
                // Material a: (Σ φ, max von Mises, min −σ_h where φ > ½, Σ φ-weighted own ε_xx).
                let f = s2[op.a * n + i];
                if (f > 0.0) {
                    let s = stress_at(i);
                    v.x = f;
                    if (f > 0.5) {
                        v.y = von_mises(s);
                        v.z = -(s[0] + s[1] + s[2]) / 3.0;
                    }
                    v.w = material_strain(op.a, i)[0];
                }
            }
            case 8u: {
                // Material a (index) — its own strain components 1..4 (sums); flag 1: component 5.
                let f = s2[op.a * n + i];
                if (f > 0.0) {
                    let e = material_strain(op.a, i);
                    if (op.flag == 1u) {
                        v.x = e[5];
                    } else {
                        v = vec4<f32>(e[1], e[2], e[3], e[4]);
                    }
                }
            }
            case 9u: {
                // Component a: (Σ ψ_m c, Σ ψ_m, ·, ·) (sums).
                let w = s2[op.a * n + i];
                v = vec4<f32>(w * s0[i], w, 0.0, 0.0);
            }
            default: {
                // Voxels whose c is not finite (sums).
                v.x = select(1.0, 0.0, is_finite(s0[i]));
            }
        }
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// s7 ← a derived field for snapshots: stress component `index` (0–5), von Mises (6) or the
// volumetric strain tr ε (7). Slots as `observe_partial`.
@compute @workgroup_size(256)
fn derived_field(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n) {
        return;
    }
    let s = stress_at(i);
    if (op.index < 6u) {
        s7[i] = s[op.index];
    } else if (op.index == 6u) {
        s7[i] = von_mises(s);
    } else {
        s7[i] = s3[i] + s3[n + i] + s3[2u * n + i];
    }
}
