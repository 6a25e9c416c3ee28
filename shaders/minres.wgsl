// minres.wgsl: preconditioned MINRES (Paige & Saunders 1975) on the device, for the symmetric
// indefinite Newton systems of the convex-splitting step (model.md §8). The vector updates run
// one element per invocation; the scalar recurrences (Lanczos coefficients, Givens rotation)
// run in one workgroup that also folds the dot product's partial sums, so a solve needs no
// read back until the host checks `done`. Mirror of src/backend/cpu/krylov.rs, entry point for
// entry point; the operator and the preconditioner are the caller's kernels.
//
// Every entry point returns at once when the solve is over, so the host may record a batch of
// iterations past convergence and read `done` once per batch.

const VOXELS: u32 = 256u;

// Twin of `GpuMinresState` in src/backend/gpu/minres.rs (the f32 `MinresState` of krylov.rs).
struct MinresState {
    tolerance: f32,
    beta1: f32,
    beta: f32,
    oldb: f32,
    alpha: f32,
    dbar: f32,
    epsln: f32,
    oldeps: f32,
    delta: f32,
    phi: f32,
    phibar: f32,
    cs: f32,
    sn: f32,
    denom: f32,
    iterations: u32,
    // 0 running; 1 converged at this iteration (its update still applies); 2 finished.
    done: u32,
};

@group(0) @binding(0) var<storage, read_write> minres: MinresState;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read> rhs: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> r1: array<f32>;
@group(0) @binding(7) var<storage, read_write> r2: array<f32>;
@group(0) @binding(8) var<storage, read_write> w: array<f32>;
@group(0) @binding(9) var<storage, read_write> w1: array<f32>;
@group(0) @binding(10) var<storage, read_write> w2: array<f32>;
@group(0) @binding(11) var<storage, read> left: array<f32>;
@group(0) @binding(12) var<storage, read> right: array<f32>;

fn kr_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * VOXELS;
}

// r2 = rhs, x = 0, the update directions cleared.
@compute @workgroup_size(VOXELS)
fn minres_start(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = kr_index(gid, groups);
    if (i >= arrayLength(&x)) {
        return;
    }
    r2[i] = rhs[i];
    x[i] = 0.0;
    w[i] = 0.0;
    w1[i] = 0.0;
    w2[i] = 0.0;
}

var<workgroup> kr_sum: array<f32, VOXELS>;

// Sums kr_sum into kr_sum[0] (a tree, every invocation of the workgroup taking part).
fn kr_tree(t: u32) {
    workgroupBarrier();
    for (var k = VOXELS / 2u; k > 0u; k = k / 2u) {
        if (t < k) {
            kr_sum[t] = kr_sum[t] + kr_sum[t + k];
        }
        workgroupBarrier();
    }
}

// ⟨left, right⟩ per workgroup into partials (the 1-workgroup entries fold them).
@compute @workgroup_size(VOXELS)
fn dot_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = kr_index(gid, groups);
    var s = 0.0;
    if (i < arrayLength(&left)) {
        s = left[i] * right[i];
    }
    kr_sum[t] = s;
    kr_tree(t);
    if (t == 0u) {
        partials[wid.x + wid.y * groups.x] = kr_sum[0];
    }
}

// The sum of the partials, in one workgroup (every invocation gets it).
fn kr_fold(t: u32) -> f32 {
    var s = 0.0;
    for (var k = t; k < arrayLength(&partials); k = k + VOXELS) {
        s = s + partials[k];
    }
    kr_sum[t] = s;
    kr_tree(t);
    return kr_sum[0];
}

// β₁ from ⟨r2, M⁻¹ r2⟩ and the recurrences' start; finished at once for a zero right-hand side.
@compute @workgroup_size(VOXELS)
fn minres_begin(@builtin(local_invocation_index) t: u32) {
    let dot = kr_fold(t);
    if (t != 0u) {
        return;
    }
    let beta1 = sqrt(max(dot, 0.0));
    minres.beta1 = beta1;
    minres.beta = beta1;
    minres.oldb = 0.0;
    minres.alpha = 0.0;
    minres.dbar = 0.0;
    minres.epsln = 0.0;
    minres.oldeps = 0.0;
    minres.delta = 0.0;
    minres.phi = 0.0;
    minres.phibar = beta1;
    minres.cs = -1.0;
    minres.sn = 0.0;
    minres.denom = 0.0;
    minres.iterations = 0u;
    minres.done = select(0u, 2u, beta1 == 0.0);
}

// v = y/β.
@compute @workgroup_size(VOXELS)
fn minres_normalise(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = kr_index(gid, groups);
    if (minres.done != 0u || i >= arrayLength(&v)) {
        return;
    }
    v[i] = (1.0 / minres.beta) * y[i];
}

// y −= (β/β_old) r1, from the second iteration on.
@compute @workgroup_size(VOXELS)
fn minres_lanczos_previous(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = kr_index(gid, groups);
    if (minres.done != 0u || minres.iterations == 0u || i >= arrayLength(&y)) {
        return;
    }
    y[i] = y[i] - (minres.beta / minres.oldb) * r1[i];
}

// α = ⟨v, y⟩.
@compute @workgroup_size(VOXELS)
fn minres_alpha(@builtin(local_invocation_index) t: u32) {
    let dot = kr_fold(t);
    if (t == 0u && minres.done == 0u) {
        minres.alpha = dot;
    }
}

// y −= (α/β) r2.
@compute @workgroup_size(VOXELS)
fn minres_lanczos(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = kr_index(gid, groups);
    if (minres.done != 0u || i >= arrayLength(&y)) {
        return;
    }
    y[i] = y[i] - (minres.alpha / minres.beta) * r2[i];
}

// β from ⟨r2, M⁻¹ r2⟩, the Givens rotation and this iteration's update coefficients; converged
// once φ̄ falls to the tolerance of β₁ (or the Krylov space is exhausted).
@compute @workgroup_size(VOXELS)
fn minres_rotate(@builtin(local_invocation_index) t: u32) {
    let dot = kr_fold(t);
    if (t != 0u) {
        return;
    }
    if (minres.done != 0u) {
        minres.done = 2u;
        return;
    }
    minres.oldb = minres.beta;
    minres.beta = sqrt(max(dot, 0.0));
    minres.oldeps = minres.epsln;
    minres.delta = minres.cs * minres.dbar + minres.sn * minres.alpha;
    let gbar = minres.sn * minres.dbar - minres.cs * minres.alpha;
    minres.epsln = minres.sn * minres.beta;
    minres.dbar = -minres.cs * minres.beta;
    let gamma = max(sqrt(gbar * gbar + minres.beta * minres.beta), 1.1920929e-7);
    minres.cs = gbar / gamma;
    minres.sn = minres.beta / gamma;
    minres.phi = minres.cs * minres.phibar;
    minres.phibar = minres.phibar * minres.sn;
    minres.denom = 1.0 / gamma;
    minres.iterations = minres.iterations + 1u;
    if (minres.phibar <= minres.tolerance * minres.beta1 || minres.beta == 0.0) {
        minres.done = 1u;
    }
}

// w = (v − ε_old w1 − δ w2)/γ and x += φ w (the host has rotated w1 ← w2 ← w first).
@compute @workgroup_size(VOXELS)
fn minres_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = kr_index(gid, groups);
    if (minres.done == 2u || i >= arrayLength(&x)) {
        return;
    }
    let wi = (v[i] - minres.oldeps * w1[i] - minres.delta * w2[i]) * minres.denom;
    w[i] = wi;
    x[i] = x[i] + minres.phi * wi;
}
