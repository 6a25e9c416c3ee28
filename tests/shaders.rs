//! Host-only shader checks (no adapter needed): every assembled WGSL module parses and
//! validates through naga, and each `Params` struct matches its Rust twin byte for byte.

use std::mem::{offset_of, size_of};

use naga::valid::{Capabilities, ValidationFlags, Validator};
use swellfield::backend::gpu::{fft::FftParams, shaders};

fn module(name: &str, src: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    Validator::new(ValidationFlags::all(), Capabilities::empty())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    module
}

/// Every family validates in f32 without extra capabilities (so it runs on any adapter).
#[test]
fn every_shader_family_validates() {
    for (name, src) in shaders::ALL {
        module(name, src);
    }
}

/// `FftParams` in fft.wgsl and in src/backend/gpu/fft.rs: same size, same member offsets.
#[test]
fn fft_params_layout_matches_rust() {
    let m = module("fft", shaders::FFT);
    let (_, ty) = m
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("FftParams"))
        .expect("struct FftParams");
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("FftParams is a struct")
    };
    assert_eq!(*span as usize, size_of::<FftParams>());
    let rust = [
        ("nx", offset_of!(FftParams, nx)),
        ("ny", offset_of!(FftParams, ny)),
        ("nz", offset_of!(FftParams, nz)),
        ("axis", offset_of!(FftParams, axis)),
        ("len", offset_of!(FftParams, len)),
        ("stride", offset_of!(FftParams, stride)),
        ("lines", offset_of!(FftParams, lines)),
        ("groups_x", offset_of!(FftParams, groups_x)),
        ("sign", offset_of!(FftParams, sign)),
        ("scale", offset_of!(FftParams, scale)),
        ("table_len", offset_of!(FftParams, table_len)),
        ("sub_lines", offset_of!(FftParams, sub_lines)),
        ("sub_stride", offset_of!(FftParams, sub_stride)),
        ("elem_stride", offset_of!(FftParams, elem_stride)),
        ("post_twiddle", offset_of!(FftParams, post_twiddle)),
        ("full_len", offset_of!(FftParams, full_len)),
        ("batch", offset_of!(FftParams, batch)),
        ("pad3", offset_of!(FftParams, pad3)),
        ("pad4", offset_of!(FftParams, pad4)),
    ];
    assert_eq!(members.len(), rust.len());
    for (m, (name, off)) in members.iter().zip(rust) {
        assert_eq!(m.name.as_deref(), Some(name));
        assert_eq!(m.offset as usize, off, "{name}");
    }
}

/// Checks one uniform struct of an assembled module against its Rust twin: same size, same
/// member names in order, same offsets.
fn layout_matches(module_name: &str, src: &str, name: &str, size: usize, rust: &[(&str, usize)]) {
    let m = module(module_name, src);
    let (_, ty) = m
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("{module_name}: struct {name}"));
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is a struct")
    };
    assert_eq!(*span as usize, size, "{module_name}: size of {name}");
    assert_eq!(
        members.len(),
        rust.len(),
        "{module_name}: members of {name}"
    );
    for (m, (member, off)) in members.iter().zip(rust) {
        assert_eq!(m.name.as_deref(), Some(*member), "{name}");
        assert_eq!(m.offset as usize, *off, "{name}.{member}");
    }
}

/// `Params` and `AxisParams` of the one-host step (cahn_hilliard.wgsl) against params.rs.
#[test]
fn cahn_hilliard_params_layout_matches_rust() {
    use swellfield::backend::gpu::params::{AxisParams, Params};
    macro_rules! offsets {
        ($t:ty: $($f:ident),*) => { [$((stringify!($f), offset_of!($t, $f))),*] };
    }
    layout_matches(
        "cahn_hilliard",
        shaders::CAHN_HILLIARD,
        "Params",
        size_of::<Params>(),
        &offsets!(Params: nx, ny, nz, count, hx, hy, hz, dt, kappa, stab, s, mobility_kind,
            fe_kind, segments, partials, pad0, rho, well_a, well_b, pad1, seg),
    );
    layout_matches(
        "cahn_hilliard",
        shaders::CAHN_HILLIARD,
        "AxisParams",
        size_of::<AxisParams>(),
        &offsets!(AxisParams: axis, first, pad0, pad1),
    );
}

/// `Params` and `Op` of the multi-material families (system.wgsl) against `SystemParams` and
/// `Op` in params.rs.
#[test]
fn system_params_layout_matches_rust() {
    use swellfield::backend::gpu::params::{Op, SystemParams};
    macro_rules! offsets {
        ($t:ty: $($f:ident),*) => { [$((stringify!($f), offset_of!($t, $f))),*] };
    }
    layout_matches(
        "system",
        shaders::SYSTEM,
        "Params",
        size_of::<SystemParams>(),
        &offsets!(SystemParams: nx, ny, nz, count, hx, hy, hz, dt, kappa, stab, s, psi_floor,
            mobility_kind, components, materials, anisotropic, dim, free_mask,
            spectral_mask, voxel_volume, overstress, electrolyte, pad0, pad1),
    );
    layout_matches(
        "system",
        shaders::SYSTEM,
        "Op",
        size_of::<Op>(),
        &offsets!(Op: index, a, b, dst, frozen, n, parts, flag, f, g, pad0, pad1),
    );
}

