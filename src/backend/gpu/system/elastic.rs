//! Mechanical equilibrium on the device (model.md §8): Galerkin conjugate gradients
//! (elasticity.wgsl, linalg.wgsl), warm-started, with residual replacement at each batch; or the
//! Moulinec–Suquet fixed point (`solver = "fixed_point"`), as `Elasticity::solve_fixed_point`.
//! Either way the iteration's scalars stay on the device and the host reads the done flag once
//! per batch.

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
        let (iterations, done) = match el.solver {
            SolverKind::Cg => self.elastic_cg(enc, el)?,
            SolverKind::FixedPoint => self.elastic_fixed_point(enc, el)?,
        };
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

    /// The spectra of C : `from` (a stacked strain-like tensor) in `el.spectra`, unnormalised.
    fn stress_spectra(&self, enc: &mut Recorder, el: &Elastic, from: BufId) {
        let mut slots = vec![from, el.local];
        slots.extend_from_slice(&el.spectra);
        self.k.run(enc, "hooke_to_spectra", op(), &slots, self.n);
        for s in el.spectra {
            self.fft(enc, s, false);
        }
    }

    /// Runs an entry over the six spectra (slots s2..s7) of `el`.
    fn on_spectra(&self, enc: &mut Recorder, el: &Elastic, entry: &'static str) {
        let mut slots = vec![self.k.dummy(), self.k.dummy()];
        slots.extend_from_slice(&el.spectra);
        self.k.run(enc, entry, op(), &slots, self.n);
    }

    /// `to` ← the real tensor whose spectra `el.spectra` hold (inverse transforms).
    fn spectra_to(&self, enc: &mut Recorder, el: &Elastic, to: BufId) {
        for s in el.spectra {
            self.fft(enc, s, true);
        }
        let mut slots = vec![to, self.k.dummy()];
        slots.extend_from_slice(&el.spectra);
        self.k.run(enc, "spectra_to_tensor", op(), &slots, self.n);
    }

    /// scal[dst] ← ‖P τ‖² (Frobenius) of the tensor whose spectra `el.spectra` hold.
    fn compatible_norm(&self, enc: &mut Recorder, el: &Elastic, dst: u32) {
        let mut slots = vec![self.k.dummy(), self.k.dummy()];
        slots.extend_from_slice(&el.spectra);
        self.k.reduce(
            enc,
            "compatible_norm_partial",
            op(),
            &slots,
            self.n,
            (dst, 0),
        );
    }

    /// Conjugate gradients on `P C P ε = P C ε*`; returns (iterations, done flag).
    fn elastic_cg(&self, mut enc: Recorder, el: &Elastic) -> Result<(u64, f32)> {
        let (k, n) = (&self.k, self.n);
        let tensor = 6 * n;
        let apply = |enc: &mut Recorder, from: BufId, to: BufId| {
            self.stress_spectra(enc, el, from);
            self.on_spectra(enc, el, "project");
            self.spectra_to(enc, el, to);
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
        self.start_solve(&mut enc, tol2);
        let frozen = Op { frozen: 1, ..op() };
        let iteration = |enc: &mut Recorder| {
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
        let refresh = |enc: &mut Recorder| {
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
        self.iterate(enc, el.max_iterations, iteration, Some(&refresh))
    }

    /// The basic Moulinec–Suquet scheme, ε ← ε − Γ⁰[σ(ε)] with the mean of the free components
    /// moved by C⁰_ff⁻¹⟨σ⟩_f, stopped as the CPU's when ‖P σ(ε)‖ ≤ tol ‖P[C : ε*]‖; returns
    /// (iterations, done flag). Each iteration transforms σ once: the residual norm comes from
    /// its spectra by Parseval before Γ⁰ overwrites them. The residual is recomputed from ε
    /// every iteration (not recursive), so it needs no replacement.
    fn elastic_fixed_point(&self, mut enc: Recorder, el: &Elastic) -> Result<(u64, f32)> {
        let (k, n) = (&self.k, self.n);
        let tensor = 6 * n;
        // The reference medium halfway between the softest and the stiffest voxel (λ and μ are
        // components 0 and 1 of the local stiffness).
        for (index, dst) in [(0, LAMBDA_RANGE), (1, MU_RANGE)] {
            let o = Op { index, ..op() };
            k.reduce(&mut enc, "range_partial", o, &[el.local], n, (dst, 3));
        }
        self.stress_spectra(&mut enc, el, el.eigen);
        self.compatible_norm(&mut enc, el, BNORM2);
        // RR ← ‖P σ(ε)‖² and the spectra ← Γ⁰[σ(ε)] with the mean update.
        let residual_and_update = |enc: &mut Recorder| {
            k.run(
                enc,
                "lincomb",
                Op { f: -1.0, ..op() },
                &[el.strain, el.eigen, el.q],
                tensor,
            );
            self.stress_spectra(enc, el, el.q);
            self.compatible_norm(enc, el, RR);
            self.on_spectra(enc, el, "gamma0");
        };
        residual_and_update(&mut enc);
        let tol2 = (el.tolerance * el.tolerance) as f32;
        self.start_solve(&mut enc, tol2);
        let iteration = |enc: &mut Recorder| {
            self.spectra_to(enc, el, el.p);
            let minus = Op {
                a: ONE,
                f: -1.0,
                frozen: 1,
                ..op()
            };
            k.run(enc, "axpy", minus, &[el.p, el.strain], tensor);
            residual_and_update(enc);
            k.scalar(
                enc,
                Op {
                    index: CHECK,
                    f: tol2,
                    ..op()
                },
            );
        };
        self.iterate(enc, el.max_iterations, iteration, None)
    }
}

/// The device solves' scalar machinery (linalg.wgsl): dot products into scalar slots, the
/// start of a solve, and its iterations in batches with one read of the stopping flag each.
impl SystemStep {
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
}
