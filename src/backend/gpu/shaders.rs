//! The assembled WGSL source of each kernel family: the single record of what each includes.

/// Complex FFT passes along one axis.
pub const FFT: &str = concat!(
    include_str!("../../../shaders/common.wgsl"),
    include_str!("../../../shaders/fft.wgsl")
);

/// The Cahn–Hilliard step for one host filling the cell: its kernels, the free energy they
/// evaluate, and the reductions over the same bindings.
pub const CAHN_HILLIARD: &str = concat!(
    include_str!("../../../shaders/common.wgsl"),
    include_str!("../../../shaders/grid.wgsl"),
    include_str!("../../../shaders/cahn_hilliard.wgsl"),
    include_str!("../../../shaders/free_energy.wgsl"),
    include_str!("../../../shaders/reduce.wgsl"),
);

/// The families of the multi-material backend's slot-bound kernels (the uniform-density
/// spectral step, elasticity, the stress terms, the extension into pores, the reductions): they
/// share one set of bindings (system.wgsl), so they are assembled into one module.
pub const SYSTEM: &str = concat!(
    include_str!("../../../shaders/common.wgsl"),
    include_str!("../../../shaders/grid.wgsl"),
    include_str!("../../../shaders/system.wgsl"),
    include_str!("../../../shaders/free_energy.wgsl"),
    include_str!("../../../shaders/linalg.wgsl"),
    include_str!("../../../shaders/chemistry.wgsl"),
    include_str!("../../../shaders/implicit.wgsl"),
    include_str!("../../../shaders/elasticity.wgsl"),
    include_str!("../../../shaders/observe.wgsl"),
);

/// Geometric multigrid on the voxel grid (the convex-splitting step's preconditioner).
pub const MULTIGRID: &str = include_str!("../../../shaders/multigrid.wgsl");

/// Preconditioned MINRES (the convex-splitting step's Newton solves).
pub const MINRES: &str = include_str!("../../../shaders/minres.wgsl");

/// The convex-splitting step of cells with several hosts or pores.
pub const CONVEX_SPLIT: &str = include_str!("../../../shaders/convex_split.wgsl");

/// Every assembled family, by name (for validation).
pub const ALL: [(&str, &str); 6] = [
    ("convex_split", CONVEX_SPLIT),
    ("minres", MINRES),
    ("multigrid", MULTIGRID),
    ("fft", FFT),
    ("cahn_hilliard", CAHN_HILLIARD),
    ("system", SYSTEM),
];
