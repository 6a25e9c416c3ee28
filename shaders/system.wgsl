// system.wgsl: what the families of the multi-material step share (linalg, chemistry,
// implicit, elasticity): the uniform `Params` (twin of `SystemParams` in
// src/backend/gpu/params.rs), the per-dispatch `Op` (twin of `Op`), the device scalars, the
// material table and eight generic field slots. Fields are flat f32 arrays; complex fields
// interleave (re, im); several stacked fields (tensors, per-material φ) are component-major.
//
// Group 0: 0 Params, 1 Op (dynamic offset), 2 scalars, 3 reduction partials, 4 table.
// Group 1: slots s0..s7, whose meaning each entry point states.

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
    psi_floor: f32,
    mobility_kind: u32,
    components: u32,
    materials: u32,
    anisotropic: u32,
    dim: u32,
    // Bit k set: Voigt component k has a free mean / varies in space.
    free_mask: u32,
    spectral_mask: u32,
    voxel_volume: f32,
    // The von Mises stress above which solid counts as overstressed (model units).
    overstress: f32,
    // The electrolyte's material index, or 2³²−1 when there is none.
    electrolyte: u32,
    pad0: u32,
    pad1: u32,
};

struct Op {
    // The component, group or axis an entry works on, or a scalar program.
    index: u32,
    // Scalar slots an entry reads or writes.
    a: u32,
    b: u32,
    dst: u32,
    // 1: skip the update once the running solve is done (scalar DONE set).
    frozen: u32,
    // Elements this dispatch covers, and the partials a finish folds.
    n: u32,
    parts: u32,
    flag: u32,
    f: f32,
    g: f32,
    pad0: f32,
    pad1: f32,
};

@group(0) @binding(0) var<uniform> params: Params;
// The op record is read-only storage, not a uniform: lavapipe compiles (and keeps) a shader
// variant for each set of uniform values that steers control flow (kernels.rs, the op ring).
@group(0) @binding(1) var<storage, read> op: Op;
@group(0) @binding(2) var<storage, read_write> scal: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> table: array<f32>;
@group(1) @binding(0) var<storage, read_write> s0: array<f32>;
@group(1) @binding(1) var<storage, read_write> s1: array<f32>;
@group(1) @binding(2) var<storage, read_write> s2: array<f32>;
@group(1) @binding(3) var<storage, read_write> s3: array<f32>;
@group(1) @binding(4) var<storage, read_write> s4: array<f32>;
@group(1) @binding(5) var<storage, read_write> s5: array<f32>;
@group(1) @binding(6) var<storage, read_write> s6: array<f32>;
@group(1) @binding(7) var<storage, read_write> s7: array<f32>;

// Scalar slots (twins in src/backend/gpu/system.rs).
const RR: u32 = 0u;
const BNORM2: u32 = 1u;
const PQ: u32 = 3u;
const ALPHA: u32 = 4u;
const BETA: u32 = 5u;
const DONE: u32 = 6u;
const ITER: u32 = 7u;
const RZ_NEW: u32 = 8u;
// Holds 1 (set by the host), for updates by a plain factor.
const ONE: u32 = 9u;
// The fixed point's reference-medium bounds: (max, min) of the local λ and of μ.
const LAMBDA_RANGE: u32 = 10u;
const MU_RANGE: u32 = 12u;

// Table layout: per component 24 floats (kind, segments, rho, a, b, 3 spare, 4 × segment),
// then per material 8 (λ0, μ0, dλ, dμ, a, c, c_ref, spare).
const COMPONENT_STRIDE: u32 = 24u;
const MATERIAL_STRIDE: u32 = 8u;

fn component_fe(m: u32) -> FreeEnergy {
    let b = m * COMPONENT_STRIDE;
    var seg: array<vec4<f32>, 4>;
    for (var j = 0u; j < 4u; j = j + 1u) {
        let o = b + 8u + 4u * j;
        seg[j] = vec4<f32>(table[o], table[o + 1u], table[o + 2u], table[o + 3u]);
    }
    return FreeEnergy(u32(table[b]), u32(table[b + 1u]), table[b + 2u], table[b + 3u], table[b + 4u], seg);
}

fn material_base(m: u32) -> u32 {
    return params.components * COMPONENT_STRIDE + m * MATERIAL_STRIDE;
}

fn is_solid(psi: f32) -> bool {
    return psi >= params.psi_floor;
}

// A running solve has finished: its updates stand still.
fn frozen() -> bool {
    return op.frozen == 1u && scal[DONE] > 0.5;
}

fn is_finite(v: f32) -> bool {
    // NaN fails the comparison; ±inf exceeds the largest f32.
    return abs(v) <= 3.4e38;
}

var<workgroup> red: array<vec4<f32>, 256>;

// (sum, max, min, second sum) of two partial reductions; with op.b = 1 all four lanes are sums.
fn combine(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    if (op.b == 1u) {
        return a + b;
    }
    return vec4<f32>(a.x + b.x, max(a.y, b.y), min(a.z, b.z), a.w + b.w);
}

const EMPTY: vec4<f32> = vec4<f32>(0.0, -3.4e38, 3.4e38, 0.0);

// Folds one value per invocation into this workgroup's partial.
fn reduce_workgroup(v: vec4<f32>, l: u32, group: u32) {
    red[l] = v;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if (l < stride) {
            red[l] = combine(red[l], red[l + stride]);
        }
        workgroupBarrier();
    }
    if (l == 0u) {
        partial[group] = red[0];
    }
}
