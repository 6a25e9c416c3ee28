// multigrid.wgsl: one V-cycle of geometric multigrid for `B x = b`,
// `(B x)_i = diag_i x_i + Σ_faces g (x_i − x_j)` on the periodic voxel grid (model.md §8):
// coarsening, red–black Gauss–Seidel, residual, restriction, prolongation and the coarsest
// level's dense Cholesky solve. Mirror of src/backend/cpu/multigrid.rs, entry point for entry
// point; the host code that sequences them is src/backend/gpu/multigrid.rs.
//
// Each named buffer is declared once at its own binding; an entry point binds the ones it uses
// (the lists in `MultigridKernels`). Conductances are axis-major: g[a·len + i] joins voxel i to
// its upward neighbour along axis a. Every level of a grid this family runs has even axes (or
// length 1), so the two colours never meet across the periodic wrap and each colour's voxels
// update independently.

const VOXELS: u32 = 256u;
// The largest coarsest level (`DIRECT` in finite_volume.rs), the coarse solve's workgroup.
const DIRECT: u32 = 64u;

// Twin of `LevelParams` in src/backend/gpu/multigrid.rs.
struct Level {
    // Voxels along each axis, and the dimension.
    n: vec4<u32>,
    // 2 along an axis coarsened into the next level, else 1; voxels of this level.
    factor: vec4<u32>,
    // The next coarser level's voxels along each axis, and its voxel count.
    coarse: vec4<u32>,
};

@group(0) @binding(0) var<uniform> level: Level;
@group(0) @binding(1) var<storage, read> diag: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> inverse: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> r: array<f32>;
@group(0) @binding(8) var<storage, read_write> coarse_diag: array<f32>;
@group(0) @binding(9) var<storage, read_write> coarse_g: array<f32>;
@group(0) @binding(10) var<storage, read_write> coarse_mask: array<u32>;
@group(0) @binding(11) var<storage, read_write> coarse_b: array<f32>;
@group(0) @binding(12) var<storage, read> coarse_x: array<f32>;
@group(0) @binding(13) var<storage, read_write> factor: array<f32>;

fn mg_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * VOXELS;
}

fn mg_len() -> u32 {
    return level.factor.w;
}

fn mg_stride(a: u32) -> u32 {
    if (a == 0u) {
        return 1u;
    }
    if (a == 1u) {
        return level.n.x;
    }
    return level.n.x * level.n.y;
}

// The periodic neighbour of i along axis a, upward.
fn mg_up(i: u32, a: u32) -> u32 {
    let s = mg_stride(a);
    let m = level.n[a];
    if ((i / s) % m + 1u == m) {
        return i + s - m * s;
    }
    return i + s;
}

// ... and downward.
fn mg_down(i: u32, a: u32) -> u32 {
    let s = mg_stride(a);
    let m = level.n[a];
    if ((i / s) % m == 0u) {
        return i + (m - 1u) * s;
    }
    return i - s;
}

fn mg_coords(i: u32) -> vec3<u32> {
    return vec3<u32>(i % level.n.x, (i / level.n.x) % level.n.y, i / (level.n.x * level.n.y));
}

// The next coarser level's voxel holding voxel i of this level.
fn mg_parent(i: u32) -> u32 {
    let p = mg_coords(i) / level.factor.xyz;
    return p.x + level.coarse.x * (p.y + level.coarse.y * p.z);
}

