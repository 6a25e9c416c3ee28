// elasticity.wgsl: mechanical equilibrium on the device (model.md §4, §6), the Galerkin
// Lippmann–Schwinger form solved by conjugate gradients (linalg.wgsl) or by the Moulinec–Suquet
// fixed point: per-voxel stiffness and eigenstrain from c, Hooke's law, the projection onto
// compatible strains with free mean components, and the fixed point's Green operator Γ⁰ with its
// mean update, reference medium and residual norm. Mirror of src/backend/cpu/elasticity.rs
// (`update_material`, `hooke`, `compatible_part`, `project`, `gamma0`, `mean_update`; the
// reductions `compatible_norm_partial` and `range_partial` are black-box pairs with its rayon
// `dot` of the projection and `minmax`). Voigt order xx yy zz yz xz xy, tensor shear components;
// tensors are stacked component-major (6 N), their spectra in six complex slots s2..s7.

// Voigt component k → tensor indices (i, j): (0,0) (1,1) (2,2) (1,2) (0,2) (0,1).
fn pair_i(k: u32) -> u32 {
    return select(select(k, 1u, k == 3u), 0u, k >= 4u);
}

fn pair_j(k: u32) -> u32 {
    return select(select(k, 2u, k == 3u || k == 4u), 1u, k == 5u);
}

fn hooke(lambda: f32, mu: f32, e: array<f32, 6>) -> array<f32, 6> {
    let tr = e[0] + e[1] + e[2];
    return array<f32, 6>(
        lambda * tr + 2.0 * mu * e[0],
        lambda * tr + 2.0 * mu * e[1],
        lambda * tr + 2.0 * mu * e[2],
        2.0 * mu * e[3],
        2.0 * mu * e[4],
        2.0 * mu * e[5],
    );
}

// s3 ← (λ, μ, ∂λ, ∂μ), s4 ← ε* = Σ φ_m B_m (c − c_ref), s5 ← ∂ε*/∂c (s0 = c, s1 = φ_m
// stacked, s2 = the unit c-axis stacked by component when anisotropic).
@compute @workgroup_size(256)
fn update_material(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n) {
        return;
    }
    let c = s0[i];
    let ci = clamp(c, 0.0, 1.0);
    var ax = vec3<f32>(0.0, 0.0, 1.0);
    if (params.anisotropic == 1u) {
        ax = vec3<f32>(s2[i], s2[n + i], s2[2u * n + i]);
    }
    var l = vec4<f32>(0.0);
    var eig: array<f32, 6>;
    var deig: array<f32, 6>;
    for (var m = 0u; m < params.materials; m = m + 1u) {
        let f = s1[m * n + i];
        if (f == 0.0) {
            continue;
        }
        let b = material_base(m);
        l = l + f * vec4<f32>(table[b] + table[b + 2u] * ci, table[b + 1u] + table[b + 3u] * ci, table[b + 2u], table[b + 3u]);
        let a = table[b + 4u];
        let d = table[b + 5u] - a;
        for (var k = 0u; k < 6u; k = k + 1u) {
            let p = pair_i(k);
            let q = pair_j(k);
            var bk = d * ax[p] * ax[q];
            if (p == q) {
                bk = bk + a;
            }
            deig[k] = deig[k] + f * bk;
            eig[k] = eig[k] + f * bk * (c - table[b + 6u]);
        }
    }
    for (var k = 0u; k < 4u; k = k + 1u) {
        s3[k * n + i] = l[k];
    }
    for (var k = 0u; k < 6u; k = k + 1u) {
        s4[k * n + i] = eig[k];
        s5[k * n + i] = deig[k];
    }
}

fn store_spectrum(k: u32, i: u32, v: vec2<f32>) {
    switch k {
        case 0u: { s2[2u * i] = v.x; s2[2u * i + 1u] = v.y; }
        case 1u: { s3[2u * i] = v.x; s3[2u * i + 1u] = v.y; }
        case 2u: { s4[2u * i] = v.x; s4[2u * i + 1u] = v.y; }
        case 3u: { s5[2u * i] = v.x; s5[2u * i + 1u] = v.y; }
        case 4u: { s6[2u * i] = v.x; s6[2u * i + 1u] = v.y; }
        default: { s7[2u * i] = v.x; s7[2u * i + 1u] = v.y; }
    }
}

