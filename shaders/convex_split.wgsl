// convex_split.wgsl: the convex-splitting step of cells with several hosts or pores on the
// device (model.md §8, "The convex-splitting step"): the old state's face conductances,
// explicit potential and reaction conductance; the Newton residuals, the saddle-point operator
// and its block preconditioner's glue around the two V-cycles (multigrid.wgsl); the Newton
// update in each voxel's convex potential ν; and the new c from the face fluxes. Mirror of the
// same-named functions in src/backend/cpu/convex_split.rs; the host code that sequences them
// is src/backend/gpu/convex_split.rs, the solves are minres.wgsl and multigrid.wgsl.
//
// The device keeps each voxel's ν beside its c. In f32, c cannot resolve 1 − c below 6e-8 nor
// the 1e-8 of c over which a multi-segment host's ν climbs 35 kT at a segment junction; ν can.
// So Newton steps in ν and forms c = c(ν) (the logit where it has no closed form), the new c
// comes from the face fluxes (every voxel balances to f32 round-off), and the pair (c, ν) is
// the state: consistent to the Newton tolerance.
//
// Potentials (μ, ν, μ_e) are held relative to a reference the host sets each step near μ_e
// (`params.reference`, exact in f64 on the host). What moves ions are their differences, the
// overpotentials μ_e − μ and the steps of μ between voxels, often 1e-4 of μ itself (μ ≈ −18 kT
// in the anodes): absolute, f32 would resolve them to ~1e-2 and the galvanostat's current to
// 1e-4; relative to the reference, to f32's 6e-8 of their own size. The hosts' u0 are shifted
// by the reference too (the host rewrites them when it moves), so the free-energy functions
// take and return potentials relative to it: σ(ν + u0) sees ν + u0, a logit of a few kT, not
// the sum of two numbers of 100 kT.
//
// Newton vectors hold (μ block, c block, μ_e): 2·len + 1 floats.

const VOXELS: u32 = 256u;
// As src/free_energy.rs.
const LOG_FLOOR: f32 = 1e-30;
// How many times the round-off of its terms a residual may miss by (convex_split.rs).
const ROUND_OFF_MARGIN: f32 = 64.0;
const EPSILON: f32 = 1.1920929e-7;
// A Newton step moves no voxel's ν by more than this (kT), as on the CPU.
const MAX_POTENTIAL_STEP: f32 = 5.0;

// Twin of `ConvexParams` in src/backend/gpu/convex_split.rs.
struct ConvexParams {
    // Voxels per axis, and the dimension.
    n: vec4<u32>,
    len: u32,
    components: u32,
    // 0: constant mobility; 1: site blocking.
    mobility: u32,
    // The insertion's exchange factor: 0 constant, 1 2√(c(1 − c)).
    exchange: u32,
    kappa: f32,
    dt: f32,
    // 1: μ_e is the last unknown, closing Σ ρ (μ_e − μ) = current.
    galvanostatic: u32,
    // The galvanostat's ions per model time over the voxel volume.
    current: f32,
    // The potentiostat's μ_e (kT), relative to the reference.
    mu_e: f32,
    // The reference of the potentials (kT), and what the state's ν moves by at begin_step when
    // the reference changes (old reference − new).
    reference: f32,
    shift: f32,
    pad0: u32,
};

// A host's free energy; twin of `HostParams` (free_energy.rs's regular solution in kT).
struct Host {
    segments: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
    // (c_min, c_max, u0, omega) per segment.
    seg: array<vec4<f32>, 4>,
};

// A voxel's static data; twin of `Site`.
struct Site {
    psi: f32,
    // The reaction's rate r(x).
    rate: f32,
    // (Σ of the hosts' site densities)/ψ: what the hosts' mixed site blocking is scaled by.
    hosts: f32,
    // The only host present (its component index), or 2³²−1 in a mixture; 2³²−2 off the solid.
    only: u32,
};

// A voxel's state at the start of the step; twin of `Old`.
struct Old {
    c: f32,
    nu: f32,
    // The explicit part of μ at c⁰: concave interactions and the stress term.
    frozen: f32,
    // ρ = ψ r j(c⁰), the reaction's conductance.
    rho: f32,
    // The stress term's stabiliser S (kT per unit c).
    stabiliser: f32,
    // The site blocking at c⁰.
    blocking: f32,
    // μ at the start of the step (relative to the reference): the iterate's μ is mu0 + its
    // increment, so that differences of μ between neighbours and against μ_e are formed as
    // (mu0_i − mu0_j) + (δ_i − δ_j), each part exact or small (see flux_form).
    mu0: f32,
    pad0: f32,
};

