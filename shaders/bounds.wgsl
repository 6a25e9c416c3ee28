// bounds.wgsl: the step's last act, the projection of ĉ onto [LOWER, UPPER] that keeps Σψc
// (model.md §8): c = clamp(ĉ + ξ), ξ by a fixed number of Newton steps on the device, the last
// correction δ on the voxels inside the bounds only, so the ion count is exact whatever Newton
// did. CPU mirror: src/backend/cpu/bounds.rs (same names, same constants).

// LOWER is the logarithm's floor, UPPER where f32 still resolves 1 − c (why: bounds.rs).
const LOWER: f32 = 1e-30;
const UPPER: f32 = 0.999999;

// Over the solid (s1 = ψ) at ξ = scal[a], y = s0 + ξ: (Σ ψ where y is strictly inside,
// Σ ψ |clamp(y) − y|, the count where y is outside [−1, 2) or not finite (a diverged step, not
// a cut one), Σ ψ clamp(y)); reduce with b = 1 (plain sums).
@compute @workgroup_size(256)
fn bound_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = vec4<f32>(0.0);
    if (i < op.n && is_solid(s1[i])) {
        let p = s1[i];
        let y = s0[i] + scal[op.a];
        let k = clamp(y, LOWER, UPPER);
        if (y > LOWER && y < UPPER) {
            v.x = p;
        }
        v.y = p * abs(k - y);
        if (!(y >= -1.0 && y < 2.0) || !is_finite(y)) {
            v.z = 1.0;
        }
        v.w = p * k;
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// s0 ← clamp(s0 + ξ), + δ where s0 + ξ is inside, on the solid (s1 = ψ); ξ = scal[a],
// δ = scal[b].
@compute @workgroup_size(256)
fn bound_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= op.n || !is_solid(s1[i])) {
        return;
    }
    let y = s0[i] + scal[op.a];
    if (y > LOWER && y < UPPER) {
        s0[i] = y + scal[op.b];
    } else {
        s0[i] = clamp(y, LOWER, UPPER);
    }
}
