// free_energy.wgsl: the homogeneous free energy per site and its derivative (model.md §3),
// mirror of src/free_energy.rs: the PFHub double well, or a regular solution of up to four
// segments in kT. Included by chemistry.wgsl and reduce.wgsl through their family.

const LOG_FLOOR: f32 = 1e-6;

fn fe_segment(c: f32) -> u32 {
    var j = 0u;
    loop {
        if (j + 1u >= params.segments || c < params.seg[j].y) {
            break;
        }
        j = j + 1u;
    }
    return j;
}

// f'(c).
fn fe_mu(c: f32) -> f32 {
    if (params.fe_kind == 0u) {
        return 2.0 * params.rho * (c - params.well_a) * (params.well_b - c) * (params.well_a + params.well_b - 2.0 * c);
    }
    let s = params.seg[fe_segment(c)];
    let y = (c - s.x) / (s.y - s.x);
    let yc = clamp(y, LOG_FLOOR, 1.0 - LOG_FLOOR);
    return -s.z + log(yc / (1.0 - yc)) + s.w * (1.0 - 2.0 * y);
}

// f(c).
fn fe_f(c: f32) -> f32 {
    if (params.fe_kind == 0u) {
        let p = (c - params.well_a) * (params.well_b - c);
        return params.rho * p * p;
    }
    let j = fe_segment(c);
    var below = 0.0;
    for (var i = 0u; i < j; i = i + 1u) {
        below = below - (params.seg[i].y - params.seg[i].x) * params.seg[i].z;
    }
    let s = params.seg[j];
    let w = s.y - s.x;
    let y = (c - s.x) / w;
    let yc = clamp(y, LOG_FLOOR, 1.0 - LOG_FLOOR);
    let entropy = yc * log(yc) + (1.0 - yc) * log(1.0 - yc);
    return below + w * (-s.z * y + entropy + s.w * y * (1.0 - y));
}

// m(c): 1 (constant) or c(1 − c), never negative.
fn mobility(c: f32) -> f32 {
    if (params.mobility_kind == 0u) {
        return 1.0;
    }
    return max(c * (1.0 - c), 0.0);
}
