// reduce.wgsl: reductions over the grid, two passes (each workgroup to one partial, then one
// workgroup over the partials); only the final few scalars come back to the host. Mirror of
// src/backend/cpu/reduce.rs (a black-box pair: rayon sums there). Part of the Cahn–Hilliard
// family's bind group.

var<workgroup> red_a: array<vec4<f32>, 256>;
var<workgroup> red_b: array<vec4<f32>, 256>;

// (sum, min, max, sum f(c)) and (max |Δc|, non-finite count, Σ|k|²|ĉ|², 0) per workgroup.
fn combine(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(a.x + b.x, min(a.y, b.y), max(a.z, b.z), a.w + b.w);
}

fn combine2(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(max(a.x, b.x), a.y + b.y, a.z + b.z, a.w + b.w);
}

fn is_finite(v: f32) -> bool {
    // NaN fails both comparisons; ±inf exceeds the largest f32.
    return abs(v) <= 3.4e38;
}

// Commits the increment (div, in real space) into c and reduces c's statistics and the step's
// max |Δc| and non-finite count into partials (two vec4 per workgroup).
@compute @workgroup_size(256)
fn commit_and_reduce(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = voxel(gid, groups);
    var a = vec4<f32>(0.0, 3.4e38, -3.4e38, 0.0);
    var b = vec4<f32>(0.0);
    if (i < params.count) {
        let dc = div[i].x;
        let v = c[i] + dc;
        c[i] = v;
        if (is_finite(v)) {
            a = vec4<f32>(v, v, v, fe_f(host_fe(), v));
            b = vec4<f32>(abs(dc), 0.0, 0.0, 0.0);
        } else {
            b = vec4<f32>(0.0, 1.0, 0.0, 0.0);
        }
    }
    reduce_pair(a, b, lid.x, wid.x + wid.y * groups.x);
}

// The same statistics of the current c, and Σ |k|² |ĉ|² (c_hat must hold F(c)).
@compute @workgroup_size(256)
fn observe_reduce(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = voxel(gid, groups);
    var a = vec4<f32>(0.0, 3.4e38, -3.4e38, 0.0);
    var b = vec4<f32>(0.0);
    if (i < params.count) {
        let v = c[i];
        let k = mode_k(i, false);
        let h = c_hat[i];
        if (is_finite(v)) {
            a = vec4<f32>(v, v, v, fe_f(host_fe(), v));
            b = vec4<f32>(0.0, 0.0, dot(k, k) * dot(h, h), 0.0);
        } else {
            b = vec4<f32>(0.0, 1.0, 0.0, 0.0);
        }
    }
    reduce_pair(a, b, lid.x, wid.x + wid.y * groups.x);
}

fn reduce_pair(a: vec4<f32>, b: vec4<f32>, l: u32, group: u32) {
    red_a[l] = a;
    red_b[l] = b;
    workgroupBarrier();
    var stride = WORKGROUP / 2u;
    loop {
        if (stride == 0u) {
            break;
        }
        if (l < stride) {
            red_a[l] = combine(red_a[l], red_a[l + stride]);
            red_b[l] = combine2(red_b[l], red_b[l + stride]);
        }
        workgroupBarrier();
        stride = stride / 2u;
    }
    if (l == 0u) {
        partial[2u * group] = red_a[0];
        partial[2u * group + 1u] = red_b[0];
    }
}

// One workgroup folds all partials into result[0..2].
@compute @workgroup_size(256)
fn finish_reduce(@builtin(local_invocation_id) lid: vec3<u32>) {
    var a = vec4<f32>(0.0, 3.4e38, -3.4e38, 0.0);
    var b = vec4<f32>(0.0);
    for (var g = lid.x; g < params.partials; g += WORKGROUP) {
        a = combine(a, partial[2u * g]);
        b = combine2(b, partial[2u * g + 1u]);
    }
    red_a[lid.x] = a;
    red_b[lid.x] = b;
    workgroupBarrier();
    var stride = WORKGROUP / 2u;
    loop {
        if (stride == 0u) {
            break;
        }
        if (lid.x < stride) {
            red_a[lid.x] = combine(red_a[lid.x], red_a[lid.x + stride]);
            red_b[lid.x] = combine2(red_b[lid.x], red_b[lid.x + stride]);
        }
        workgroupBarrier();
        stride = stride / 2u;
    }
    if (lid.x == 0u) {
        result[0] = red_a[0];
        result[1] = red_b[0];
    }
}
