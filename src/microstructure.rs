//! φ_m(x): where each material sits (model.md §2), built from `[microstructure]`.
//!
//! Shapes are painted in order on a sharp label map at voxel centres (later shapes over
//! earlier ones), each voxel also carrying its grain's crystal c-axis; then each material's
//! indicator is smoothed by a Gaussian (in Fourier space), which keeps Σ_m φ_m = 1 and
//! 0 ≤ φ_m ≤ 1 because the kernel is positive and sums to one. Random placements come from the
//! config's seed, so a microstructure is reproducible. A segmented PNG may replace the shapes.

use std::f64::consts::PI;
use std::path::Path;

use rustfft::num_complex::Complex64;

use crate::backend::cpu::fft::Fft;
use crate::config::{
    AxisConfig, Config, LayerConfig, MicrostructureConfig, Placement, PoresConfig, ShapeConfig,
};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::initial::SplitMix64;

/// Random placements give up after this many tries per particle wanted.
const TRIES_PER_PARTICLE: u64 = 5000;

/// The built microstructure, on the grid, materials in config (alphabetical) order.
#[derive(Debug, Clone)]
pub struct Microstructure {
    /// φ_m per material.
    pub phi: Vec<Vec<f64>>,
    /// The sharp map before smoothing (material index per voxel).
    pub labels: Vec<u16>,
    /// Unit c-axis per voxel.
    pub axis: Vec<[f64; 3]>,
}

/// Builds the microstructure of `config` (or of its `[pristine]` twin). `h_nm` is the voxel
/// edge in nm; `config_dir` resolves image paths.
pub fn build(
    config: &Config,
    grid: &Grid,
    h_nm: [f64; 3],
    pristine: bool,
    config_dir: &Path,
) -> Result<Microstructure> {
    let names: Vec<&String> = config.materials.keys().collect();
    let index = |name: &str| names.iter().position(|n| *n == name).map(|i| i as u16);
    let Some(ms) = &config.microstructure else {
        // One material with sites fills the cell (validated).
        let i = config
            .materials
            .iter()
            .position(|(_, m)| m.has_sites())
            .unwrap_or(0) as u16;
        let labels = vec![i; grid.len()];
        return Ok(finish(
            labels,
            vec![[0.0, 0.0, 1.0]; grid.len()],
            names.len(),
            grid,
            0.0,
        ));
    };
    let mut ms: MicrostructureConfig = ms.clone();
    let mut replace = std::collections::BTreeMap::new();
    if pristine && let Some(p) = &config.pristine {
        if let Some(shapes) = &p.shapes {
            ms.shapes = shapes.clone();
        }
        if let Some(m) = &p.matrix {
            ms.matrix = m.clone();
        }
        replace = p.replace.clone();
    }
    let resolve = |name: &str| -> Result<u16> {
        let name = replace.get(name).map_or(name, String::as_str);
        index(name).ok_or_else(|| {
            Error::invalid(
                "microstructure",
                name,
                "names a material that is not defined",
                "define it under [materials]",
            )
        })
    };
    let default_axis = normalise(ms.c_axis);
    let mut painter = Painter {
        grid,
        h: h_nm,
        labels: vec![resolve(&ms.matrix)?; grid.len()],
        axis: vec![default_axis; grid.len()],
        rng: SplitMix64(ms.seed.wrapping_mul(0x9E37_79B9).wrapping_add(17)),
    };
    if let Some(img) = &ms.image {
        painter.paint_image(img, config_dir, &resolve)?;
    }
    for (i, shape) in ms.shapes.iter().enumerate() {
        let at = format!("microstructure.shapes[{i}]");
        painter.paint_shape(shape, &resolve, &at)?;
    }
    Ok(finish(
        painter.labels,
        painter.axis,
        names.len(),
        grid,
        ms.smoothing_voxels,
    ))
}

fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if n > 0.0 {
        v.map(|x| x / n)
    } else {
        [0.0, 0.0, 1.0]
    }
}

