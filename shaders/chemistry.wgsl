// chemistry.wgsl: the pointwise chemistry the multi-material families share (model.md §4,
// §8): the spectral step's diffusion potential of a mixture of hosts of one site density, its
// site-blocking mobility, flux and commit, the elastic terms of μ (also the convex-splitting
// step's stress coupling), and the nearest-solid extension into pores. Mirrors:
// src/backend/cpu/chemistry.rs (`chemical_potential`, `site_mobility`), cahn_hilliard.rs
// (`mobility_flux`, `accumulate_divergence`, `commit`) and cpu/mod.rs (`elastic_potential`,
// `elastic_stiffness`, `extend`). ψ arrives in a slot; a voxel is solid where ψ ≥ ψ_floor.

// s1 ← s0[nearest] (s2: the nearest solid voxel's index, stored as an exact f32).
@compute @workgroup_size(256)
fn gather_nearest(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    s1[i] = s0[u32(s2[i])];
}

const MIX_MU: u32 = 0u;
const MIX_BLOCKING: u32 = 1u;

// Σ_m (ψ_m/ψ) q_m(c) with q = g' (MIX_MU) or the site-blocking factor b (MIX_BLOCKING):
// Chemistry::mixture (s3 = ψ, s4 = ψ_m stacked).
fn mixture(i: u32, c: f32, what: u32) -> f32 {
    var s = 0.0;
    for (var m = 0u; m < params.components; m = m + 1u) {
        let w = s4[m * params.count + i];
        if (w > 0.0) {
            let fe = component_fe(m);
            s = s + w * select(fe_mu(fe, c), fe_blocking(fe, c), what == MIX_BLOCKING);
        }
    }
    return s / max(s3[i], params.psi_floor);
}

// s1 ← the site-blocking mobility factor Σ_m (ψ_m/ψ) b_m(c), or 1 for a constant mobility
// (s0 = c, s3 = ψ, s4 = ψ_m stacked): once per voxel, for the faces and fluxes that read it.
// Mirror: chemistry.rs `site_mobility`.
@compute @workgroup_size(256)
fn site_mobility(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    if (params.mobility_kind == 0u) {
        s1[i] = 1.0;
    } else {
        s1[i] = mixture(i, s0[i], MIX_BLOCKING);
    }
}

// s2 ← Σ_m (ψ_m/ψ) g_m'(c) − κ s1 on solid voxels (s0 = c, s1 = the Laplacian, s3 = ψ,
// s4 = ψ_m stacked): the spectral step's μ (every voxel solid there).
@compute @workgroup_size(256)
fn chemical_potential(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count || !is_solid(s3[i])) {
        return;
    }
    s2[i] = mixture(i, s0[i], MIX_MU) - params.kappa * s1[i];
}

// s0 += (−σ : A + ½ e : C' : e)/ψ on solid voxels: the elastic part of μ (mirror of
// `elastic_potential` in cpu/mod.rs). s1 strain, s2 ε*, s3 ∂ε*/∂c (stacked Voigt), s4 the
// local (λ, μ, ∂λ, ∂μ), s5 ψ.
@compute @workgroup_size(256)
fn elastic_potential(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n || !is_solid(s5[i])) {
        return;
    }
    var e: array<f32, 6>;
    for (var k = 0u; k < 6u; k = k + 1u) {
        e[k] = s1[k * n + i] - s2[k * n + i];
    }
    let sigma = hooke(s4[i], s4[n + i], e);
    let soft = hooke(s4[2u * n + i], s4[3u * n + i], e);
    var s_a = 0.0;
    var e_soft = 0.0;
    for (var k = 0u; k < 6u; k = k + 1u) {
        let w = select(1.0, 2.0, k >= 3u);
        s_a = s_a + w * sigma[k] * s3[k * n + i];
        e_soft = e_soft + w * e[k] * soft[k];
    }
    s0[i] = s0[i] + (-s_a + 0.5 * e_soft) / max(s5[i], params.psi_floor);
}

// s0 ← ½ A : C⁺ : A / ψ on solid voxels, 0 elsewhere: the stiffness of the convex-splitting
// step's stabiliser for the explicit stress term, A = ∂ε*/∂c and C⁺ the stiffness at its
// stiffer end over c (mirror of `elastic_stiffness` in cpu/mod.rs). s1 ∂ε*/∂c (stacked Voigt),
// s2 the local (λ, μ, ∂λ, ∂μ), s3 ψ.
@compute @workgroup_size(256)
fn elastic_stiffness(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n) {
        return;
    }
    if (!is_solid(s3[i])) {
        s0[i] = 0.0;
        return;
    }
    var a: array<f32, 6>;
    for (var k = 0u; k < 6u; k = k + 1u) {
        a[k] = s1[k * n + i];
    }
    let ca = hooke(s2[i] + abs(s2[2u * n + i]), s2[n + i] + abs(s2[3u * n + i]), a);
    var aca = 0.0;
    for (var k = 0u; k < 6u; k = k + 1u) {
        aca = aca + select(1.0, 2.0, k >= 3u) * a[k] * ca[k];
    }
    s0[i] = 0.5 * aca / max(s3[i], params.psi_floor);
}

// s0 ← s1: commits the new c and reduces (·, max |Δc| over solid, ·, count of voxels that are
// non-finite or, on the solid, outside [−1, 2]) (s2 = ψ).
@compute @workgroup_size(256)
fn commit(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = EMPTY;
    if (i < params.count) {
        let n = s1[i];
        let counted = is_solid(s2[i]);
        var d = 0.0;
        if (counted) {
            d = abs(n - s0[i]);
        }
        s0[i] = n;
        if (is_finite(n) && (!counted || (n >= -1.0 && n < 2.0))) {
            v.y = d;
        } else {
            v.w = 1.0;
        }
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// The spectral step's flux divergence in Fourier space (cahn_hilliard.rs `mobility_flux`,
// `accumulate_divergence`, `filter_increment`), for hosts of one site density with mechanics.

// s1 ← (ψ d m Re(s1), 0): one flux component in real space (s0 = m from `site_mobility`,
// s2 = ψ d with flag 1).
@compute @workgroup_size(256)
fn mobility_flux(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    var f = 1.0;
    if (op.flag == 1u) {
        f = s2[i];
    }
    s1[2u * i] = f * s0[i] * s1[2u * i];
    s1[2u * i + 1u] = 0.0;
}

// s1 (+)= i k_axis s0 (= on the first axis, flag 1), axis = index, Nyquist zeroed.
@compute @workgroup_size(256)
fn accumulate_divergence(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    let ka = mode_k(i, true)[op.index];
    let re = -ka * s0[2u * i + 1u];
    let im = ka * s0[2u * i];
    if (op.flag == 1u) {
        s1[2u * i] = re;
        s1[2u * i + 1u] = im;
    } else {
        s1[2u * i] = s1[2u * i] + re;
        s1[2u * i + 1u] = s1[2u * i + 1u] + im;
    }
}