// A voxel's Newton iterate; twin of `Iterate`.
struct Iterate {
    c: f32,
    nu: f32,
    // μ − mu0: the step's change of μ so far.
    mu: f32,
    // dν/dc at c.
    dnu: f32,
};

// The step's scalars; twin of `Status`.
struct Status {
    mu_e: f32,
    // The largest ion-balance and μ residuals per site beyond their round-off, and the
    // galvanostat's relative residual.
    r1: f32,
    r2: f32,
    rg: f32,
    rho_sum: f32,
    // Σ ρ (μ_e − μ) and Σ ρ μ at the last residuals.
    pull: f32,
    rho_mu: f32,
    // Σ ψ Δc and max |Δc| of the committed step.
    ions: f32,
    max_dc: f32,
    // Voxels whose new c was not finite.
    non_finite: f32,
    // Σ over faces of ψ_f (c_i − c_j)²/Δx² at the committed state.
    gradient: f32,
    // Σ ψ |c_Newton − c_fluxes| over the voxels whose flux-formed c fell outside (0, 1) and took
    // Newton's: the ions the step would add beyond its fluxes.
    unbalanced: f32,
};

const OFF: u32 = 4294967294u;
const MIXED: u32 = 4294967295u;

@group(0) @binding(0) var<uniform> params: ConvexParams;
@group(0) @binding(1) var<storage, read> hosts: array<Host>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> site: array<Site>;
@group(0) @binding(4) var<storage, read> flux: array<f32>;
@group(0) @binding(5) var<storage, read> gradient: array<f32>;
@group(0) @binding(6) var<storage, read_write> conduct: array<f32>;
@group(0) @binding(7) var<storage, read_write> old: array<Old>;
@group(0) @binding(8) var<storage, read_write> iterate: array<Iterate>;
// The stress term of μ at c⁰ and its stabiliser's stiffness per voxel (0 without coupling).
@group(0) @binding(9) var<storage, read> stress_mu: array<f32>;
@group(0) @binding(25) var<storage, read> stress_stiffness: array<f32>;
@group(0) @binding(10) var<storage, read_write> rhs: array<f32>;
@group(0) @binding(11) var<storage, read> solution: array<f32>;
@group(0) @binding(12) var<storage, read> operand: array<f32>;
@group(0) @binding(13) var<storage, read_write> product: array<f32>;
@group(0) @binding(14) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> status: Status;
@group(0) @binding(16) var<storage, read_write> schur_diag: array<f32>;
@group(0) @binding(17) var<storage, read_write> schur_g: array<f32>;
@group(0) @binding(18) var<storage, read_write> h_diag: array<f32>;
@group(0) @binding(19) var<storage, read_write> block_mu: array<f32>;
@group(0) @binding(20) var<storage, read_write> block_c: array<f32>;
@group(0) @binding(21) var<storage, read> z_mu: array<f32>;
@group(0) @binding(22) var<storage, read> z_c: array<f32>;
@group(0) @binding(23) var<storage, read_write> c_field: array<f32>;
@group(0) @binding(26) var<storage, read_write> c_new: array<f32>;

fn cs_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * VOXELS;
}

fn cs_stride(a: u32) -> u32 {
    if (a == 0u) {
        return 1u;
    }
    if (a == 1u) {
        return params.n.x;
    }
    return params.n.x * params.n.y;
}

fn cs_up(i: u32, a: u32) -> u32 {
    let s = cs_stride(a);
    let m = params.n[a];
    if ((i / s) % m + 1u == m) {
        return i + s - m * s;
    }
    return i + s;
}

fn cs_down(i: u32, a: u32) -> u32 {
    let s = cs_stride(a);
    let m = params.n[a];
    if ((i / s) % m == 0u) {
        return i + (m - 1u) * s;
    }
    return i - s;
}

