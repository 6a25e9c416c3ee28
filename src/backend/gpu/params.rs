//! `Params`: the uniform of the Cahn–Hilliard family; twin of `struct Params` in
//! shaders/cahn_hilliard.wgsl (tests/shaders.rs checks the layouts agree).

/// The step's constants in model units (f32).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub count: u32,
    pub hx: f32,
    pub hy: f32,
    pub hz: f32,
    pub dt: f32,
    pub kappa: f32,
    pub stab: f32,
    pub s: f32,
    pub mobility_kind: u32,
    pub fe_kind: u32,
    pub segments: u32,
    pub partials: u32,
    pub pad0: u32,
    pub rho: f32,
    pub well_a: f32,
    pub well_b: f32,
    pub pad1: f32,
    /// (c_min, c_max, u0, omega) of each regular-solution segment, in kT.
    pub seg: [[f32; 4]; 4],
}

/// Which axis a gradient or divergence kernel works on; twin of `struct AxisParams`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct AxisParams {
    pub axis: u32,
    pub first: u32,
    pub pad0: u32,
    pub pad1: u32,
}

/// Invocations per workgroup of every Cahn–Hilliard kernel (`WORKGROUP` in the WGSL).
pub const WORKGROUP: u32 = 256;

/// The uniform of the multi-material step's families; twin of `struct Params` in
/// shaders/system.wgsl (tests/shaders.rs checks the layouts agree).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct SystemParams {
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub count: u32,
    pub hx: f32,
    pub hy: f32,
    pub hz: f32,
    pub dt: f32,
    pub kappa: f32,
    pub stab: f32,
    pub s: f32,
    pub psi_floor: f32,
    pub mobility_kind: u32,
    pub components: u32,
    pub materials: u32,
    pub anisotropic: u32,
    pub dim: u32,
    pub free_mask: u32,
    pub spectral_mask: u32,
    pub voxel_volume: f32,
    pub overstress: f32,
    pub electrolyte: u32,
    pub pad0: u32,
    pub pad1: u32,
}

/// What one dispatch of the multi-material families works on; twin of `struct Op`. Each
/// dispatch gets its own copy in a ring of uniforms (dynamic offsets).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Op {
    pub index: u32,
    pub a: u32,
    pub b: u32,
    pub dst: u32,
    pub frozen: u32,
    pub n: u32,
    pub parts: u32,
    pub flag: u32,
    pub f: f32,
    pub g: f32,
    pub pad0: f32,
    pub pad1: f32,
}
