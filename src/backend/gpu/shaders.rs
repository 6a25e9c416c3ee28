//! The assembled WGSL source of each kernel family: the single record of what each includes.

/// Complex FFT passes along one axis.
pub const FFT: &str = concat!(
    include_str!("../../../shaders/common.wgsl"),
    include_str!("../../../shaders/fft.wgsl")
);

/// Every assembled family, by name (for validation).
pub const ALL: [(&str, &str); 1] = [("fft", FFT)];