// 1/(1 + e^(−x)) without overflow, exact in its small tail.
fn cs_logistic(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// What a host's convex split gives at one composition: ν, dν/dc, the explicit part e and the
// site blocking, and the composition itself as (c, 1 − c), each side exact near its own zero.
struct Point {
    nu: f32,
    dnu: f32,
    e: f32,
    blocking: f32,
    c: f32,
    cbar: f32,
};

// A multi-segment host's sublattices at a common ν: c = Σ w_j σ(ν + u0_j), the interactions
// on that distribution explicit (FreeEnergy::convex_split, convex_inverse).
fn cs_sublattices(h: Host, nu: f32) -> Point {
    var p = Point(nu, 0.0, 0.0, 0.0, 0.0, 0.0);
    var weighted = 0.0;
    for (var j = 0u; j < h.segments; j = j + 1u) {
        let s = h.seg[j];
        let w = s.y - s.x;
        let y = cs_logistic(nu + s.z);
        let v = cs_logistic(-(nu + s.z));
        p.c = p.c + w * y;
        p.cbar = p.cbar + w * v;
        p.blocking = p.blocking + w * y * v;
        weighted = weighted + w * s.w * (v - y) * y * v;
    }
    p.blocking = max(p.blocking, 1e-37);
    p.dnu = 1.0 / p.blocking;
    p.e = weighted / p.blocking;
    return p;
}

// A multi-segment host at composition (c, 1 − c): its ν by Newton's method inside the bracket
// [logit c − max u0, logit c − min u0], bisecting whenever a step leaves it (Sublattices::at).
fn cs_sublattices_at(h: Host, c: f32, cbar: f32) -> Point {
    let cc = max(c, LOG_FLOOR);
    let cb = max(cbar, LOG_FLOOR);
    let logit = log(cc) - log(cb);
    var umin = h.seg[0].z;
    var umax = h.seg[0].z;
    for (var j = 1u; j < h.segments; j = j + 1u) {
        umin = min(umin, h.seg[j].z);
        umax = max(umax, h.seg[j].z);
    }
    var lo = logit - umax;
    var hi = logit - umin;
    let scale = min(cc, cb);
    var nu = 0.5 * (lo + hi);
    // The sites outside every segment (none when they tile [0, 1]).
    var rest = 1.0;
    for (var j = 0u; j < h.segments; j = j + 1u) {
        rest = rest - (h.seg[j].y - h.seg[j].x);
    }
    for (var k = 0u; k < 80u; k = k + 1u) {
        var sum = 0.0;
        var vacant = rest;
        var slope = 0.0;
        for (var j = 0u; j < h.segments; j = j + 1u) {
            let s = h.seg[j];
            let y = cs_logistic(nu + s.z);
            let v = cs_logistic(-(nu + s.z));
            sum = sum + (s.y - s.x) * y;
            vacant = vacant + (s.y - s.x) * v;
            slope = slope + (s.y - s.x) * y * v;
        }
        // Matched on the smaller side, c or 1 − c, which each side of the state holds exactly.
        var r = sum - cc;
        if (cb < cc) {
            r = cb - vacant;
        }
        if (abs(r) <= 4.0 * EPSILON * scale) {
            break;
        }
        if (r > 0.0) {
            hi = nu;
        } else {
            lo = nu;
        }
        let next = nu - r / slope;
        if (next > lo && next < hi && slope > 0.0) {
            nu = next;
        } else {
            nu = 0.5 * (lo + hi);
        }
        if (hi - lo <= EPSILON * (1.0 + abs(nu))) {
            break;
        }
    }
    var p = cs_sublattices(h, nu);
    p.c = c;
    p.cbar = cbar;
    return p;
}

// One host at composition (c, 1 − c) (FreeEnergy::convex_split and sublattice_blocking).
fn cs_host_at(h: Host, c: f32, cbar: f32) -> Point {
    if (h.segments > 1u) {
        return cs_sublattices_at(h, c, cbar);
    }
    let s = h.seg[0];
    let w = s.y - s.x;
    let y = (c - s.x) / w;
    // 1 − y from 1 − c, exact near a full host (1.0 − y would keep none of its digits there).
    let ybar = ((s.y - 1.0) + cbar) / w;
    let a = clamp(y, LOG_FLOOR, 1.0);
    let b = clamp(ybar, LOG_FLOOR, 1.0);
    let concave = max(s.w, 0.0);
    let convex = min(s.w, 0.0);
    return Point(
        -s.z + log(a) - log(b) + convex * (ybar - y),
        (1.0 / (a * b) - 2.0 * convex) / w,
        concave * (ybar - y),
        max(w * y * ybar, 0.0),
        c,
        cbar,
    );
}

// Whether a host's composition has a closed form in ν (FreeEnergy::convex_inverse).
fn cs_closed(h: Host) -> bool {
    return h.segments > 1u || h.seg[0].w >= 0.0;
}

// One host at potential ν, where it has a closed form.
fn cs_host_of_nu(h: Host, nu: f32) -> Point {
    if (h.segments > 1u) {
        return cs_sublattices(h, nu);
    }
    let s = h.seg[0];
    let w = s.y - s.x;
    let y = cs_logistic(nu + s.z);
    let v = cs_logistic(-(nu + s.z));
    return Point(nu, 1.0 / max(w * y * v, 1e-37), s.w * (v - y), w * y * v, s.x + w * y, (1.0 - s.y) + w * v);
}

// The mixture of voxel i at (c, 1 − c): ν, dν/dc and e averaged over its hosts by their share
// of its sites, the blocking by their site densities over ψ (Chemistry::convex_split_at,
// sublattice_blocking_at).
fn cs_voxel_at(i: u32, c: f32, cbar: f32) -> Point {
    var p = Point(0.0, 0.0, 0.0, 0.0, c, cbar);
    for (var k = 0u; k < params.components; k = k + 1u) {
        let w = weights[k * params.len + i];
        if (w > 0.0) {
            let q = cs_host_at(hosts[k], c, cbar);
            p.nu = p.nu + w * q.nu;
            p.dnu = p.dnu + w * q.dnu;
            p.e = p.e + w * q.e;
            p.blocking = p.blocking + w * q.blocking;
        }
    }
    p.blocking = p.blocking * site[i].hosts;
    return p;
}

// Voxel i at potential ν: a closed form for one host that has one, else ν(c) = ν solved by
// Newton's method in the logit u of c from c_start inside a bisected bracket
// (free_energy::invert_increasing).
fn cs_voxel_of_nu(i: u32, nu: f32, c_start: f32) -> Point {
    let only = site[i].only;
    if (only < params.components && cs_closed(hosts[only])) {
        var p = cs_host_of_nu(hosts[only], nu);
        p.blocking = p.blocking * site[i].hosts;
        return p;
    }
    var lo = -69.0;
    var hi = 69.0;
    let cs = clamp(c_start, LOG_FLOOR, 1.0 - EPSILON);
    var u = clamp(log(cs) - log(1.0 - cs), lo, hi);
    var p = cs_voxel_at(i, cs_logistic(u), cs_logistic(-u));
    for (var k = 0u; k < 80u; k = k + 1u) {
        let r = p.nu - nu;
        if (abs(r) <= 4.0 * EPSILON * (1.0 + abs(nu))) {
            break;
        }
        if (r > 0.0) {
            hi = u;
        } else {
            lo = u;
        }
        let next = u - r / (p.dnu * p.c * p.cbar);
        if (next > lo && next < hi) {
            u = next;
        } else {
            u = 0.5 * (lo + hi);
        }
        p = cs_voxel_at(i, cs_logistic(u), cs_logistic(-u));
        if (hi - lo <= EPSILON * (1.0 + abs(u))) {
            break;
        }
    }
    return p;
}

// The site-limited exchange factor 2√(c(1 − c)), or 1.
fn cs_exchange(c: f32) -> f32 {
    if (params.exchange == 0u) {
        return 1.0;
    }
    let cc = clamp(c, 0.0, 1.0);
    return 2.0 * sqrt(cc * (1.0 - cc));
}

// The old state's explicit potential, reaction conductance, stabiliser and site blocking, and
// the iterate started there (ConvexSplit::freeze).
@compute @workgroup_size(VOXELS)
fn begin_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    if (i >= params.len || site[i].only == OFF) {
        return;
    }
    var o = old[i];
    o.nu = o.nu + params.shift;
    let p = cs_voxel_of_nu(i, o.nu, o.c);
    o.frozen = p.e + stress_mu[i];
    o.stabiliser = stress_stiffness[i];
    o.rho = site[i].psi * site[i].rate * cs_exchange(o.c);
    if (site[i].rate <= 0.0) {
        o.rho = 0.0;
    }
    o.blocking = select(1.0, p.blocking, params.mobility == 1u);
    old[i] = o;
    iterate[i] = Iterate(o.c, o.nu, 0.0, p.dnu);
}