fn load_spectrum(k: u32, i: u32) -> vec2<f32> {
    switch k {
        case 0u: { return vec2<f32>(s2[2u * i], s2[2u * i + 1u]); }
        case 1u: { return vec2<f32>(s3[2u * i], s3[2u * i + 1u]); }
        case 2u: { return vec2<f32>(s4[2u * i], s4[2u * i + 1u]); }
        case 3u: { return vec2<f32>(s5[2u * i], s5[2u * i + 1u]); }
        case 4u: { return vec2<f32>(s6[2u * i], s6[2u * i + 1u]); }
        default: { return vec2<f32>(s7[2u * i], s7[2u * i + 1u]); }
    }
}

// s2..s7 ← C : s0 as six complex fields (s0 a stacked strain-like tensor, s1 the local
// (λ, μ, ∂λ, ∂μ)).
@compute @workgroup_size(256)
fn hooke_to_spectra(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n) {
        return;
    }
    var e: array<f32, 6>;
    for (var k = 0u; k < 6u; k = k + 1u) {
        e[k] = s0[k * n + i];
    }
    let s = hooke(s1[i], s1[n + i], e);
    for (var k = 0u; k < 6u; k = k + 1u) {
        store_spectrum(k, i, vec2<f32>(s[k], 0.0));
    }
}

// The compatible part G(τ) = 2 sym(ξ⊗τξ) − (ξ·τ·ξ) ξ⊗ξ of the spectra t at mode i (ξ = k/|k|
// from the derivative wavevector; zero where it vanishes), the free mean components kept at
// k = 0, and components that do not vary in space (2-D) kept only as free means.
fn compatible_mode(i: u32, tau: array<vec2<f32>, 6>) -> array<vec2<f32>, 6> {
    var t = tau;
    var g: array<vec2<f32>, 6>;
    if (i == 0u) {
        for (var k = 0u; k < 6u; k = k + 1u) {
            g[k] = select(vec2<f32>(0.0), t[k], ((params.free_mask >> k) & 1u) == 1u);
        }
        return g;
    }
    let kv = mode_k(i, true);
    let k2 = dot(kv, kv);
    if (k2 > 0.0) {
        let xi = kv / sqrt(k2);
        // v = τ·ξ with τ's Voigt components (xx yy zz yz xz xy).
        var v = array<vec2<f32>, 3>(
            t[0] * xi.x + t[5] * xi.y + t[4] * xi.z,
            t[5] * xi.x + t[1] * xi.y + t[3] * xi.z,
            t[4] * xi.x + t[3] * xi.y + t[2] * xi.z,
        );
        let s = v[0] * xi.x + v[1] * xi.y + v[2] * xi.z;
        for (var k = 0u; k < 6u; k = k + 1u) {
            let p = pair_i(k);
            let q = pair_j(k);
            g[k] = xi[p] * v[q] + xi[q] * v[p] - s * (xi[p] * xi[q]);
        }
    }
    for (var k = 0u; k < 6u; k = k + 1u) {
        if (((params.spectral_mask >> k) & 1u) == 0u) {
            g[k] = vec2<f32>(0.0);
        }
    }
    return g;
}

fn load_spectra(i: u32) -> array<vec2<f32>, 6> {
    var t: array<vec2<f32>, 6>;
    for (var k = 0u; k < 6u; k = k + 1u) {
        t[k] = load_spectrum(k, i);
    }
    return t;
}

// In place on s2..s7: the compatible part (`compatible_mode`) at each mode.
@compute @workgroup_size(256)
fn project(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    var g = compatible_mode(i, load_spectra(i));
    for (var k = 0u; k < 6u; k = k + 1u) {
        store_spectrum(k, i, g[k]);
    }
}

