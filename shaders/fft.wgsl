// fft.wgsl: one pass of a power-of-two complex FFT along one axis of a 3-D grid (x fastest).
// One workgroup transforms one line (a pencil along `axis`) entirely in workgroup memory by
// the Stockham autosort radix-2 algorithm: one global read and one global write per element
// and pass. Lines are numbered so that axis 0 takes (y, z), axis 1 (x, z), axis 2 (x, y).
// Twin of FftParams in src/backend/gpu/fft.rs.
//
// Bindings: 0 the data (complex, read-write), 1 the pass's parameters.

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
    pad0: u32,
    pad1: u32,
};

@group(0) @binding(0) var<storage, read_write> data: array<vec2<f32>>;
@group(0) @binding(1) var<uniform> p: FftParams;

const FFT_WORKGROUP: u32 = 256u;
// Two halves of 1024 complex values: lines up to 1024 long, ping-ponged between the halves.
const FFT_MAX_LEN: u32 = 1024u;
var<workgroup> buf: array<vec2<f32>, 2048>;

@compute @workgroup_size(256)
fn fft_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let line = wid.x + wid.y * p.groups_x;
    if (line >= p.lines) {
        return;
    }
    var base: u32;
    if (p.axis == 0u) {
        base = line * p.nx;
    } else if (p.axis == 1u) {
        base = (line / p.nx) * p.nx * p.ny + line % p.nx;
    } else {
        base = line;
    }
    let n = p.len;
    let half = n / 2u;
    for (var i = lid.x; i < n; i += FFT_WORKGROUP) {
        buf[i] = data[base + i * p.stride];
    }
    workgroupBarrier();
    var src = 0u;
    var dst = FFT_MAX_LEN;
    var ns = 1u;
    loop {
        if (ns >= n) {
            break;
        }
        for (var j = lid.x; j < half; j += FFT_WORKGROUP) {
            let k = j % ns;
            let v0 = buf[src + j];
            let angle = p.sign * TAU * f32(k) / f32(2u * ns);
            let v1 = cmul(buf[src + j + half], vec2<f32>(cos(angle), sin(angle)));
            let idx = (j / ns) * ns * 2u + k;
            buf[dst + idx] = v0 + v1;
            buf[dst + idx + ns] = v0 - v1;
        }
        workgroupBarrier();
        let t = src;
        src = dst;
        dst = t;
        ns = ns * 2u;
    }
    for (var i = lid.x; i < n; i += FFT_WORKGROUP) {
        data[base + i * p.stride] = buf[src + i] * p.scale;
    }
}