// This step's face conductances, flux weight times the mean site blocking of the two sides,
// and dt times them for the Schur complement's V-cycle.
@compute @workgroup_size(VOXELS)
fn face_conductance(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    for (var a = 0u; a < params.n.w; a = a + 1u) {
        let f = flux[a * params.len + i];
        var g = 0.0;
        if (f > 0.0) {
            g = f * 0.5 * (old[i].blocking + old[cs_up(i, a)].blocking);
        }
        conduct[a * params.len + i] = g;
        schur_g[a * params.len + i] = params.dt * g;
    }
}

// μ_j − μ_i of the iterate, as (mu0_j − mu0_i) + (δ_j − δ_i): the start values are fixed
// numbers, so their difference is exact wherever neighbours lie within a factor 2 and rounds
// at ε of itself elsewhere, and the increments are small. Formed from absolute μ the step would
// carry ε |μ| g of noise per face, which in a voxel that fast neighbours pass 1e4 times its
// capacity through per step is 1e-3 of its c.
fn cs_mu_step(i: u32, j: u32) -> f32 {
    return (old[j].mu0 - old[i].mu0) + (iterate[j].mu - iterate[i].mu);
}

// μ_e − μ_i of the iterate, likewise.
fn cs_overpotential(i: u32) -> f32 {
    return (status.mu_e - old[i].mu0) - iterate[i].mu;
}

