// chemistry.wgsl: the pointwise chemistry of the multi-material step (model.md §4, §8): the
// diffusion potential of a mixture of hosts, the finite-volume flux divergence, the surface
// reaction (exchange factor, its local
// linearised-implicit weight and increment), and the commit of the increment. Mirrors: src/backend/cpu/chemistry.rs
// (`chemical_potential`), cahn_hilliard.rs (`finite_volume_divergence`, `commit`) and the
// step in cpu/mod.rs. ψ arrives in a slot; a voxel is solid where ψ ≥ ψ_floor.

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
// The smallest c (or 1 − c) the insertion's bound divides by (chemistry.rs BOUND_FLOOR).
const BOUND_FLOOR: f32 = 1e-6;
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

// s1 ← (carriers, vacancies) stacked: s1[i] = Σ_m (ψ_m/ψ) a_m(c), s1[n + i] = Σ_m (ψ_m/ψ) v_m(c),
// or (1, 1) for a constant mobility (s0 = c, s3 = ψ, s4 = ψ_m stacked): the halves of the
// site-blocking factor the upwind faces of `fv_divergence` take. Mirror: chemistry.rs
// `site_carriers`.
@compute @workgroup_size(256)
fn site_carriers(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n) {
        return;
    }
    var av = vec2<f32>(1.0);
    if (params.mobility_kind != 0u) {
        let c = s0[i];
        av = vec2<f32>(0.0);
        for (var m = 0u; m < params.components; m = m + 1u) {
            let w = s4[m * n + i];
            if (w > 0.0) {
                av = av + w * fe_carriers(component_fe(m), c);
            }
        }
        av = av / max(s3[i], params.psi_floor);
    }
    s1[i] = av.x;
    s1[n + i] = av.y;
}

// s2 ← Σ_m (ψ_m/ψ) g_m'(c) − κ s1 on solid voxels (s0 = c, s1 = the smoothed-boundary
// Laplacian, s3 = ψ, s4 = ψ_m stacked); other voxels are left for the extension.
@compute @workgroup_size(256)
fn chemical_potential(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count || !is_solid(s3[i])) {
        return;
    }
    s2[i] = mixture(i, s0[i], MIX_MU) - params.kappa * s1[i];
}

// s0 += (∇ψ/ψ)_axis Re(s2): one axis of the smoothed-boundary term (s1 = ∇ψ/ψ stacked by axis,
// s2 = i k_axis ĉ transformed back).
@compute @workgroup_size(256)
fn add_grad_log_psi(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    s0[i] = s0[i] + s1[op.index * params.count + i] * s2[2u * i];
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

fn face(i: u32, j: u32) -> f32 {
    var a = 1.0;
    var b = 1.0;
    if (op.flag == 1u) {
        a = s2[i];
        b = s2[j];
    }
    var h = 0.0;
    if (a + b > 0.0) {
        h = 2.0 * a * b / (a + b);
    }
    let n = params.count;
    var m = s0[j] * s0[n + i];
    if (s1[i] > s1[j]) {
        m = s0[i] * s0[n + j];
    }
    return h * m * (s1[j] - s1[i]);
}

// s3 ← dt ∇·(ψ d m ∇μ) by finite volumes (harmonic face mean of ψ d; upwind m, the carriers
// of the side the ions leave times the vacancies of the side they enter): s0 = carriers and
// vacancies stacked (`site_carriers`), s1 = μ, s2 = ψ d (flag 1; else uniform 1).
@compute @workgroup_size(256)
fn fv_divergence(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    let nx = params.nx;
    let ny = params.ny;
    let nz = params.nz;
    let x = i % nx;
    let y = (i / nx) % ny;
    let z = i / (nx * ny);
    let sx = nx * ny;
    var d = 0.0;
    let up_x = i - x + (x + 1u) % nx;
    let down_x = i - x + (x + nx - 1u) % nx;
    d = d + (face(i, up_x) - face(down_x, i)) / (params.hx * params.hx);
    if (params.dim >= 2u) {
        let up_y = i + (((y + 1u) % ny) - y) * nx;
        let down_y = i + (((y + ny - 1u) % ny) - y) * nx;
        d = d + (face(i, up_y) - face(down_y, i)) / (params.hy * params.hy);
    }
    if (params.dim >= 3u) {
        let up_z = i + (((z + 1u) % nz) - z) * sx;
        let down_z = i + (((z + nz - 1u) % nz) - z) * sx;
        d = d + (face(i, up_z) - face(down_z, i)) / (params.hz * params.hz);
    }
    s3[i] = params.dt * d;
}

// s3 ← r j(c) on solid voxels with r > 0, else 0 (s0 = c, s1 = ψ, s2 = r): this step's
// insertion coefficient, j = 2√(c(1 − c)) with c clamped to [0, 1] for a site-limited exchange
// current, 1 for a constant one. Mirror: chemistry.rs `exchange_rate`.
@compute @workgroup_size(256)
fn exchange_rate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    var r = 0.0;
    if (is_solid(s1[i]) && s2[i] > 0.0) {
        var j = 1.0;
        if (params.exchange == 1u) {
            let c = clamp(s0[i], 0.0, 1.0);
            j = 2.0 * sqrt(c * (1.0 - c));
        }
        r = s2[i] * j;
    }
    s3[i] = r;
}

// s4 ← w = dt r j/(1 + dt r j G) and s6 ← w μ where the insertion acts, else 0 (s0 = c,
// s1 = ψ, s2 = r j, s3 = ψ_m stacked, s5 = μ): the reaction's linearised-implicit response.
// G = Σ_m (ψ_m/ψ) g_m'' floored at 0 plus the gradient term's stiffness (params.gradient), raised to
// |μ_e − μ|/c extracting or /(1 − c) inserting (μ_e the last step's, scal[MU_E]), capped at
// 1e4 kT. Mirror: chemistry.rs `reaction_weight` and `reaction_stiffness`.
@compute @workgroup_size(256)
fn reaction_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    let psi = s1[i];
    let rj = s2[i];
    if (!(rj > 0.0)) {
        s4[i] = 0.0;
        s6[i] = 0.0;
        return;
    }
    let c = s0[i];
    var g = 0.0;
    for (var m = 0u; m < params.components; m = m + 1u) {
        let w = s3[m * params.count + i];
        if (w > 0.0) {
            g = g + w * fe_d2(component_fe(m), c);
        }
    }
    g = max(g / max(psi, params.psi_floor), 0.0) + params.gradient;
    let eta = scal[MU_E] - s5[i];
    var bound = eta / max(1.0 - c, BOUND_FLOOR);
    if (eta < 0.0) {
        bound = -eta / max(c, BOUND_FLOOR);
    }
    g = min(max(g, bound), 1e4);
    let k = params.dt * rj;
    let w = k / (1.0 + k * g);
    s4[i] = w;
    s6[i] = w * s5[i];
}

// s0 += s1 (scal[MU_E] − s2) where s1 > 0: the reaction's increment (s1 = w from
// `reaction_weight`, s2 = μ). Mirror: chemistry.rs `insertion_increment`.
@compute @workgroup_size(256)
fn insertion_increment(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count || !(s1[i] > 0.0)) {
        return;
    }
    s0[i] = s0[i] + s1[i] * (scal[MU_E] - s2[i]);
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

// Where the site density is uniform the CPU takes the flux divergence in Fourier space
// (cahn_hilliard.rs `mobility_flux`, `accumulate_divergence`, `filter_increment`); these are
// their twins for the multi-material step.

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
