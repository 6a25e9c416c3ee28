// free_energy.wgsl: the homogeneous free energy per site and its derivatives (model.md §3),
// mirror of src/free_energy.rs: the PFHub double well, or a regular solution of up to four
// segments in kT. The families pass the component's `FreeEnergy` (from their uniform or their
// material table), so one copy serves the one-host step and the multi-material step.

// As src/free_energy.rs. f32 cannot hold 1 − 1e-30 (nor can f64), so each side of the logarithm is floored
// on its own: y and 1 − y = (c_max − c)/w, both exact near their own zero.
const LOG_FLOOR: f32 = 1e-30;

// (y, 1 − y) of c in segment s, each clamped to [floor, 1] (as y is clamped to
// [floor, 1 − floor] in f64, also where c lies outside the segment).
fn fe_sides(s: vec4<f32>, c: f32) -> vec2<f32> {
    let w = s.y - s.x;
    return clamp(vec2<f32>((c - s.x) / w, (s.y - c) / w), vec2<f32>(LOG_FLOOR), vec2<f32>(1.0));
}

struct FreeEnergy {
    kind: u32,
    segments: u32,
    rho: f32,
    well_a: f32,
    well_b: f32,
    // (c_min, c_max, u0, omega) of each regular-solution segment, in kT.
    seg: array<vec4<f32>, 4>,
};

fn fe_segment(fe: FreeEnergy, c: f32) -> u32 {
    var j = 0u;
    loop {
        if (j + 1u >= fe.segments || c < fe.seg[j].y) {
            break;
        }
        j = j + 1u;
    }
    return j;
}

// f'(c).
fn fe_mu(fe: FreeEnergy, c: f32) -> f32 {
    if (fe.kind == 0u) {
        return 2.0 * fe.rho * (c - fe.well_a) * (fe.well_b - c) * (fe.well_a + fe.well_b - 2.0 * c);
    }
    let s = fe.seg[fe_segment(fe, c)];
    let y = (c - s.x) / (s.y - s.x);
    let v = fe_sides(s, c);
    return -s.z + log(v.x) - log(v.y) + s.w * (1.0 - 2.0 * y);
}

// f''(c).
fn fe_d2(fe: FreeEnergy, c: f32) -> f32 {
    if (fe.kind == 0u) {
        let a = fe.well_a;
        let b = fe.well_b;
        return 2.0 * fe.rho * ((a + b - 2.0 * c) * (a + b - 2.0 * c) - 2.0 * (c - a) * (b - c));
    }
    let s = fe.seg[fe_segment(fe, c)];
    let v = fe_sides(s, c);
    return (1.0 / (v.x * v.y) - 2.0 * s.w) / (s.y - s.x);
}

// f(c).
fn fe_f(fe: FreeEnergy, c: f32) -> f32 {
    if (fe.kind == 0u) {
        let p = (c - fe.well_a) * (fe.well_b - c);
        return fe.rho * p * p;
    }
    let j = fe_segment(fe, c);
    var below = 0.0;
    for (var i = 0u; i < j; i = i + 1u) {
        below = below - (fe.seg[i].y - fe.seg[i].x) * fe.seg[i].z;
    }
    let s = fe.seg[j];
    let w = s.y - s.x;
    let y = (c - s.x) / w;
    let v = fe_sides(s, c);
    let entropy = v.x * log(v.x) + v.y * log(v.y);
    return below + w * (-s.z * y + entropy + s.w * y * (1.0 - y));
}

// The site-blocking mobility factor w y (1 − y) in the segment holding c (1 for the double
// well), never negative: FreeEnergy::blocking.
fn fe_blocking(fe: FreeEnergy, c: f32) -> f32 {
    if (fe.kind == 0u) {
        return 1.0;
    }
    let s = fe.seg[fe_segment(fe, c)];
    let y = (c - s.x) / (s.y - s.x);
    return max((s.y - s.x) * y * (1.0 - y), 0.0);
}