// κ (A x)_i with the gradient weights, x the c block of a Newton vector or the iterate's c.
fn cs_gradient_of_c(i: u32) -> f32 {
    var s = 0.0;
    for (var a = 0u; a < params.n.w; a = a + 1u) {
        let down = cs_down(i, a);
        s = s + gradient[a * params.len + i] * (iterate[i].c - iterate[cs_up(i, a)].c)
            + gradient[a * params.len + down] * (iterate[i].c - iterate[down].c);
    }
    return params.kappa * s;
}

// Σ of the gradient weights around voxel i.
fn cs_gradient_sum(i: u32) -> f32 {
    var s = 0.0;
    for (var a = 0u; a < params.n.w; a = a + 1u) {
        s = s + gradient[a * params.len + i] + gradient[a * params.len + cs_down(i, a)];
    }
    return s;
}

var<workgroup> cs_red: array<vec4<f32>, VOXELS>;

// Folds cs_red into cs_red[0]: (max, max, sum, sum), every invocation of the workgroup taking
// part.
fn cs_tree(t: u32) {
    workgroupBarrier();
    for (var k = VOXELS / 2u; k > 0u; k = k / 2u) {
        if (t < k) {
            let a = cs_red[t];
            let b = cs_red[t + k];
            cs_red[t] = vec4<f32>(max(a.x, b.x), max(a.y, b.y), a.z + b.z, a.w + b.w);
        }
        workgroupBarrier();
    }
}

// Each workgroup's (max, max, sum, sum) of v into partials.
fn cs_partial(t: u32, wid: vec3<u32>, groups: vec3<u32>, v: vec4<f32>) {
    cs_red[t] = v;
    cs_tree(t);
    if (t == 0u) {
        partials[wid.x + wid.y * groups.x] = cs_red[0];
    }
}

// The partials folded in one workgroup (every invocation gets the result).
fn cs_fold(t: u32) -> vec4<f32> {
    var s = vec4<f32>(0.0);
    for (var k = t; k < arrayLength(&partials); k = k + VOXELS) {
        let b = partials[k];
        s = vec4<f32>(max(s.x, b.x), max(s.y, b.y), s.z + b.z, s.w + b.w);
    }
    cs_red[t] = s;
    cs_tree(t);
    return cs_red[0];
}

// μ of the start, ν + e + (κ/ψ)(A c), into mu0 (the iterate's increment 0), and Σ ρ into
// partials.
@compute @workgroup_size(VOXELS)
fn start_potential(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = cs_index(gid, groups);
    var rho = 0.0;
    if (i < params.len && site[i].only != OFF) {
        old[i].mu0 = iterate[i].nu + old[i].frozen + cs_gradient_of_c(i) / site[i].psi;
        iterate[i].mu = 0.0;
        rho = old[i].rho;
    }
    cs_partial(t, wid, groups, vec4<f32>(0.0, 0.0, rho, 0.0));
}

// Σ ρ, and μ_e to start from: the potentiostat's, or the galvanostat's last (re-referenced).
@compute @workgroup_size(VOXELS)
fn fold_start(@builtin(local_invocation_index) t: u32) {
    let s = cs_fold(t);
    if (t == 0u) {
        status.rho_sum = s.z;
        if (params.galvanostatic == 0u) {
            status.mu_e = params.mu_e;
        } else {
            status.mu_e = status.mu_e + params.shift;
        }
    }
}

