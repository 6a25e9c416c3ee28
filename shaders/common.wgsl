// common.wgsl: what every kernel family shares: complex arithmetic on vec2<f32> (x real, y
// imaginary). Included first by each family (src/backend/gpu/shaders.rs lists the assembly).

const TAU: f32 = 6.283185307179586;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
