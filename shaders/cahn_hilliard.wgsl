// cahn_hilliard.wgsl: the semi-implicit Fourier-spectral Cahn–Hilliard step (model.md §6) for
// one host filling the cell, on full complex spectra (C2C FFT). Mirror of
// src/backend/cpu/cahn_hilliard.rs and chemistry.rs. One invocation handles one voxel or one
// mode. Twin of `Params` in src/backend/gpu/params.rs.
//
// Bindings: 0 Params, 1 AxisParams, 2 c (real), 3 c_hat, 4 mu / mu_hat, 5 scratch, 6 the
// divergence / increment (all complex), 7 reduction partials, 8 reduction results.

struct Params {
    nx: u32,
    ny: u32,
    nz: u32,
    count: u32,
    hx: f32,
    hy: f32,
    hz: f32,
    dt: f32,
    kappa: f32,
    stab: f32,
    s: f32,
    mobility_kind: u32,
    fe_kind: u32,
    segments: u32,
    partials: u32,
    pad0: u32,
    rho: f32,
    well_a: f32,
    well_b: f32,
    pad1: f32,
    seg: array<vec4<f32>, 4>,
};

struct AxisParams {
    axis: u32,
    first: u32,
    pad0: u32,
    pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> ax: AxisParams;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> c_hat: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> mu: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> scratch: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> div: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> result: array<vec4<f32>>;

// The one host's free energy, from the uniform.
fn host_fe() -> FreeEnergy {
    return FreeEnergy(params.fe_kind, params.segments, params.rho, params.well_a, params.well_b, params.seg);
}

// m(c): 1 (constant mobility) or the host's site-blocking factor (Chemistry::mobility_at).
fn host_mobility(c: f32) -> f32 {
    if (params.mobility_kind == 0u) {
        return 1.0;
    }
    return fe_blocking(host_fe(), c);
}

// c_hat ← c (imaginary part 0), before a forward transform.
@compute @workgroup_size(256)
fn load_c(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    c_hat[i] = vec2<f32>(c[i], 0.0);
}

// scratch ← −|k|² c_hat: the spectral Laplacian (full |k|², model.md §8).
@compute @workgroup_size(256)
fn laplacian(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    let k = mode_k(i, false);
    scratch[i] = -dot(k, k) * c_hat[i];
}

// mu ← f'(c) − κ Re(scratch): the diffusion potential (scratch holds ∇²c in real space).
@compute @workgroup_size(256)
fn chemical_potential(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    mu[i] = vec2<f32>(fe_mu(host_fe(), c[i]) - params.kappa * scratch[i].x, 0.0);
}

// scratch ← i k_axis mu_hat: one gradient component (Nyquist zeroed).
@compute @workgroup_size(256)
fn gradient_component(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    let ka = mode_k(i, true)[ax.axis];
    let v = mu[i];
    scratch[i] = vec2<f32>(-ka * v.y, ka * v.x);
}

// scratch ← m(c) Re(scratch): the flux component in real space.
@compute @workgroup_size(256)
fn mobility_flux(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    scratch[i] = vec2<f32>(host_mobility(c[i]) * scratch[i].x, 0.0);
}

// div (+)= i k_axis scratch.
@compute @workgroup_size(256)
fn accumulate_divergence(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    let ka = mode_k(i, true)[ax.axis];
    let f = scratch[i];
    let term = vec2<f32>(-ka * f.y, ka * f.x);
    if (ax.first == 1u) {
        div[i] = term;
    } else {
        div[i] = div[i] + term;
    }
}

// div ← dt div / (1 + dt L): the semi-implicit increment of ĉ, L = stab (κk⁴ + S k²).
@compute @workgroup_size(256)
fn filter_increment(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = voxel(gid, groups);
    if (i >= params.count) {
        return;
    }
    let k = mode_k(i, false);
    let k2 = dot(k, k);
    let l = params.stab * (params.kappa * k2 * k2 + params.s * k2);
    div[i] = div[i] * (params.dt / (1.0 + params.dt * l));
}