// R1 = ψ (c − c⁰) + dt (K μ) − dt ρ (μ_e − μ) and R2 = ψ (μ − f − e) − κ (A c), negated into
// rhs, and per workgroup the largest of each over ψ beyond its round-off, Σ ρ (μ_e − μ) and
// Σ ρ μ (ConvexSplit::residuals). The round-off of the flux terms is bounded voxel by voxel
// by the magnitudes they sum.
@compute @workgroup_size(VOXELS)
fn residuals(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = cs_index(gid, groups);
    var out = vec4<f32>(0.0);
    if (i < params.len) {
        if (site[i].only == OFF) {
            rhs[i] = 0.0;
            rhs[params.len + i] = 0.0;
        } else {
            let it = iterate[i];
            let o = old[i];
            let p = site[i].psi;
            let dt = params.dt;
            var k_mu = 0.0;
            var k_abs = 0.0;
            for (var a = 0u; a < params.n.w; a = a + 1u) {
                let up = cs_up(i, a);
                let down = cs_down(i, a);
                let gu = conduct[a * params.len + i];
                let gd = conduct[a * params.len + down];
                let su = cs_mu_step(i, up);
                let sd = cs_mu_step(i, down);
                k_mu = k_mu - gu * su - gd * sd;
                k_abs = k_abs + gu * (abs(su) + abs(it.mu) + abs(iterate[up].mu))
                    + gd * (abs(sd) + abs(it.mu) + abs(iterate[down].mu));
            }
            let f = it.nu + o.stabiliser * (it.c - o.c);
            let eta = cs_overpotential(i);
            let mu = o.mu0 + it.mu;
            let r1 = p * (it.c - o.c) + dt * k_mu - dt * o.rho * eta;
            let r2 = p * ((o.mu0 - f) + it.mu - o.frozen) - cs_gradient_of_c(i);
            let eps = ROUND_OFF_MARGIN * EPSILON;
            // The flux terms round at ε of each face's flux and of the increments that form
            // it (cs_mu_step): what f32 resolves of μ is ε |δ|, not ε |μ|.
            let floor1 = eps * (it.c + o.c + dt * (k_abs + o.rho * (abs(eta) + abs(it.mu))) / p);
            // ν is the state here, known to its own round-off (the CPU's c f'(c) term, what c
            // resolves of f(c), does not arise).
            let floor2 = eps * (abs(mu) + abs(it.nu) + o.stabiliser * (it.c + o.c)
                + abs(o.frozen) + 2.0 * params.kappa * cs_gradient_sum(i) / p);
            rhs[i] = -r1;
            rhs[params.len + i] = -r2;
            out = vec4<f32>(abs(r1) / p - floor1, abs(r2) / p - floor2, o.rho * eta, 0.0);
        }
    }
    cs_partial(t, wid, groups, out);
}

// The residuals' maxima and the galvanostat's: its row of rhs, −dt (Σ ρ (μ_e − μ) − I).
@compute @workgroup_size(VOXELS)
fn fold_residuals(@builtin(local_invocation_index) t: u32) {
    let s = cs_fold(t);
    if (t != 0u) {
        return;
    }
    status.r1 = s.x;
    status.r2 = s.y;
    status.pull = s.z;
    status.rho_mu = s.w;
    if (params.galvanostatic == 1u) {
        let g = s.z - params.current;
        status.rg = abs(g) / max(status.rho_sum, 1e-37);
        rhs[2u * params.len] = -params.dt * g;
    } else {
        status.rg = 0.0;
        rhs[2u * params.len] = 0.0;
    }
}

// The V-cycles' diagonals: Ŝ = dt ρ + ψ²/(ψ f' + κ Σ gradient weights) and H's own ψ f'.
@compute @workgroup_size(VOXELS)
fn newton_blocks(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    if (site[i].only == OFF) {
        schur_diag[i] = 0.0;
        h_diag[i] = 0.0;
        return;
    }
    let p = site[i].psi;
    let df = iterate[i].dnu + old[i].stabiliser;
    let h = p * df + params.kappa * cs_gradient_sum(i);
    schur_diag[i] = params.dt * old[i].rho + p * p / h;
    h_diag[i] = p * df;
}

