//! The microstructure generator (model.md §2): Σ_m φ_m = 1 everywhere, reproducible from a
//! seed, shapes where they were asked for, and segmented images mapped to materials.

mod common;

use swellfield::config;
use swellfield::problem::Problem;

const BASE: &str = r#"
[grid]
n = [128, 128]
length_nm = [256.0, 256.0]

[materials.sn]
diffusivity_cm2_s = 1e-15
site_density_mol_m3 = 2.3e5
u0_v = 0.3
omega_ev = 0.1

[materials.hc]
diffusivity_cm2_s = 1e-10
site_density_mol_m3 = 1.8e4
u0_v = 0.3
omega_ev = -0.3

[materials.p2]
diffusivity_cm2_s = 1e-10
site_density_mol_m3 = 2.8e4
u0_v = 3.3
omega_ev = 0.0

[materials.electrolyte]
electrolyte = true

[cahn_hilliard]
kappa_j_m = 1e-10

[initial]
kind = "uniform"
c0 = 0.1

[time]
end = 1.0
dt_max = 0.1
"#;

fn build(micro: &str, dir: &std::path::Path) -> Problem {
    let path = dir.join("m.toml");
    std::fs::write(&path, format!("{BASE}\n{micro}")).unwrap();
    let loaded = config::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    loaded.problem(false).unwrap_or_else(|e| panic!("{e}"))
}

fn index(p: &Problem, name: &str) -> usize {
    p.material_names().iter().position(|n| *n == name).unwrap()
}

const SHAPES: &str = r#"
[microstructure]
matrix = "electrolyte"
seed = 3

[[microstructure.shapes]]
kind = "particles"
material = "hc"
radius_nm = 40.0
count = 2
min_gap_nm = 10.0

[[microstructure.shapes]]
kind = "particles"
material = "sn"
radius_nm = 6.0
volume_fraction = 0.03
placement = "embedded"
host = "hc"

[[microstructure.shapes]]
kind = "sphere"
material = "p2"
center_nm = [30.0, 30.0]
radius_nm = 20.0
layers = [{ material = "hc", thickness_nm = 6.0 }]
pores = { material = "electrolyte", radius_nm = 3.0, volume_fraction = 0.2 }
c_axis = [0.0, 1.0, 0.0]

[[microstructure.shapes]]
kind = "lamellae"
material = "sn"
host = "p2"
thickness_nm = 2.0
period_nm = 8.0
"#;

/// Every voxel's fractions sum to one and lie in [0, 1], whatever the shapes.
#[test]
fn fractions_sum_to_one_everywhere() {
    let dir = common::temp_dir();
    let p = build(SHAPES, dir.path());
    let phi = &p.microstructure.as_ref().unwrap().phi;
    for i in 0..p.grid.len() {
        let s: f64 = phi.iter().map(|f| f[i]).sum();
        assert!((s - 1.0).abs() < 1e-12, "voxel {i}: sum {s}");
        assert!(phi.iter().all(|f| (0.0..=1.0).contains(&f[i])));
    }
}

/// The same seed gives the same microstructure; another seed another one.
#[test]
fn reproducible_from_the_seed() {
    let dir = common::temp_dir();
    let a = build(SHAPES, dir.path()).microstructure.unwrap().labels;
    let b = build(SHAPES, dir.path()).microstructure.unwrap().labels;
    let c = build(&SHAPES.replace("seed = 3", "seed = 4"), dir.path())
        .microstructure
        .unwrap()
        .labels;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// Shapes land where asked: embedded Sn only inside HC, the core–shell's layers in order,
/// the lamellae a quarter of their host, the particle fraction near its target.
#[test]
fn shapes_land_where_asked() {
    let dir = common::temp_dir();
    let p = build(SHAPES, dir.path());
    let m = p.microstructure.as_ref().unwrap();
    let (sn, hc, p2, el) = (
        index(&p, "sn"),
        index(&p, "hc"),
        index(&p, "p2"),
        index(&p, "electrolyte"),
    );
    let label =
        |x: f64, y: f64| m.labels[p.grid.index((x / 2.0) as usize, (y / 2.0) as usize, 0)] as usize;
    // Core–shell at (30, 30): p2 (with lamellae of sn, and pores) inside 20 nm, hc from 20 to 26 nm.
    assert_eq!(label(30.0 + 23.0, 30.0), hc);
    assert!([p2, sn, el].contains(&label(30.0 + 10.0, 30.0)));
    // The lamellae take thickness/period of the host's volume, less what pores took.
    let count = |k: usize| m.labels.iter().filter(|&&l| l as usize == k).count() as f64;
    let core_voxels = std::f64::consts::PI * 10.0 * 10.0;
    let lamella_share = m
        .labels
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            let (x, y) = ((i % 128) as f64 * 2.0 + 1.0, (i / 128) as f64 * 2.0 + 1.0);
            **l as usize == sn && ((x - 30.0).powi(2) + (y - 30.0).powi(2)).sqrt() < 20.0
        })
        .count() as f64
        / core_voxels;
    assert!(
        (0.12..0.38).contains(&lamella_share),
        "lamellae take {lamella_share} of the core"
    );
    // Embedded Sn never touches the electrolyte in the sharp map.
    for (i, &l) in m.labels.iter().enumerate() {
        if l as usize != sn {
            continue;
        }
        let (x, y) = (i % 128, i / 128);
        let inside_core =
            ((x as f64 * 2.0 + 1.0 - 30.0).powi(2) + (y as f64 * 2.0 + 1.0 - 30.0).powi(2)).sqrt()
                < 20.0;
        if inside_core {
            continue; // lamellae
        }
        for (dx, dy) in [(1, 0), (127, 0), (0, 1), (0, 127)] {
            let j = ((y + dy) % 128) * 128 + (x + dx) % 128;
            assert_ne!(
                m.labels[j] as usize, el,
                "embedded Sn at voxel {i} touches the electrolyte"
            );
        }
    }
    assert!(count(sn) > 0.0 && count(hc) > 0.0);
}

/// A segmented PNG maps its grey values to materials; rows run top-down, y up.
#[test]
fn segmented_image_maps_labels() {
    let dir = common::temp_dir();
    let mut img = image::GrayImage::new(128, 128);
    for (x, y, px) in img.enumerate_pixels_mut() {
        px.0[0] = if x < 64 {
            0
        } else if y < 32 {
            255
        } else {
            128
        };
    }
    img.save(dir.path().join("labels.png")).unwrap();
    let p = build(
        r#"
[microstructure]
matrix = "electrolyte"
smoothing_voxels = 0.0
image = { files = ["labels.png"], labels = { "0" = "electrolyte", "64" = "p2", "128" = "hc", "255" = "sn" } }
"#,
        dir.path(),
    );
    let m = p.microstructure.as_ref().unwrap();
    let at = |x: usize, y: usize| p.material_names()[m.labels[p.grid.index(x, y, 0)] as usize];
    assert_eq!(at(10, 10), "electrolyte");
    assert_eq!(at(100, 127), "sn", "image row 0 is the top, y = 127");
    assert_eq!(at(100, 10), "hc");
}
