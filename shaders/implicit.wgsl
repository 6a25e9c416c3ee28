// implicit.wgsl: the pieces of the implicit increment operator (model.md §8)
// `(M + dt L) Δc` and its preconditioner, applied by the conjugate gradients that
// linalg.wgsl keeps on the device. Mirror of src/backend/cpu/implicit.rs (`operator`,
// `precondition`, `group_pass`). Group g's weight W_g comes stacked in s2.

// The mass of voxels that are not solid, in units of ψ_floor (problem.rs PORE_MASS: why).
const PORE_MASS: f32 = 1e-4;

// s1 ← M s0 with M = ψ on solid voxels and PORE_MASS ψ_floor elsewhere (s2 = ψ).
@compute @workgroup_size(256)
fn mass_times(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    var m = PORE_MASS * params.psi_floor;
    if (is_solid(s2[i])) {
        m = s2[i];
    }
    s1[i] = m * s0[i];
}

fn weight(i: u32) -> f32 {
    if (op.flag == 1u) {
        return s2[op.index * params.count + i];
    }
    return 1.0;
}

// s1 ← (w s0, 0) as complex, w = s2[index] (flag 1) or 1.
@compute @workgroup_size(256)
fn weighted_to_complex(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    s1[2u * i] = weight(i) * s0[i];
    s1[2u * i + 1u] = 0.0;
}

// s0 += w Re(s1), w as in `weighted_to_complex`.
@compute @workgroup_size(256)
fn add_weighted_real(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    s0[i] = s0[i] + weight(i) * s1[2u * i];
}

// Scales each mode of s0 (complex) by group `index`'s dt L_g (flag 0), by
// 1/(ψ̄_g + dt L_g) (flag 1), by −|k|² (flag 4), or takes i k_axis times it
// (flag 3, axis = index, Nyquist zeroed), or by dt/(1 + dt L_0) (flag 5: the semi-implicit
// filter of the one-density step); L_g = A m_g (κk⁴ + Sk²).
@compute @workgroup_size(256)
fn scale_modes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    if (op.flag == 3u) {
        let ka = mode_k(i, true)[op.index];
        let re = s0[2u * i];
        s0[2u * i] = -ka * s0[2u * i + 1u];
        s0[2u * i + 1u] = ka * re;
        return;
    }
    let k = mode_k(i, false);
    let k2 = dot(k, k);
    let b = group_base(select(op.index, 0u, op.flag >= 2u && op.flag != 5u));
    let l = params.dt * params.stab * table[b] * (params.kappa * k2 * k2 + params.s * k2);
    var f = l;
    if (op.flag == 1u) {
        f = 1.0 / (table[b + 1u] + l);
    } else if (op.flag == 4u) {
        f = -k2;
    } else if (op.flag == 5u) {
        f = params.dt / (1.0 + l);
    }
    s0[2u * i] = f * s0[2u * i];
    s0[2u * i + 1u] = f * s0[2u * i + 1u];
}
