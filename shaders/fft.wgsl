// fft.wgsl: one pass of a power-of-two complex FFT along one axis of a 3-D grid (x fastest).
// One workgroup transforms one line (a pencil along `axis`) entirely in workgroup memory by
// the Stockham autosort algorithm in radix-4 stages (and one radix-2 stage for odd log₂ n),
// with twiddles from a table computed once on the host: one global read and one global write
// per element and pass. Lines are numbered so that axis 0 takes (y, z), axis 1 (x, z), axis 2 (x, y).
// Twin of FftParams in src/backend/gpu/fft.rs.
//
// Bindings: 0 the data (complex, read-write), 1 the pass's parameters, 2 the twiddle table.

struct FftParams {
    nx: u32,
    ny: u32,
    nz: u32,
    axis: u32,
    len: u32,
    stride: u32,
    lines: u32,
    groups_x: u32,
    sign: f32,
    scale: f32,
    // Length of the twiddle table (the longest axis).
    table_len: u32,
    // Lines longer than FFT_MAX_LEN are split n = n1 n2 (four-step): each line of this pass is
    // sub-line `line % sub_lines` of a full line, starting sub_stride · stride further and
    // stepping elem_stride · stride; with post_twiddle its output k1 of sub-line j2 is multiplied
    // by exp(±2πi j2 k1 / full_len).
    sub_lines: u32,
    sub_stride: u32,
    elem_stride: u32,
    post_twiddle: u32,
    full_len: u32,
    // Lines per workgroup: strided axes load `batch` neighbouring lines together, so that
    // consecutive invocations read consecutive addresses (coalesced) instead of one line's
    // stride-apart elements.
    batch: u32,
    pad3: u32,
    pad4: u32,
};

@group(0) @binding(0) var<storage, read_write> data: array<vec2<f32>>;
@group(0) @binding(1) var<uniform> p: FftParams;
// exp(−2πi m / table_len), m < table_len, computed once in f64 on the host.
@group(0) @binding(2) var<storage, read> table: array<vec2<f32>>;

// exp(sign · 2πi m / table_len): the table's value, conjugated for the inverse.
fn twiddle(m: u32) -> vec2<f32> {
    let w = table[m];
    return vec2<f32>(w.x, -p.sign * w.y);
}

const FFT_WORKGROUP: u32 = 256u;
// Two halves of 1024 complex values: lines up to 1024 long, ping-ponged between the halves.
const FFT_MAX_LEN: u32 = 1024u;
var<workgroup> buf: array<vec2<f32>, 2048>;

@compute @workgroup_size(256)
fn fft_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let first = (wid.x + wid.y * p.groups_x) * p.batch;
    if (first >= p.lines) {
        return;
    }
    let es = p.elem_stride * p.stride;
    let n = p.len;
    let total = n * p.batch;
    // Element i of line g at buf[g n + i]; invocation t moves element t / batch of line
    // t % batch, so neighbouring invocations touch neighbouring lines.
    for (var t = lid.x; t < total; t += FFT_WORKGROUP) {
        let g = t % p.batch;
        let i = t / p.batch;
        if (first + g < p.lines) {
            buf[g * n + i] = data[line_base(first + g) + i * es];
        }
    }
    workgroupBarrier();
    var src = 0u;
    var dst = FFT_MAX_LEN;
    var ns = 1u;
    // Radix-4 stages while four more fit, then one radix-2 stage if log₂ n is odd.
    loop {
        if (4u * ns > n) {
            break;
        }
        let quarter = n / 4u;
        for (var jt = lid.x; jt < quarter * p.batch; jt += FFT_WORKGROUP) {
            let off = (jt / quarter) * n;
            let j = jt % quarter;
            let k = j % ns;
            // Twiddle exp(±2πi r k / (4 ns)) = table[r k (n / 4ns)] scaled to the table's length.
            let step = k * (p.table_len / (4u * ns));
            let v0 = buf[src + off + j];
            let v1 = cmul(buf[src + off + j + quarter], twiddle(step));
            let v2 = cmul(buf[src + off + j + 2u * quarter], twiddle(2u * step));
            let v3 = cmul(buf[src + off + j + 3u * quarter], twiddle(3u * step));
            let a0 = v0 + v2;
            let a1 = v0 - v2;
            let b0 = v1 + v3;
            // (v1 − v3) times the sign's i.
            let d = v1 - v3;
            let b1 = vec2<f32>(-p.sign * d.y, p.sign * d.x);
            let idx = off + (j / ns) * ns * 4u + k;
            buf[dst + idx] = a0 + b0;
            buf[dst + idx + ns] = a1 + b1;
            buf[dst + idx + 2u * ns] = a0 - b0;
            buf[dst + idx + 3u * ns] = a1 - b1;
        }
        workgroupBarrier();
        let t = src;
        src = dst;
        dst = t;
        ns = ns * 4u;
    }
    if (ns < n) {
        let half = n / 2u;
        for (var jt = lid.x; jt < half * p.batch; jt += FFT_WORKGROUP) {
            let off = (jt / half) * n;
            let j = jt % half;
            let k = j % ns;
            let v0 = buf[src + off + j];
            let v1 = cmul(buf[src + off + j + half], twiddle(k * (p.table_len / (2u * ns))));
            let idx = off + (j / ns) * ns * 2u + k;
            buf[dst + idx] = v0 + v1;
            buf[dst + idx + ns] = v0 - v1;
        }
        workgroupBarrier();
        let t = src;
        src = dst;
        dst = t;
    }
    for (var t = lid.x; t < total; t += FFT_WORKGROUP) {
        let g = t % p.batch;
        let i = t / p.batch;
        let line = first + g;
        if (line < p.lines) {
            var v = buf[src + g * n + i] * p.scale;
            if (p.post_twiddle == 1u) {
                let sub = line % p.sub_lines;
                v = cmul(v, twiddle(((sub * i) % p.full_len) * (p.table_len / p.full_len)));
            }
            data[line_base(line) + i * es] = v;
        }
    }
}