/// Smooths each material's indicator into φ_m.
fn finish(
    labels: Vec<u16>,
    axis: Vec<[f64; 3]>,
    count: usize,
    grid: &Grid,
    sigma: f64,
) -> Microstructure {
    let n = grid.len();
    let mut phi: Vec<Vec<f64>> = (0..count)
        .map(|m| {
            labels
                .iter()
                .map(|&l| if l as usize == m { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    if sigma > 0.0 {
        let mut fft = Fft::new(grid.n);
        let spectrum = fft.spectrum;
        let mut spec = vec![Complex64::default(); spectrum.len()];
        // Wavenumbers in voxel units, so σ is in voxels on every axis.
        let kv = |a: usize, i: usize| {
            let na = grid.n[a];
            let m = if i <= na / 2 {
                i as f64
            } else {
                i as f64 - na as f64
            };
            2.0 * PI * m / na as f64
        };
        for field in phi.iter_mut() {
            if field.iter().all(|&v| v == 0.0) {
                continue;
            }
            fft.forward(field, &mut spec);
            for kx in 0..spectrum.nxh {
                for ky in 0..grid.n[1] {
                    for kz in 0..grid.n[2] {
                        let k2 = kv(0, kx).powi(2) + kv(1, ky).powi(2) + kv(2, kz).powi(2);
                        spec[spectrum.index(kx, ky, kz)] *= (-0.5 * sigma * sigma * k2).exp();
                    }
                }
            }
            fft.inverse(&mut spec, field);
        }
        // Round-off can leave -1e-17 or 1 + 1e-16: clamp, then make the sum exactly one.
        for i in 0..n {
            let mut sum = 0.0;
            for f in phi.iter_mut() {
                f[i] = f[i].clamp(0.0, 1.0);
                sum += f[i];
            }
            for f in phi.iter_mut() {
                f[i] /= sum;
            }
        }
    }
    Microstructure { phi, labels, axis }
}

struct Painter<'a> {
    grid: &'a Grid,
    h: [f64; 3],
    labels: Vec<u16>,
    axis: Vec<[f64; 3]>,
    rng: SplitMix64,
}

/// One painted particle: centre (nm), core radius, outer radius.
#[derive(Clone, Copy)]
struct Placed {
    center: [f64; 3],
    outer: f64,
}

impl Painter<'_> {
    fn box_nm(&self) -> [f64; 3] {
        [0, 1, 2].map(|a| self.grid.n[a] as f64 * self.h[a])
    }

    fn dim(&self) -> usize {
        self.grid.dim()
    }

    /// Voxel centre in nm.
    fn position(&self, x: usize, y: usize, z: usize) -> [f64; 3] {
        [
            (x as f64 + 0.5) * self.h[0],
            (y as f64 + 0.5) * self.h[1],
            (z as f64 + 0.5) * self.h[2],
        ]
    }

    /// Minimum-image displacement from `c` to `p` (z ignored in 2-D).
    fn delta(&self, p: [f64; 3], c: [f64; 3]) -> [f64; 3] {
        let l = self.box_nm();
        let mut d = [0.0; 3];
        for a in 0..self.dim() {
            let mut v = p[a] - c[a];
            v -= l[a] * (v / l[a]).round();
            d[a] = v;
        }
        d
    }

    fn voxel_of(&self, p: [f64; 3]) -> usize {
        let l = self.box_nm();
        let ix = |a: usize| {
            let v = p[a].rem_euclid(l[a]) / self.h[a];
            (v.floor() as usize).min(self.grid.n[a] - 1)
        };
        let z = if self.dim() == 2 { 0 } else { ix(2) };
        self.grid.index(ix(0), ix(1), z)
    }

    fn random_unit(&mut self) -> [f64; 3] {
        loop {
            let v = [0, 1, 2].map(|_| 2.0 * self.rng.next_f64() - 1.0);
            let v = if self.dim() == 2 {
                [v[0], v[1], 0.0]
            } else {
                v
            };
            let n2: f64 = v.iter().map(|x| x * x).sum();
            if n2 > 1e-4 && n2 <= 1.0 {
                return v.map(|x| x / n2.sqrt());
            }
        }
    }

    fn random_point(&mut self) -> [f64; 3] {
        let l = self.box_nm();
        let p = [0, 1, 2].map(|a| self.rng.next_f64() * l[a]);
        if self.dim() == 2 {
            [p[0], p[1], 0.5 * self.h[2]]
        } else {
            p
        }
    }

    /// Volume (area in 2-D) of a ball of radius r.
    fn ball(&self, r: f64) -> f64 {
        if self.dim() == 2 {
            PI * r * r
        } else {
            4.0 / 3.0 * PI * r.powi(3)
        }
    }

    fn cell_volume(&self) -> f64 {
        let l = self.box_nm();
        l[..self.dim()].iter().product()
    }

    /// Visits every voxel within `radius` of `center` with its displacement and distance.
    fn for_ball(&self, center: [f64; 3], radius: f64, mut f: impl FnMut(usize, [f64; 3], f64)) {
        let mut lo = [0i64; 3];
        let mut hi = [0i64; 3];
        for a in 0..3 {
            if a < self.dim() {
                let span = (radius / self.h[a]).ceil() as i64 + 1;
                let c = (center[a] / self.h[a]).floor() as i64;
                lo[a] = c - span;
                hi[a] = c + span;
                if hi[a] - lo[a] + 1 > self.grid.n[a] as i64 {
                    lo[a] = 0;
                    hi[a] = self.grid.n[a] as i64 - 1;
                }
            }
        }
        for z in lo[2]..=hi[2] {
            for y in lo[1]..=hi[1] {
                for x in lo[0]..=hi[0] {
                    let w = |v: i64, a: usize| v.rem_euclid(self.grid.n[a] as i64) as usize;
                    let (xi, yi, zi) = (w(x, 0), w(y, 1), w(z, 2));
                    let d = self.delta(self.position(xi, yi, zi), center);
                    let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                    if r < radius {
                        f(self.grid.index(xi, yi, zi), d, r);
                    }
                }
            }
        }
    }

    fn axis_of(&mut self, cfg: &Option<AxisConfig>, grain: [f64; 3]) -> AxisRule {
        match cfg {
            Some(AxisConfig::Vector(v)) => AxisRule::Fixed(normalise(*v)),
            Some(AxisConfig::Named(n)) if n == "radial" => AxisRule::Radial,
            Some(AxisConfig::Named(_)) => AxisRule::Fixed(self.random_unit()),
            None => AxisRule::Fixed(grain),
        }
    }

    /// Paints a particle (core, shells, pores) at `center`.
    fn paint_particle(
        &mut self,
        center: [f64; 3],
        radius: f64,
        core: u16,
        layers: &[(u16, f64, Option<AxisConfig>)],
        pores: Option<(u16, &PoresConfig)>,
        axis: &Option<AxisConfig>,
    ) {
        let grain_default = self.axis[self.voxel_of(center)];
        let core_rule = self.axis_of(axis, grain_default);
        let core_axis = match core_rule {
            AxisRule::Fixed(v) => v,
            AxisRule::Radial => grain_default,
        };
        let mut shells = Vec::new();
        let mut r_out = radius;
        for (m, t, a) in layers {
            let rule = match a {
                Some(_) => self.axis_of(a, core_axis),
                None => core_rule,
            };
            shells.push((*m, r_out, r_out + t, rule));
            r_out += t;
        }
        let mut paint: Vec<(usize, u16, [f64; 3])> = Vec::new();
        self.for_ball(center, r_out, |i, d, r| {
            let (m, rule) = if r < radius {
                (core, core_rule)
            } else {
                let s = shells
                    .iter()
                    .find(|s| r >= s.1 && r < s.2)
                    .copied()
                    .unwrap_or(shells[shells.len() - 1]);
                (s.0, s.3)
            };
            let ax = match rule {
                AxisRule::Fixed(v) => v,
                AxisRule::Radial => {
                    if r > 0.0 {
                        d.map(|v| v / r)
                    } else {
                        [0.0, 0.0, 1.0]
                    }
                }
            };
            paint.push((i, m, ax));
        });
        for (i, m, ax) in paint {
            self.labels[i] = m;
            self.axis[i] = ax;
        }
        if let Some((pm, pc)) = pores {
            let wanted = pc.volume_fraction * self.ball(radius);
            let each = self.ball(pc.radius_nm);
            let count = (wanted / each).round().max(1.0) as usize;
            let room = radius - pc.radius_nm;
            if room > 0.0 {
                for _ in 0..count {
                    // A uniform point in the ball of radius `room` around the centre.
                    let p = loop {
                        let v = [0, 1, 2].map(|_| (2.0 * self.rng.next_f64() - 1.0) * room);
                        let v = if self.dim() == 2 {
                            [v[0], v[1], 0.0]
                        } else {
                            v
                        };
                        if v.iter().map(|x| x * x).sum::<f64>() <= room * room {
                            break [center[0] + v[0], center[1] + v[1], center[2] + v[2]];
                        }
                    };
                    let mut hits = Vec::new();
                    self.for_ball(p, pc.radius_nm, |i, _, _| hits.push(i));
                    for i in hits {
                        if self.labels[i] == core {
                            self.labels[i] = pm;
                        }
                    }
                }
            }
        }
    }

    fn layers(
        &self,
        layers: &[LayerConfig],
        resolve: &dyn Fn(&str) -> Result<u16>,
    ) -> Result<Vec<(u16, f64, Option<AxisConfig>)>> {
        layers
            .iter()
            .map(|l| Ok((resolve(&l.material)?, l.thickness_nm, l.c_axis.clone())))
            .collect()
    }

    /// Refuses a radius (of particles or pores) under half a voxel: the grid cannot resolve it,
    /// and a volume fraction of such would take more placements than any run could wait for.
    fn check_resolved(&self, key: &str, radius_nm: f64, smallest: f64) -> Result<()> {
        let voxel = (0..self.grid.dim())
            .map(|a| self.h[a])
            .fold(f64::INFINITY, f64::min);
        if smallest >= 0.5 * voxel {
            return Ok(());
        }
        Err(Error::invalid(
            key,
            radius_nm,
            &format!(
                "the smallest of them (radius {smallest:.3e} nm) are under half a voxel ({:.3} nm): the grid cannot resolve them",
                0.5 * voxel
            ),
            "give a radius of at least a voxel, or refine the grid",
        ))
    }

    /// A shape's closed pores: their material and config, refused under half a voxel.
    fn pores<'c>(
        &self,
        pores: Option<&'c PoresConfig>,
        resolve: &dyn Fn(&str) -> Result<u16>,
        at: &str,
    ) -> Result<Option<(u16, &'c PoresConfig)>> {
        let Some(p) = pores else { return Ok(None) };
        self.check_resolved(&format!("{at}.pores.radius_nm"), p.radius_nm, p.radius_nm)?;
        Ok(Some((resolve(&p.material)?, p)))
    }

    fn paint_shape(
        &mut self,
        shape: &ShapeConfig,
        resolve: &dyn Fn(&str) -> Result<u16>,
        at: &str,
    ) -> Result<()> {
        match shape {
            ShapeConfig::Sphere {
                material,
                center_nm,
                radius_nm,
                layers,
                pores,
                c_axis,
            } => {
                let l = self.box_nm();
                let center = match center_nm {
                    Some(c) => [c[0], c[1], if c.len() == 3 { c[2] } else { 0.5 * l[2] }],
                    None => l.map(|v| 0.5 * v),
                };
                let core = resolve(material)?;
                let layers = self.layers(layers, resolve)?;
                // A sphere wider than the box overlaps its own periodic images.
                let outer = radius_nm + layers.iter().map(|l| l.1).sum::<f64>();
                let half = 0.5
                    * (0..self.grid.dim())
                        .map(|a| l[a])
                        .fold(f64::INFINITY, f64::min);
                if outer > half || outer.is_nan() {
                    return Err(Error::invalid(
                        &format!("{at}.radius_nm"),
                        radius_nm,
                        &format!(
                            "the sphere and its layers reach {outer} nm from the centre, beyond half the box ({half} nm): it would overlap its periodic images"
                        ),
                        "lower radius_nm or the layers' thickness, or enlarge grid.length_nm",
                    ));
                }
                let pores = self.pores(pores.as_ref(), resolve, at)?;
                self.paint_particle(center, *radius_nm, core, &layers, pores, c_axis);
            }
            ShapeConfig::Particles {
                material,
                radius_nm,
                radius_spread,
                volume_fraction,
                count,
                min_gap_nm,
                placement,
                host,
                layers,
                pores,
                c_axis,
            } => {
                let core = resolve(material)?;
                let shells = self.layers(layers, resolve)?;
                let shell_t: f64 = shells.iter().map(|s| s.1).sum();
                let host = host.as_deref().map(resolve).transpose()?;
                let pores = self.pores(pores.as_ref(), resolve, at)?;
                self.check_resolved(
                    &format!("{at}.radius_nm"),
                    *radius_nm,
                    radius_nm * (1.0 - radius_spread),
                )?;
                let target_volume = volume_fraction.map(|f| f * self.cell_volume());
                let wanted = count.unwrap_or(u64::MAX);
                let expected = match (count, target_volume) {
                    (Some(n), _) => *n,
                    (None, Some(v)) => (v / self.ball(radius_nm + shell_t)).ceil().max(1.0) as u64,
                    _ => 1,
                };
                let mut placed: Vec<Placed> = Vec::new();
                let mut volume = 0.0;
                let mut tries = 0u64;
                while (placed.len() as u64) < wanted && target_volume.is_none_or(|v| volume < v) {
                    tries += 1;
                    if tries > TRIES_PER_PARTICLE * expected.max(1) {
                        let got = if let Some(v) = target_volume {
                            format!(
                                "placed {} particles filling {:.3} of the cell, short of {:.3}",
                                placed.len(),
                                volume / self.cell_volume(),
                                v / self.cell_volume()
                            )
                        } else {
                            format!("placed {} of {} particles", placed.len(), wanted)
                        };
                        return Err(Error::invalid(
                            at,
                            format!("{} particles of radius {radius_nm} nm", material),
                            &format!("cannot place the particles without overlap: {got}"),
                            "lower volume_fraction, count, radius_nm or min_gap_nm, or enlarge the box",
                        ));
                    }
                    let r = radius_nm * (1.0 + radius_spread * (2.0 * self.rng.next_f64() - 1.0));
                    let outer = r + shell_t;
                    let center = self.random_point();
                    let clear = placed.iter().all(|q| {
                        let d = self.delta(center, q.center);
                        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
                            >= outer + q.outer + min_gap_nm
                    });
                    if !clear || !self.placement_ok(center, outer, *placement, host) {
                        continue;
                    }
                    self.paint_particle(center, r, core, &shells, pores, c_axis);
                    placed.push(Placed { center, outer });
                    volume += self.ball(outer);
                }
            }
            ShapeConfig::Lenses {
                material,
                host,
                thickness_nm,
                diameter_nm,
                volume_fraction,
            } => {
                let m = resolve(material)?;
                let host = resolve(host)?;
                let host_voxels = self.labels.iter().filter(|&&l| l == host).count();
                let target = (volume_fraction * host_voxels as f64).round() as usize;
                let (a, c) = (0.5 * diameter_nm, 0.5 * thickness_nm);
                let mut painted = 0usize;
                let mut tries = 0u64;
                let per_lens =
                    (self.ball(a) * c / a) / self.h[..self.dim()].iter().product::<f64>();
                let expected = (target as f64 / per_lens.max(1.0)).ceil() as u64 + 1;
                while painted < target {
                    tries += 1;
                    if tries > TRIES_PER_PARTICLE * expected {
                        return Err(Error::invalid(
                            at,
                            format!("lenses of {material}, {volume_fraction} of the host"),
                            &format!(
                                "cannot place enough lenses inside the host: {:.3} of the host reached",
                                painted as f64 / host_voxels.max(1) as f64
                            ),
                            "lower volume_fraction or the lens size, or give the host more room",
                        ));
                    }
                    let center = self.random_point();
                    let ci = self.voxel_of(center);
                    if self.labels[ci] != host {
                        continue;
                    }
                    let n = self.axis[ci];
                    let mut inside = Vec::new();
                    let mut fits = true;
                    self.for_ball(center, a.max(c), |i, d, _| {
                        let t = d[0] * n[0] + d[1] * n[1] + d[2] * n[2];
                        let q2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - t * t;
                        if q2 / (a * a) + t * t / (c * c) <= 1.0 {
                            inside.push(i);
                        }
                    });
                    for &i in &inside {
                        if self.labels[i] != host {
                            fits = false;
                            break;
                        }
                    }
                    if !fits || inside.is_empty() {
                        continue;
                    }
                    for i in inside {
                        self.labels[i] = m;
                        painted += 1;
                    }
                }
            }
            ShapeConfig::Lamellae {
                material,
                host,
                thickness_nm,
                period_nm,
            } => {
                let m = resolve(material)?;
                let host = resolve(host)?;
                let offset = self.rng.next_f64() * period_nm;
                let [nx, ny, nz] = self.grid.n;
                for z in 0..nz {
                    for y in 0..ny {
                        for x in 0..nx {
                            let i = self.grid.index(x, y, z);
                            if self.labels[i] != host {
                                continue;
                            }
                            let p = self.position(x, y, z);
                            let n = self.axis[i];
                            let t = p[0] * n[0] + p[1] * n[1] + p[2] * n[2] + offset;
                            if t.rem_euclid(*period_nm) < *thickness_nm {
                                self.labels[i] = m;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a particle at `center` with outer radius `outer` satisfies its placement rule.
    fn placement_ok(
        &self,
        center: [f64; 3],
        outer: f64,
        placement: Placement,
        host: Option<u16>,
    ) -> bool {
        let Some(host) = host else { return true };
        let at = |p: [f64; 3]| self.labels[self.voxel_of(p)];
        let directions: Vec<[f64; 3]> = if self.dim() == 2 {
            (0..16)
                .map(|k| {
                    let t = 2.0 * PI * k as f64 / 16.0;
                    [t.cos(), t.sin(), 0.0]
                })
                .collect()
        } else {
            let mut v = Vec::new();
            for dx in -1i32..=1 {
                for dy in -1i32..=1 {
                    for dz in -1i32..=1 {
                        if dx != 0 || dy != 0 || dz != 0 {
                            v.push(normalise([dx as f64, dy as f64, dz as f64]));
                        }
                    }
                }
            }
            v
        };
        let rim = |f: f64| {
            directions.iter().map(move |d| {
                [
                    center[0] + f * d[0],
                    center[1] + f * d[1],
                    center[2] + f * d[2],
                ]
            })
        };
        match placement {
            Placement::Free => true,
            Placement::Embedded => {
                at(center) == host
                    && rim(outer).all(|p| at(p) == host)
                    && rim(0.5 * outer).all(|p| at(p) == host)
            }
            Placement::Attached => at(center) != host && rim(outer).any(|p| at(p) == host),
        }
    }

    fn paint_image(
        &mut self,
        img: &crate::config::ImageConfig,
        dir: &Path,
        resolve: &dyn Fn(&str) -> Result<u16>,
    ) -> Result<()> {
        let [nx, ny, _] = self.grid.n;
        for (z, file) in img.files.iter().enumerate() {
            let path = dir.join(file);
            let pic = image::open(&path)
                .map_err(|e| {
                    Error::invalid(
                        "microstructure.image.files",
                        path.display(),
                        &format!("cannot read the image: {e}"),
                        "give a PNG (8- or 16-bit grey) path relative to the config",
                    )
                })?
                .into_luma16();
            if pic.width() as usize != nx || pic.height() as usize != ny {
                return Err(Error::invalid(
                    "microstructure.image.files",
                    format!("{} ({} x {})", path.display(), pic.width(), pic.height()),
                    &format!("the image must be nx x ny = {nx} x {ny} pixels"),
                    "resample the image or change grid.n",
                ));
            }
            let is_8bit = image::open(&path)
                .map(|i| {
                    matches!(
                        i,
                        image::DynamicImage::ImageLuma8(_)
                            | image::DynamicImage::ImageRgb8(_)
                            | image::DynamicImage::ImageRgba8(_)
                            | image::DynamicImage::ImageLumaA8(_)
                    )
                })
                .unwrap_or(false);
            for (px, py, v) in pic.enumerate_pixels() {
                let value = if is_8bit { v.0[0] / 257 } else { v.0[0] };
                let name = img.labels.get(&value.to_string()).ok_or_else(|| {
                    Error::invalid(
                        "microstructure.image.labels",
                        value,
                        &format!("pixel value {value} in {} has no material", path.display()),
                        "add it to labels",
                    )
                })?;
                // Image rows run top-down; y runs up.
                let y = ny - 1 - py as usize;
                let i = self.grid.index(px as usize, y, z);
                self.labels[i] = resolve(name)?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum AxisRule {
    Fixed([f64; 3]),
    Radial,
}

/// Volume fraction of each material (mean φ_m).
pub fn volume_fractions(phi: &[Vec<f64>]) -> Vec<f64> {
    phi.iter()
        .map(|f| f.iter().sum::<f64>() / f.len() as f64)
        .collect()
}
