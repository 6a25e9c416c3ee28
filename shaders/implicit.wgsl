// implicit.wgsl: the spectral helpers of the uniform-density step (cpu/mod.rs `step_inner`
// without faces): real fields to and from the interleaved complex spectrum, and the per-mode
// factors of the gradient, the Laplacian and the semi-implicit filter. Mirrors:
// cpu/cahn_hilliard.rs (`gradient_component`, `laplacian`, `filter_increment`).

// s1 ← (s0, 0) as complex.
@compute @workgroup_size(256)
fn weighted_to_complex(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    s1[2u * i] = s0[i];
    s1[2u * i + 1u] = 0.0;
}

// s0 += Re(s1).
@compute @workgroup_size(256)
fn add_weighted_real(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    s0[i] = s0[i] + s1[2u * i];
}

// Scales each mode of s0 (complex) by −|k|² (flag 4), takes i k_axis times it (flag 3,
// axis = index, Nyquist zeroed), or scales it by dt/(1 + dt L) (flag 5: the semi-implicit
// filter), L = A m_max (κk⁴ + Sk²) with params.stab = A m_max.
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
    var f = -k2;
    if (op.flag == 5u) {
        let l = params.dt * params.stab * (params.kappa * k2 * k2 + params.s * k2);
        f = params.dt / (1.0 + l);
    }
    s0[2u * i] = f * s0[2u * i];
    s0[2u * i + 1u] = f * s0[2u * i + 1u];
}
