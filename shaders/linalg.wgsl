// linalg.wgsl: vector updates, reductions and the scalar programs that keep the elastic
// conjugate-gradient solve and the fixed point on the device: α, β and the stopping test are
// computed here, and once a solve is done its updates stand still (`frozen`), so the host reads
// back one flag per batch of iterations. CPU counterparts: the rayon loops in
// src/backend/cpu/elasticity.rs (black-box pairs, like reduce.wgsl).

// The commit's reduction lands here (twin in src/backend/gpu/system/mod.rs).
const COMMIT: u32 = 24u;

fn item(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WORKGROUP;
}

// s1 ← s0.
@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n || frozen()) {
        return;
    }
    s1[i] = s0[i];
}

// s0 ← f.
@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n) {
        return;
    }
    s0[i] = op.f;
}

// s0 ← 0 when the solve had nothing to do (‖b‖ = 0): the strain of an unloaded cell.
@compute @workgroup_size(256)
fn zero_if_unloaded(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n || scal[BNORM2] != 0.0) {
        return;
    }
    s0[i] = 0.0;
}

// s1 ← s1 + f scal[a] s0.
@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n || frozen()) {
        return;
    }
    s1[i] = s1[i] + op.f * scal[op.a] * s0[i];
}

// s1 ← s0 + scal[a] s1 (the new search direction).
@compute @workgroup_size(256)
fn xpay(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n || frozen()) {
        return;
    }
    s1[i] = s0[i] + scal[op.a] * s1[i];
}

// s2 ← s0 + f s1.
@compute @workgroup_size(256)
fn lincomb(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n) {
        return;
    }
    s2[i] = s0[i] + op.f * s1[i];
}

// Σ w s0 s1, w = 2 on the shear thirds of a stacked tensor when flag = 1 (Frobenius).
@compute @workgroup_size(256)
fn dot_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = EMPTY;
    if (i < op.n) {
        var w = 1.0;
        if (op.flag == 1u && i >= 3u * params.count) {
            w = 2.0;
        }
        v.x = w * s0[i] * s1[i];
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// Σ s0 (x), and over solid voxels Σ ψ s0 (w), s1 = ψ.
@compute @workgroup_size(256)
fn sum_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = EMPTY;
    if (i < op.n) {
        v.x = s0[i];
        if (is_solid(s1[i])) {
            v.w = s1[i] * s0[i];
        }
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// One workgroup folds the partials: scal[dst] ← Σ (flag 0), ← Σ_solid ψ (flag 2), all four
// of (Σ, max, min, Σ₂) into scal[dst..dst + 4] (flag 1), or (max, min) into scal[dst..dst + 2]
// (flag 3).
@compute @workgroup_size(256)
fn finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    var v = select(EMPTY, vec4<f32>(0.0), op.b == 1u);
    for (var g = lid.x; g < op.parts; g += WORKGROUP) {
        v = combine(v, partial[g]);
    }
    red[lid.x] = v;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            red[lid.x] = combine(red[lid.x], red[lid.x + stride]);
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        let r = red[0];
        if (op.flag == 0u) {
            scal[op.dst] = r.x;
        } else if (op.flag == 2u) {
            scal[op.dst] = r.w;
        } else if (op.flag == 3u) {
            scal[op.dst] = r.y;
            scal[op.dst + 1u] = r.z;
        } else {
            scal[op.dst] = r.x;
            scal[op.dst + 1u] = r.y;
            scal[op.dst + 2u] = r.z;
            scal[op.dst + 3u] = r.w;
        }
    }
}

// Scalar programs (op.index), one invocation.
const RATIO: u32 = 0u;
const START: u32 = 1u;
const BEGIN: u32 = 2u;
const ADVANCE: u32 = 3u;
const CHECK: u32 = 4u;

@compute @workgroup_size(1)
fn scalar() {
    let done = scal[DONE] > 0.5;
    switch op.index {
        case 0u: {
            // scal[dst] ← scal[a] / scal[b]; flag 1: a non-positive or non-finite curvature
            // p·Ap ends the solve as failed (3).
            if (done) {
                return;
            }
            let d = scal[op.b];
            if (op.flag == 1u && (!(d > 0.0) || !is_finite(d))) {
                scal[DONE] = 3.0;
                return;
            }
            scal[op.dst] = scal[op.a] / d;
        }
        case 1u: {
            // A solve starts; it is done at once when ‖r‖² ≤ f ‖b‖² or b = 0.
            scal[ITER] = 0.0;
            scal[DONE] = select(0.0, 1.0, scal[RR] <= op.f * scal[BNORM2] || scal[BNORM2] == 0.0);
        }
        case 2u: {
            // An iteration begins: count it; beyond g iterations the solve has failed (2).
            if (done) {
                return;
            }
            scal[ITER] = scal[ITER] + 1.0;
            if (scal[ITER] > op.g) {
                scal[ITER] = op.g;
                scal[DONE] = 2.0;
            }
        }
        case 3u: {
            // β ← scal[a] / scal[b], then scal[b] ← scal[a] (rz ← rz_new).
            if (done) {
                return;
            }
            scal[BETA] = scal[op.a] / scal[op.b];
            scal[op.b] = scal[op.a];
        }
        case 4u: {
            // Converged when ‖r‖² ≤ f ‖b‖²; failed (3) when ‖r‖ is not finite.
            if (done) {
                return;
            }
            if (!is_finite(scal[RR])) {
                scal[DONE] = 3.0;
            } else if (scal[RR] <= op.f * scal[BNORM2]) {
                scal[DONE] = 1.0;
            }
        }
        default: {}
    }
}