// The coarser level's coefficients, one coarse voxel per invocation: its diagonal the sum of
// its children's, each coarse face the sum of the fine faces crossing it, halved along a
// coarsened axis (the centres' distance doubles), in the order the fine voxels are numbered.
@compute @workgroup_size(VOXELS)
fn coarsen(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let p = mg_index(gid, groups);
    let clen = level.coarse.w;
    if (p >= clen) {
        return;
    }
    let len = mg_len();
    let q = vec3<u32>(p % level.coarse.x, (p / level.coarse.x) % level.coarse.y, p / (level.coarse.x * level.coarse.y));
    let f = level.factor.xyz;
    var d = 0.0;
    var on = 0u;
    var sums = vec3<f32>(0.0);
    for (var dz = 0u; dz < f.z; dz = dz + 1u) {
        for (var dy = 0u; dy < f.y; dy = dy + 1u) {
            for (var dx = 0u; dx < f.x; dx = dx + 1u) {
                let c = q * f + vec3<u32>(dx, dy, dz);
                let i = c.x + level.n.x * (c.y + level.n.y * c.z);
                d = d + diag[i];
                on = on | mask[i];
                for (var a = 0u; a < level.n.w; a = a + 1u) {
                    if (mg_parent(mg_up(i, a)) != p) {
                        sums[a] = sums[a] + g[a * len + i] / f32(f[a]);
                    }
                }
            }
        }
    }
    coarse_diag[p] = d;
    coarse_mask[p] = on;
    for (var a = 0u; a < level.n.w; a = a + 1u) {
        coarse_g[a * clen + p] = sums[a];
    }
}

// The Gauss–Seidel divisors 1/(diag_i + Σ g around i), 0 off the active voxels (mask 1) or where that
// sum is 0.
@compute @workgroup_size(VOXELS)
fn invert(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = mg_index(gid, groups);
    let len = mg_len();
    if (i >= len) {
        return;
    }
    var d = diag[i];
    for (var a = 0u; a < level.n.w; a = a + 1u) {
        d = d + g[a * len + i] + g[a * len + mg_down(i, a)];
    }
    if (mask[i] != 0u && d > 0.0) {
        inverse[i] = 1.0 / d;
    } else {
        inverse[i] = 0.0;
    }
}

// One Gauss–Seidel update of each voxel of one colour ((x + y + z) mod 2).
fn mg_relax(i: u32, colour: u32) {
    let len = mg_len();
    if (i >= len) {
        return;
    }
    let c = mg_coords(i);
    if ((c.x + c.y + c.z) % 2u != colour) {
        return;
    }
    var num = b[i];
    for (var a = 0u; a < level.n.w; a = a + 1u) {
        let down = mg_down(i, a);
        num = num + g[a * len + i] * x[mg_up(i, a)] + g[a * len + down] * x[down];
    }
    x[i] = num * inverse[i];
}

@compute @workgroup_size(VOXELS)
fn relax_red(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    mg_relax(mg_index(gid, groups), 0u);
}

@compute @workgroup_size(VOXELS)
fn relax_black(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    mg_relax(mg_index(gid, groups), 1u);
}

// x = 0: each cycle starts each level from a zero guess.
@compute @workgroup_size(VOXELS)
fn clear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = mg_index(gid, groups);
    if (i < mg_len()) {
        x[i] = 0.0;
    }
}

// r = b − B x on the active voxels (mask 1), 0 elsewhere.
@compute @workgroup_size(VOXELS)
fn residual(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = mg_index(gid, groups);
    let len = mg_len();
    if (i >= len) {
        return;
    }
    if (mask[i] == 0u) {
        r[i] = 0.0;
        return;
    }
    var s = diag[i] * x[i];
    for (var a = 0u; a < level.n.w; a = a + 1u) {
        let down = mg_down(i, a);
        s = s + g[a * len + i] * (x[i] - x[mg_up(i, a)]) + g[a * len + down] * (x[i] - x[down]);
    }
    r[i] = b[i] - s;
}

