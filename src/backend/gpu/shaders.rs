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
    include_str!("../../../shaders/cahn_hilliard.wgsl"),
    include_str!("../../../shaders/free_energy.wgsl"),
    include_str!("../../../shaders/reduce.wgsl"),
);

/// Every assembled family, by name (for validation).
pub const ALL: [(&str, &str); 2] = [("fft", FFT), ("cahn_hilliard", CAHN_HILLIARD)];