// The Newton system's operator on operand into product (ConvexSplit::solve's `apply`), and
// per workgroup Σ ρ v_μ for the electrode row.
@compute @workgroup_size(VOXELS)
fn apply_saddle(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = cs_index(gid, groups);
    let len = params.len;
    var pulled = 0.0;
    if (i < len) {
        if (site[i].only == OFF) {
            product[i] = operand[i];
            product[len + i] = operand[len + i];
        } else {
            let v1 = operand[i];
            let v2 = operand[len + i];
            var e = 0.0;
            if (params.galvanostatic == 1u) {
                e = operand[2u * len];
            }
            var kx = 0.0;
            var ax = 0.0;
            for (var a = 0u; a < params.n.w; a = a + 1u) {
                let up = cs_up(i, a);
                let down = cs_down(i, a);
                kx = kx + conduct[a * len + i] * (v1 - operand[up])
                    + conduct[a * len + down] * (v1 - operand[down]);
                ax = ax + gradient[a * len + i] * (v2 - operand[len + up])
                    + gradient[a * len + down] * (v2 - operand[len + down]);
            }
            let p = site[i].psi;
            let rho = old[i].rho;
            let df = iterate[i].dnu + old[i].stabiliser;
            product[i] = params.dt * (kx + rho * (v1 - e)) + p * v2;
            product[len + i] = p * v1 - p * df * v2 - params.kappa * ax;
            pulled = rho * v1;
        }
    }
    cs_partial(t, wid, groups, vec4<f32>(0.0, 0.0, pulled, 0.0));
}

// The electrode row: dt (Σ ρ (v_e − v_μ)) with a galvanostat, else the identity.
@compute @workgroup_size(VOXELS)
fn apply_node(@builtin(local_invocation_index) t: u32) {
    let s = cs_fold(t);
    if (t != 0u) {
        return;
    }
    let e = 2u * params.len;
    if (params.galvanostatic == 1u) {
        product[e] = params.dt * (-s.z + status.rho_sum * operand[e]);
    } else {
        product[e] = operand[e];
    }
}

// The preconditioner's input blocks for the two V-cycles.
@compute @workgroup_size(VOXELS)
fn precondition_split(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    if (i >= params.len) {
        return;
    }
    block_mu[i] = operand[i];
    block_c[i] = operand[params.len + i];
}

// The preconditioned vector: the V-cycles on the solid, the identity elsewhere (H's diagonal
// is 1 there), the electrode row over dt Σ ρ.
@compute @workgroup_size(VOXELS)
fn precondition_join(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    let len = params.len;
    if (i < len) {
        if (site[i].only == OFF) {
            product[i] = operand[i];
            product[len + i] = operand[len + i];
        } else {
            product[i] = z_mu[i];
            product[len + i] = z_c[i];
        }
    }
    if (i == 0u) {
        var node = 1.0;
        if (params.galvanostatic == 1u) {
            node = params.dt * status.rho_sum;
        }
        product[2u * len] = operand[2u * len] / node;
    }
}

// One Newton update from solution: μ += δμ, ν moved by ν' δc (at most MAX_POTENTIAL_STEP) and
// c = c(ν), ν' at the new c; μ_e += δμ_e (ConvexSplit::newton_step).
@compute @workgroup_size(VOXELS)
fn newton_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    let len = params.len;
    if (i == 0u && params.galvanostatic == 1u) {
        status.mu_e = status.mu_e + solution[2u * len];
    }
    if (i >= len || site[i].only == OFF) {
        return;
    }
    var it = iterate[i];
    let step = clamp(it.dnu * solution[len + i], -MAX_POTENTIAL_STEP, MAX_POTENTIAL_STEP);
    let p = cs_voxel_of_nu(i, it.nu + step, it.c);
    it.nu = it.nu + step;
    it.c = p.c;
    it.dnu = p.dnu;
    it.mu = it.mu + solution[i];
    iterate[i] = it;
}

// The galvanostat exactly at the converged μ: μ_e moved by (I − Σ ρ (μ_e − μ))/Σ ρ. The sum of
// the overpotentials, each a difference of nearby potentials and exact in f32, keeps the digits
// that (I + Σ ρ μ)/Σ ρ would lose to μ's magnitude (μ_e − μ is 1e-3 of μ in the anodes).
@compute @workgroup_size(1)
fn settle_galvanostat() {
    if (params.galvanostatic == 1u) {
        status.mu_e = status.mu_e + (params.current - status.pull) / status.rho_sum;
    }
}

// (s, e) with s + e = a + b exactly (Knuth's TwoSum).
fn cs_two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = a + b;
    let bb = s - a;
    return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

