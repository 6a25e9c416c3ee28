// grid.wgsl: voxel and mode indexing shared by the families whose uniform `params` carries the
// grid (nx, ny, nz, count, hx, hy, hz): the Cahn–Hilliard family and the system families.

const WORKGROUP: u32 = 256u;

// The voxel (or mode) of this invocation; dispatches are 2-D when one axis would exceed 65535.
fn voxel(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WORKGROUP;
}

// Wavenumber of index i along an axis of n voxels of spacing h; `derivative` zeroes Nyquist.
fn wavenumber(i: u32, n: u32, h: f32, derivative: bool) -> f32 {
    if (n == 1u || (derivative && 2u * i == n)) {
        return 0.0;
    }
    var m = f32(i);
    if (i > n / 2u) {
        m = f32(i) - f32(n);
    }
    return TAU * m / (f32(n) * h);
}

fn mode_k(i: u32, derivative: bool) -> vec3<f32> {
    let x = i % params.nx;
    let y = (i / params.nx) % params.ny;
    let z = i / (params.nx * params.ny);
    return vec3<f32>(
        wavenumber(x, params.nx, params.hx, derivative),
        wavenumber(y, params.ny, params.hy, derivative),
        wavenumber(z, params.nz, params.hz, derivative),
    );
}