// The coarse right-hand side: each coarse voxel the sum of its children's residuals.
@compute @workgroup_size(VOXELS)
fn restrict_residual(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let p = mg_index(gid, groups);
    if (p >= level.coarse.w) {
        return;
    }
    let q = vec3<u32>(p % level.coarse.x, (p / level.coarse.x) % level.coarse.y, p / (level.coarse.x * level.coarse.y));
    let f = level.factor.xyz;
    var s = 0.0;
    for (var dz = 0u; dz < f.z; dz = dz + 1u) {
        for (var dy = 0u; dy < f.y; dy = dy + 1u) {
            for (var dx = 0u; dx < f.x; dx = dx + 1u) {
                let c = q * f + vec3<u32>(dx, dy, dz);
                s = s + r[c.x + level.n.x * (c.y + level.n.y * c.z)];
            }
        }
    }
    coarse_b[p] = s;
}

// The coarse correction, copied to the children on the active voxels (mask 1).
@compute @workgroup_size(VOXELS)
fn prolong(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = mg_index(gid, groups);
    if (i >= mg_len()) {
        return;
    }
    if (mask[i] != 0u) {
        x[i] = x[i] + coarse_x[mg_parent(i)];
    }
}

// The coarsest level's matrix, dense with an identity row for each inactive voxel, factored in
// place into its lower Cholesky factor (row-major, len²). A pivot that is not positive (a
// component without a diagonal, which the step's blocks never have) takes the row's own
// diagonal instead, so the factor stays positive definite.
@compute @workgroup_size(1)
fn coarse_factor() {
    let m = mg_len();
    for (var k = 0u; k < m * m; k = k + 1u) {
        factor[k] = 0.0;
    }
    for (var k = 0u; k < m; k = k + 1u) {
        if (mask[k] == 0u) {
            factor[k * m + k] = 1.0;
            continue;
        }
        factor[k * m + k] = factor[k * m + k] + diag[k];
        for (var a = 0u; a < level.n.w; a = a + 1u) {
            let j = mg_up(k, a);
            let w = g[a * m + k];
            if (w == 0.0 || mask[j] == 0u || j == k) {
                continue;
            }
            factor[k * m + k] = factor[k * m + k] + w;
            factor[j * m + j] = factor[j * m + j] + w;
            factor[k * m + j] = factor[k * m + j] - w;
            factor[j * m + k] = factor[j * m + k] - w;
        }
    }
    for (var j = 0u; j < m; j = j + 1u) {
        let own = factor[j * m + j];
        var d = own;
        for (var k = 0u; k < j; k = k + 1u) {
            d = d - factor[j * m + k] * factor[j * m + k];
        }
        if (!(d > 0.0)) {
            d = own;
        }
        d = sqrt(d);
        factor[j * m + j] = d;
        for (var i = j + 1u; i < m; i = i + 1u) {
            var s = factor[i * m + j];
            for (var k = 0u; k < j; k = k + 1u) {
                s = s - factor[i * m + k] * factor[j * m + k];
            }
            factor[i * m + j] = s / d;
        }
    }
}

var<workgroup> solve_y: array<f32, DIRECT>;

// x = (L Lᵀ)⁻¹ b on the coarsest level, one row per invocation; 0 on the inactive voxels.
@compute @workgroup_size(DIRECT)
fn coarse_solve(@builtin(local_invocation_index) t: u32) {
    let m = mg_len();
    if (t < m) {
        solve_y[t] = b[t];
    }
    workgroupBarrier();
    for (var k = 0u; k < m; k = k + 1u) {
        if (t == k) {
            solve_y[k] = solve_y[k] / factor[k * m + k];
        }
        workgroupBarrier();
        if (t > k && t < m) {
            solve_y[t] = solve_y[t] - factor[t * m + k] * solve_y[k];
        }
        workgroupBarrier();
    }
    for (var kk = 0u; kk < m; kk = kk + 1u) {
        let k = m - 1u - kk;
        if (t == k) {
            solve_y[k] = solve_y[k] / factor[k * m + k];
        }
        workgroupBarrier();
        if (t < k) {
            solve_y[t] = solve_y[t] - factor[k * m + t] * solve_y[k];
        }
        workgroupBarrier();
    }
    if (t < m) {
        x[t] = select(0.0, solve_y[t], mask[t] != 0u);
    }
}
