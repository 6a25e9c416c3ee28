//! Mechanical equilibrium on the device: Galerkin conjugate gradients (elasticity.wgsl,
//! linalg.wgsl), warm-started, with residual replacement at each batch (model.md §8).

use super::*;

impl SystemStep {
    /// Solves mechanical equilibrium for the current c unless done already.
    pub(super) fn ensure_elastic(&mut self) -> Result<(u64, f64)> {
        let Some(el) = &self.elastic else {
            return Ok((0, 0.0));
        };
        if el.fresh {
            return Ok(el.last);
        }
        let (k, n) = (&self.k, self.n);
        let tensor = 6 * n;
        let mut enc = k.encoder();
        k.run(
            &mut enc,
            "update_material",
            op(),
            &[self.c, el.phi, el.axis, el.local, el.eigen, el.deigen],
            n,
        );
        let apply = |enc: &mut wgpu::CommandEncoder, from: BufId, to: BufId| {
            let mut slots = vec![from, el.local];
            slots.extend_from_slice(&el.spectra);
            k.run(enc, "hooke_to_spectra", op(), &slots, n);
            for s in el.spectra {
                self.fft(enc, s, false);
            }
            let mut slots = vec![self.k.dummy(), self.k.dummy()];
            slots.extend_from_slice(&el.spectra);
            k.run(enc, "project", op(), &slots, n);
            for s in el.spectra {
                self.fft(enc, s, true);
            }
            let mut slots = vec![to, self.k.dummy()];
            slots.extend_from_slice(&el.spectra);
            k.run(enc, "spectra_to_tensor", op(), &slots, n);
        };
        // b = P[C : ε*] sets the scale; r = P[C : (ε* − ε)] from the warm start.
        apply(&mut enc, el.eigen, el.q);
        self.dot(&mut enc, el.q, el.q, BNORM2, true);
        k.run(
            &mut enc,
            "lincomb",
            Op { f: -1.0, ..op() },
            &[el.eigen, el.strain, el.p],
            tensor,
        );
        apply(&mut enc, el.p, el.q);
        self.copy(&mut enc, el.q, el.r, tensor);
        self.copy(&mut enc, el.r, el.p, tensor);
        self.dot(&mut enc, el.r, el.r, RR, true);
        let tol2 = (el.tolerance * el.tolerance) as f32;
        k.scalar(
            &mut enc,
            Op {
                index: START,
                f: tol2,
                ..op()
            },
        );
        let frozen = Op { frozen: 1, ..op() };
        let iteration = |enc: &mut wgpu::CommandEncoder| {
            apply(enc, el.p, el.q);
            self.dot(enc, el.p, el.q, PQ, true);
            k.scalar(
                enc,
                Op {
                    index: RATIO,
                    a: RR,
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
            k.run(enc, "axpy", step, &[el.p, el.strain], tensor);
            k.run(enc, "axpy", Op { f: -1.0, ..step }, &[el.q, el.r], tensor);
            self.dot(enc, el.r, el.r, RZ_NEW, true);
            k.scalar(
                enc,
                Op {
                    index: ADVANCE,
                    a: RZ_NEW,
                    b: RR,
                    ..op()
                },
            );
            k.run(enc, "xpay", Op { a: BETA, ..frozen }, &[el.r, el.p], tensor);
            k.scalar(
                enc,
                Op {
                    index: CHECK,
                    f: tol2,
                    ..op()
                },
            );
        };
        // f32 round-off drifts the recursive residual away from the true one over hundreds of
        // iterations at a 10⁴ stiffness contrast; each batch starts from the true residual
        // (residual replacement, van der Vorst & Ye 2000), keeping the search direction.
        let refresh = |enc: &mut wgpu::CommandEncoder| {
            k.run(
                enc,
                "lincomb",
                Op { f: -1.0, ..op() },
                &[el.eigen, el.strain, el.q],
                tensor,
            );
            apply(enc, el.q, el.r);
            self.dot(enc, el.r, el.r, RR, true);
        };
        let (iterations, done) = self.iterate(enc, el.max_iterations, iteration, Some(&refresh))?;
        let mut enc = k.encoder();
        k.run(&mut enc, "zero_if_unloaded", op(), &[el.strain], tensor);
        k.submit(enc);
        let s = self.scalars()?;
        let residual = if s[BNORM2 as usize] > 0.0 {
            (s[RR as usize] as f64 / s[BNORM2 as usize] as f64).sqrt()
        } else {
            0.0
        };
        if done != 1.0 {
            return Err(Error::ElasticNotConverged {
                iterations,
                residual,
                tolerance: el.tolerance,
            });
        }
        let el = self.elastic.as_mut().expect("mechanics");
        el.fresh = true;
        el.last = (iterations, residual);
        Ok(el.last)
    }
}
