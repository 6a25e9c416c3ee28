//! The GPU backend: WGSL compute shaders through wgpu, fields in f32 on the device. This
//! version has its foundation: the device context and the FFT, checked against rustfft on
//! every CI run (software adapter); the kernels of the step follow (issue 5).

pub mod context;
pub mod fft;
pub mod shaders;