// The new c from the face fluxes, c⁰ + dt (−K μ + ρ (μ_e − μ))/ψ, into c_new (`commit` makes it
// the state); where round-off puts a nearly empty or full voxel's flux-formed c past its bound,
// Newton's c (ConvexSplit::step), and the ions that adds are counted. Per workgroup: max |Δc|,
// any non-finite c, Σ ψ Δc, Σ ψ |Newton's c − the fluxes'| where Newton's is taken.
//
// A voxel's faces carry the ions that pass through it, which can be a hundred times those it
// keeps; summed in f32 their round-off (ε Σ|F| per voxel) would add up over the cell to 1e-4 of
// the ions a step inserts. So each face flux g (μ_i − μ_j) (its difference exact: neighbouring
// potentials are within a factor 2) is summed with its product's rounding error (an FMA) in
// two floats, and only the net, a small number, is rounded: each voxel's Δc then carries
// ε |Δc|, and its c the one rounding of c⁰ + Δc.
@compute @workgroup_size(VOXELS)
fn flux_form(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = cs_index(gid, groups);
    var out = vec4<f32>(0.0);
    if (i < params.len && site[i].only != OFF) {
        let it = iterate[i];
        let o = old[i];
        // −K μ + ρ (μ_e − μ) as hi + lo.
        let eta = cs_overpotential(i);
        let inflow = o.rho * eta;
        var hi = inflow;
        var lo = fma(o.rho, eta, -inflow);
        for (var a = 0u; a < params.n.w; a = a + 1u) {
            let up = cs_up(i, a);
            let down = cs_down(i, a);
            let gu = conduct[a * params.len + i];
            let gd = conduct[a * params.len + down];
            let du = cs_mu_step(i, up);
            let dd = cs_mu_step(i, down);
            let fu = gu * du;
            let fd = gd * dd;
            let su = cs_two_sum(hi, fu);
            let sd = cs_two_sum(su.x, fd);
            hi = sd.x;
            lo = lo + su.y + sd.y + fma(gu, du, -fu) + fma(gd, dd, -fd);
        }
        let p = site[i].psi;
        var c = o.c + params.dt * (hi + lo) / p;
        var unbalanced = 0.0;
        if (!(c > 0.0 && c < 1.0)) {
            unbalanced = p * abs(it.c - c);
            c = it.c;
        }
        let finite = c == c && abs(c) <= 3.4e38;
        out = vec4<f32>(abs(c - o.c), select(1.0, 0.0, finite), p * (c - o.c), unbalanced);
        c_new[i] = c;
    }
    cs_partial(t, wid, groups, out);
}

// The flux-formed c becomes the state, with Newton's ν.
@compute @workgroup_size(VOXELS)
fn commit(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    if (i < params.len && site[i].only != OFF) {
        old[i].c = c_new[i];
        old[i].nu = iterate[i].nu;
        c_field[i] = c_new[i];
    }
}

// The committed step's Σ ψ Δc, max |Δc| and non-finite count.
@compute @workgroup_size(VOXELS)
fn fold_commit(@builtin(local_invocation_index) t: u32) {
    let s = cs_fold(t);
    if (t == 0u) {
        status.max_dc = s.x;
        status.non_finite = s.y;
        status.ions = s.z;
        status.unbalanced = s.w;
    }
}

@group(0) @binding(24) var<storage, read_write> mu_field: array<f32>;

// μ of the step's discrete energy at the committed state, ν + e + (κ/ψ)(A c) + the stress term
// (ConvexSplit::potential), into mu_field on the solid.
@compute @workgroup_size(VOXELS)
fn potential_field(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = cs_index(gid, groups);
    if (i >= params.len || site[i].only == OFF) {
        return;
    }
    let o = old[i];
    let p = cs_voxel_of_nu(i, o.nu, o.c);
    var s = 0.0;
    for (var a = 0u; a < params.n.w; a = a + 1u) {
        let down = cs_down(i, a);
        s = s + gradient[a * params.len + i] * (o.c - old[cs_up(i, a)].c)
            + gradient[a * params.len + down] * (o.c - old[down].c);
    }
    mu_field[i] = (p.nu + p.e + params.kappa * s / site[i].psi + stress_mu[i]) + params.reference;
}

// Per workgroup Σ over each voxel's upward faces of ψ_f (c_i − c_j)²/Δx² (the gradient energy
// over κ/2 ΔV, ConvexSplit::gradient_energy).
@compute @workgroup_size(VOXELS)
fn gradient_energy(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = cs_index(gid, groups);
    var s = 0.0;
    if (i < params.len) {
        for (var a = 0u; a < params.n.w; a = a + 1u) {
            let d = old[i].c - old[cs_up(i, a)].c;
            s = s + gradient[a * params.len + i] * d * d;
        }
    }
    cs_partial(t, wid, groups, vec4<f32>(0.0, 0.0, s, 0.0));
}

// The gradient energy's sum into status.
@compute @workgroup_size(VOXELS)
fn fold_gradient_energy(@builtin(local_invocation_index) t: u32) {
    let s = cs_fold(t);
    if (t == 0u) {
        status.gradient = s.z;
    }
}
