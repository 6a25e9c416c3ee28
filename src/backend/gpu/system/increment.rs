//! The implicit increment on the device: the operator `(M + dt L)` and its
//! preconditioner (implicit.wgsl), and the conjugate gradients that invert it, batched with one
//! read of the stopping flag per batch (linalg.wgsl).

use super::*;

impl SystemStep {
    /// out += Σ_g W_g F⁻¹[s_g F(W_g x)], s_g = dt L_g (flag 0) or 1/(ψ̄_g + dt L_g) (flag 1).
    fn group_pass(&self, enc: &mut Recorder, x: BufId, out: BufId, flag: u32) {
        let (k, n) = (&self.k, self.n);
        for g in 0..self.groups {
            let w = Op {
                index: g as u32,
                flag: self.grouped as u32,
                ..op()
            };
            k.run(
                enc,
                "weighted_to_complex",
                w,
                &[x, self.hat, self.weights],
                n,
            );
            self.fft(enc, self.hat, false);
            let s = Op {
                index: g as u32,
                flag,
                ..op()
            };
            k.run(enc, "scale_modes", s, &[self.hat], n);
            self.fft(enc, self.hat, true);
            k.run(
                enc,
                "add_weighted_real",
                w,
                &[out, self.hat, self.weights],
                n,
            );
        }
    }

    /// out = (M + dt L) x.
    pub(super) fn operator(&self, enc: &mut Recorder, x: BufId, out: BufId) {
        let (k, n) = (&self.k, self.n);
        k.run(enc, "mass_times", op(), &[x, out, self.psi], n);
        self.group_pass(enc, x, out, 0);
    }

    pub(super) fn precondition(&self, enc: &mut Recorder, r: BufId, z: BufId) {
        self.k.run(enc, "fill", op(), &[z], self.n);
        self.group_pass(enc, r, z, 1);
    }

    pub(super) fn dot(&self, enc: &mut Recorder, a: BufId, b: BufId, dst: u32, tensor: bool) {
        let len = if tensor { 6 * self.n } else { self.n };
        let o = Op {
            flag: tensor as u32,
            ..op()
        };
        self.k.reduce(enc, "dot_partial", o, &[a, b], len, (dst, 0));
    }

    /// Records the start of a device solve that stops at ‖r‖² ≤ `tol2` ‖b‖² (scalar program
    /// START: done at once when that already holds or b = 0); the CHECK of each iteration
    /// takes the same `tol2`.
    pub(super) fn start_solve(&self, enc: &mut Recorder, tol2: f32) {
        self.k.scalar(
            enc,
            Op {
                index: START,
                f: tol2,
                ..op()
            },
        );
    }

    /// Runs the recorded CG iterations in batches until the device flags the solve done;
    /// returns the iterations. `record` records one iteration.
    pub(super) fn iterate(
        &self,
        mut enc: Recorder,
        max_iterations: u64,
        record: impl Fn(&mut Recorder),
        refresh: Option<&dyn Fn(&mut Recorder)>,
    ) -> Result<(u64, f32)> {
        let mut batch = 4;
        loop {
            if std::env::var_os("SWELLFIELD_DEBUG_CG").is_some() {
                let s = self.scalars()?;
                eprintln!(
                    "cg: iteration {} rr/b {:e} done {}",
                    s[ITER],
                    (s[RR as usize] / s[BNORM2 as usize]).sqrt(),
                    s[DONE]
                );
            }
            for _ in 0..batch {
                self.k.scalar(
                    &mut enc,
                    Op {
                        index: BEGIN,
                        g: max_iterations as f32,
                        ..op()
                    },
                );
                record(&mut enc);
            }
            self.k.submit(enc);
            let s = self.scalars()?;
            if s[DONE] > 0.5 {
                return Ok((s[ITER] as u64, s[DONE]));
            }
            batch = (batch * 2).min(MAX_BATCH);
            enc = self.k.encoder();
            if let Some(refresh) = refresh {
                refresh(&mut enc);
            }
        }
    }

    /// Solves (M + dt L) x = b on the device.
    pub(super) fn increment(&self, mut enc: Recorder) -> Result<u64> {
        let (k, n) = (&self.k, self.n);
        let (b, x, r, z, p, q) = (self.b, self.x, self.r, self.z, self.p, self.q);
        self.dot(&mut enc, b, b, BNORM2, false);
        self.copy(&mut enc, b, r, n);
        self.precondition(&mut enc, r, z);
        self.copy(&mut enc, z, x, n);
        self.operator(&mut enc, x, q);
        let minus = Op {
            a: ONE,
            f: -1.0,
            ..op()
        };
        k.run(&mut enc, "axpy", minus, &[q, r], n);
        self.precondition(&mut enc, r, z);
        self.copy(&mut enc, z, p, n);
        self.dot(&mut enc, r, z, RZ, false);
        self.dot(&mut enc, r, r, RR, false);
        let tol2 = (F32_TOLERANCE * F32_TOLERANCE) as f32;
        self.start_solve(&mut enc, tol2);
        let frozen = Op { frozen: 1, ..op() };
        let (iterations, done) = self.iterate(
            enc,
            INCREMENT_MAX_ITERATIONS,
            |enc| {
                self.operator(enc, p, q);
                self.dot(enc, p, q, PQ, false);
                k.scalar(
                    enc,
                    Op {
                        index: RATIO,
                        a: RZ,
                        b: PQ,
                        dst: ALPHA,
                        flag: 1,
                        ..op()
                    },
                );
                let step = Op {
                    a: ALPHA,
                    f: 1.0,
                    ..frozen
                };
                k.run(enc, "axpy", step, &[p, x], n);
                k.run(enc, "axpy", Op { f: -1.0, ..step }, &[q, r], n);
                self.precondition(enc, r, z);
                self.dot(enc, r, z, RZ_NEW, false);
                k.scalar(
                    enc,
                    Op {
                        index: ADVANCE,
                        a: RZ_NEW,
                        b: RZ,
                        ..op()
                    },
                );
                k.run(enc, "xpay", Op { a: BETA, ..frozen }, &[z, p], n);
                self.dot(enc, r, r, RR, false);
                k.scalar(
                    enc,
                    Op {
                        index: CHECK,
                        f: tol2,
                        ..op()
                    },
                );
            },
            None,
        )?;
        if done != 1.0 {
            return Err(Error::NonFinite {
                field: "c (implicit increment did not converge)".into(),
                step: 0,
                time: f64::NAN,
            });
        }
        if std::env::var_os("SWELLFIELD_DEBUG_CG").is_some() {
            eprintln!("implicit increment (gpu): {iterations} iterations");
        }
        Ok(iterations)
    }

    /// `(M + dt L) x`, for the mirror test of implicit.wgsl against
    /// `CpuBackend::increment_operator`; with `precondition`, the preconditioner instead.
    pub fn apply_increment_operator(
        &mut self,
        x: &[f64],
        dt: f64,
        precondition: bool,
    ) -> Result<Vec<f64>> {
        self.params.dt = dt as f32;
        self.k.write_params(&self.params);
        let data: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        self.ctx
            .queue
            .write_buffer(self.k.buffer(self.p), 0, bytemuck::cast_slice(&data));
        let mut enc = self.k.encoder();
        if precondition {
            self.precondition(&mut enc, self.p, self.q);
        } else {
            self.operator(&mut enc, self.p, self.q);
        }
        self.k.submit(enc);
        self.read(self.q)
    }
}