/// Checks a typed family (architecture.md §3): each entry point's declared binding list names,
/// in order, exactly the globals that naga finds it uses, at their binding numbers and with
/// their access, and every voxel-parallel entry point's workgroup is `typed::VOXELS`.
fn typed_family_matches(name: &str, src: &str, entries: &[(&str, &[typed::Binding])]) {
    let m = naga::front::wgsl::parse_str(src).unwrap();
    let info = Validator::new(ValidationFlags::all(), Capabilities::empty())
        .validate(&m)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    assert_eq!(
        m.entry_points.len(),
        entries.len(),
        "{name}: every entry point is declared in Rust"
    );
    for (k, ep) in m.entry_points.iter().enumerate() {
        let (_, declared) = entries
            .iter()
            .find(|(e, _)| *e == ep.name)
            .unwrap_or_else(|| panic!("{name}: {} has no Rust declaration", ep.name));
        let used = info.get_entry_point(k);
        let mut found: Vec<(String, u32, typed::Access)> = m
            .global_variables
            .iter()
            .filter(|(h, g)| g.binding.is_some() && !used[*h].is_empty())
            .map(|(_, g)| {
                let access = match g.space {
                    naga::AddressSpace::Uniform => typed::Access::Uniform,
                    naga::AddressSpace::Storage { access } => {
                        if access.contains(naga::StorageAccess::STORE) {
                            typed::Access::ReadWrite
                        } else {
                            typed::Access::Read
                        }
                    }
                    other => panic!("{name}: binding in {other:?}"),
                };
                let b = g.binding.as_ref().unwrap();
                assert_eq!(b.group, 0, "{name}: one bind group");
                (g.name.clone().unwrap(), b.binding, access)
            })
            .collect();
        found.sort_by_key(|f| f.1);
        let rust: Vec<(String, u32, typed::Access)> = declared
            .iter()
            .map(|b| (b.name.to_string(), b.binding, b.access))
            .collect();
        assert_eq!(rust, found, "{name}: bindings of {}", ep.name);
        let size = ep.workgroup_size;
        assert!(
            size == [typed::VOXELS, 1, 1] || size[0] <= 64 && size[1] == 1,
            "{name}: {} workgroup {size:?}",
            ep.name
        );
    }
}

use swellfield::backend::gpu::typed;

#[test]
fn multigrid_family_matches_its_rust_declarations() {
    use swellfield::backend::gpu::multigrid::{ENTRY_POINTS, LevelParams};
    typed_family_matches("multigrid", shaders::MULTIGRID, &ENTRY_POINTS);
    layout_matches(
        "multigrid",
        shaders::MULTIGRID,
        "Level",
        size_of::<LevelParams>(),
        &[
            ("n", offset_of!(LevelParams, n)),
            ("factor", offset_of!(LevelParams, factor)),
            ("coarse", offset_of!(LevelParams, coarse)),
        ],
    );
}

#[test]
fn minres_family_matches_its_rust_declarations() {
    use swellfield::backend::gpu::minres::{ENTRY_POINTS, GpuMinresState};
    typed_family_matches("minres", shaders::MINRES, &ENTRY_POINTS);
    macro_rules! offsets {
        ($t:ty: $($f:ident),*) => { [$((stringify!($f), offset_of!($t, $f))),*] };
    }
    layout_matches(
        "minres",
        shaders::MINRES,
        "MinresState",
        size_of::<GpuMinresState>(),
        &offsets!(GpuMinresState: tolerance, beta1, beta, oldb, alpha, dbar, epsln, oldeps,
            delta, phi, phibar, cs, sn, denom, iterations, done),
    );
}

#[test]
fn convex_split_family_matches_its_rust_declarations() {
    use swellfield::backend::gpu::convex_split::{
        ConvexParams, ENTRY_POINTS, HostParams, Iterate, Old, Site, Status,
    };
    typed_family_matches("convex_split", shaders::CONVEX_SPLIT, &ENTRY_POINTS);
    macro_rules! offsets {
        ($t:ty: $($f:ident),*) => { [$((stringify!($f), offset_of!($t, $f))),*] };
    }
    let src = shaders::CONVEX_SPLIT;
    layout_matches(
        "convex_split",
        src,
        "ConvexParams",
        size_of::<ConvexParams>(),
        &offsets!(ConvexParams: n, len, components, mobility, exchange, kappa, dt,
            galvanostatic, current, mu_e, reference, shift, pad0),
    );
    layout_matches(
        "convex_split",
        src,
        "Host",
        size_of::<HostParams>(),
        &[
            ("segments", offset_of!(HostParams, segments)),
            ("pad0", offset_of!(HostParams, pad)),
            ("pad1", offset_of!(HostParams, pad) + 4),
            ("pad2", offset_of!(HostParams, pad) + 8),
            ("seg", offset_of!(HostParams, seg)),
        ],
    );
    layout_matches(
        "convex_split",
        src,
        "Site",
        size_of::<Site>(),
        &offsets!(Site: psi, rate, hosts, only),
    );
    layout_matches(
        "convex_split",
        src,
        "Old",
        size_of::<Old>(),
        &offsets!(Old: c, nu, frozen, rho, stabiliser, blocking, mu0, pad0),
    );
    layout_matches(
        "convex_split",
        src,
        "Iterate",
        size_of::<Iterate>(),
        &offsets!(Iterate: c, nu, mu, dnu),
    );
    layout_matches(
        "convex_split",
        src,
        "Status",
        size_of::<Status>(),
        &offsets!(Status: mu_e, r1, r2, rg, rho_sum, pull, rho_mu, ions, max_dc, non_finite,
            gradient, unbalanced),
    );
}