// ‖P τ‖² of the real tensor whose unnormalised spectra s2..s7 hold, from the spectra by
// Parseval (Σ_x |v|² = Σ_k |v̂|² / N), shear components weighted twice (Frobenius): the
// fixed point's stopping test without transforming the projection back. Reads only.
@compute @workgroup_size(256)
fn compatible_norm_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = EMPTY;
    if (i < params.count) {
        var g = compatible_mode(i, load_spectra(i));
        var sum = 0.0;
        for (var k = 0u; k < 6u; k = k + 1u) {
            sum = sum + select(1.0, 2.0, k >= 3u) * dot(g[k], g[k]);
        }
        v.x = sum / f32(params.count);
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// The largest and smallest of component op.index of a stacked field s0 (the local λ or μ), as
// (lane y, lane z) for `finish` flag 3: the reference medium's bounds.
@compute @workgroup_size(256)
fn range_partial(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = item(gid, groups);
    var v = EMPTY;
    if (i < op.n) {
        let x = s0[op.index * params.count + i];
        v.y = x;
        v.z = x;
    }
    reduce_workgroup(v, lid.x, wid.x + wid.y * groups.x);
}

// C⁰_ff⁻¹ on the free mean components t (the k = 0 spectra), zero on the held ones: the
// isotropic reference stiffness restricted to the free normal components is l0 J + 2 m0 I on
// m of them, whose inverse is (I − l0/(2 m0 + m l0) J)/(2 m0) (Sherman–Morrison: no
// elimination, the same solve as the CPU's); the free shears move by t/(2 m0).
fn mean_update(means: array<vec2<f32>, 6>, l0: f32, m0: f32) -> array<vec2<f32>, 6> {
    var t = means;
    var g: array<vec2<f32>, 6>;
    var m = 0.0;
    var sum = vec2<f32>(0.0);
    for (var k = 0u; k < 3u; k = k + 1u) {
        if (((params.free_mask >> k) & 1u) == 1u) {
            m = m + 1.0;
            sum = sum + t[k];
        }
    }
    let shift = sum * (l0 / (2.0 * m0 + m * l0));
    for (var k = 0u; k < 6u; k = k + 1u) {
        if (((params.free_mask >> k) & 1u) == 1u) {
            g[k] = select(t[k], t[k] - shift, k < 3u) / (2.0 * m0);
        }
    }
    return g;
}

// In place on s2..s7, the spectra of σ: the Moulinec–Suquet update Γ⁰[σ] at each mode k ≠ 0,
// (ξ⊗τξ + τξ⊗ξ)/(2 m0) − (ξ·τ·ξ) (l0 + m0)/(m0 (l0 + 2 m0)) ξ⊗ξ, and `mean_update` at k = 0,
// with the reference medium (l0, m0) halfway between the bounds `range_partial` left in
// scal[LAMBDA_RANGE..+2] and scal[MU_RANGE..+2]. Components that do not vary in space keep
// only their mean.
@compute @workgroup_size(256)
fn gamma0(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    if (i >= params.count) {
        return;
    }
    let l0 = 0.5 * (scal[LAMBDA_RANGE] + scal[LAMBDA_RANGE + 1u]);
    let m0 = 0.5 * (scal[MU_RANGE] + scal[MU_RANGE + 1u]);
    var t = load_spectra(i);
    var g: array<vec2<f32>, 6>;
    if (i == 0u) {
        g = mean_update(t, l0, m0);
    } else {
        let kv = mode_k(i, true);
        let k2 = dot(kv, kv);
        if (k2 > 0.0) {
            let xi = kv / sqrt(k2);
            var v = array<vec2<f32>, 3>(
                t[0] * xi.x + t[5] * xi.y + t[4] * xi.z,
                t[5] * xi.x + t[1] * xi.y + t[3] * xi.z,
                t[4] * xi.x + t[3] * xi.y + t[2] * xi.z,
            );
            let s = v[0] * xi.x + v[1] * xi.y + v[2] * xi.z;
            let c = (l0 + m0) / (m0 * (l0 + 2.0 * m0));
            for (var k = 0u; k < 6u; k = k + 1u) {
                let p = pair_i(k);
                let q = pair_j(k);
                g[k] = (xi[p] * v[q] + xi[q] * v[p]) / (2.0 * m0) - s * (c * xi[p] * xi[q]);
            }
        }
        for (var k = 0u; k < 6u; k = k + 1u) {
            if (((params.spectral_mask >> k) & 1u) == 0u) {
                g[k] = vec2<f32>(0.0);
            }
        }
    }
    for (var k = 0u; k < 6u; k = k + 1u) {
        store_spectrum(k, i, g[k]);
    }
}

// s0 ← Re(s2..s7), stacked.
@compute @workgroup_size(256)
fn spectra_to_tensor(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item(gid, groups);
    let n = params.count;
    if (i >= n) {
        return;
    }
    for (var k = 0u; k < 6u; k = k + 1u) {
        s0[k * n + i] = load_spectrum(k, i).x;
    }
}