// The first element of line `line` of this pass: sub-line `line % sub_lines` of a full line.
fn line_base(line: u32) -> u32 {
    return full_line_base(line / p.sub_lines) + (line % p.sub_lines) * p.sub_stride * p.stride;
}

// The first element of full line `o` along the pass's axis (lines numbered as above).
fn full_line_base(o: u32) -> u32 {
    if (p.axis == 0u) {
        return o * p.nx;
    } else if (p.axis == 1u) {
        return (o / p.nx) * p.nx * p.ny + o % p.nx;
    }
    return o;
}

@group(0) @binding(3) var<storage, read_write> scratch: array<vec2<f32>>;

// The four-step's last step: along the axis, position k1 n2 + k2 holds X[k1 + n1 k2]
// (n1 = len, n2 = full_len / len); scratch receives the spectrum in order.
@compute @workgroup_size(256)
fn fft_permute(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = gid.x + gid.y * groups.x * FFT_WORKGROUP;
    if (t >= p.nx * p.ny * p.nz) {
        return;
    }
    let q = (t / p.stride) % p.full_len;
    let other = t - q * p.stride;
    let n2 = p.full_len / p.len;
    let k1 = q / n2;
    let k2 = q % n2;
    scratch[other + (k1 + p.len * k2) * p.stride] = data[t];
}

// Real transforms (R2C/C2R) along x, the standard half-length packing: a real line of nx values
// read as nx/2 complex values z_j = x_2j + i x_2j+1, transformed at half length by `fft_pass`,
// then split into the nx/2 + 1 modes of the real line (and back). Here p.nx is the packed
// length M = nx/2 and p.len = M + 1, the spectrum's x extent; p.sign −1 for R2C, +1 for C2R.

// R2C: scratch (M+1, ny, nz) ← the modes X_k = Fe_k + e^{−2πik/nx} Fo_k from data (M, ny, nz),
// Fe_k = (Z_k + conj Z_{M−k})/2, Fo_k = (Z_k − conj Z_{M−k})/(2i).
@compute @workgroup_size(256)
fn r2c_split(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = gid.x + gid.y * groups.x * FFT_WORKGROUP;
    let m = p.nx;
    let w = p.len;
    if (t >= w * p.ny * p.nz) {
        return;
    }
    let k = t % w;
    let row = t / w;
    let a = data[row * m + k % m];
    let b = data[row * m + (m - k % m) % m];
    let bc = vec2<f32>(b.x, -b.y);
    let fe = 0.5 * (a + bc);
    let d = 0.5 * (a - bc);
    // (a − conj b)/(2i) = −i d.
    let fo = vec2<f32>(d.y, -d.x);
    scratch[t] = fe + cmul(twiddle(k * (p.table_len / (2u * m))), fo);
}

// C2R: scratch (M, ny, nz) ← Z_k = Fe_k + i Fo_k from the modes in data (M+1, ny, nz),
// Fe_k = (X_k + conj X_{M−k})/2, Fo_k = e^{2πik/nx} (X_k − conj X_{M−k})/2; the inverse
// half-length transform of scratch then holds the real line in pairs.
@compute @workgroup_size(256)
fn c2r_merge(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = gid.x + gid.y * groups.x * FFT_WORKGROUP;
    let m = p.nx;
    let w = p.len;
    if (t >= m * p.ny * p.nz) {
        return;
    }
    let k = t % m;
    let row = t / m;
    let a = data[row * w + k];
    let b = data[row * w + m - k];
    let bc = vec2<f32>(b.x, -b.y);
    let fe = 0.5 * (a + bc);
    let fo = cmul(twiddle(k * (p.table_len / (2u * m))), 0.5 * (a - bc));
    scratch[t] = fe + vec2<f32>(-fo.y, fo.x);
}
