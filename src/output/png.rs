//! `images/<field>_<step>.png`: a colour map (viridis) of a field with a colour bar, the
//! mid-plane z slice in 3-D, on a colour range fixed for the whole run.

use std::path::Path;

use plotters::prelude::*;

use super::plot::{ensure_font, tick_label};
use crate::error::{Error, Result};
use crate::grid::Grid;

/// What to draw and how to label it.
pub struct MapSpec<'a> {
    pub title: &'a str,
    /// Colour-bar label (the field and its unit).
    pub label: &'a str,
    /// Fixed colour range; values outside are clamped to the ends.
    pub range: [f64; 2],
    /// Box edge lengths in the config's length unit, and that unit's name.
    pub lengths: [f64; 2],
    pub length_unit: &'a str,
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Pixels per voxel: integer upscaling keeps voxels square and sharp, about `target` across.
fn upscale(grid: &Grid, target: usize) -> usize {
    (target / grid.n[0].max(grid.n[1])).max(1)
}

/// Draws one map with its colour bar into `area` (map on the left, bar on the right).
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    map_w: u32,
    field: &[f64],
    grid: &Grid,
    spec: &MapSpec,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let [nx, ny, nz] = grid.n;
    let z = nz / 2;
    let (left, right) = area.split_horizontally(map_w + 100);
    let [lo, hi] = spec.range;
    let [lx, ly] = spec.lengths;
    let mut chart = ChartBuilder::on(&left)
        .caption(spec.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..lx, 0.0..ly)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(format!("x ({})", spec.length_unit))
        .y_desc(format!("y ({})", spec.length_unit))
        .label_style(("sans-serif", 13))
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()?;
    let (dx, dy) = (lx / nx as f64, ly / ny as f64);
    chart.draw_series(
        (0..ny)
            .flat_map(|y| (0..nx).map(move |x| (x, y)))
            .map(|(x, y)| {
                let color = colour(field[grid.index(x, y, z)], lo, hi);
                Rectangle::new(
                    [
                        (x as f64 * dx, y as f64 * dy),
                        ((x + 1) as f64 * dx, (y + 1) as f64 * dy),
                    ],
                    color.filled(),
                )
            }),
    )?;
    let mut bar = ChartBuilder::on(&right)
        .margin_top(40)
        .margin_bottom(50)
        .margin_left(10)
        .margin_right(10)
        .right_y_label_area_size(95)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(spec.label)
        .y_labels(6)
        .y_label_formatter(&|v| tick_label(*v))
        .label_style(("sans-serif", 13))
        .draw()?;
    let steps = 256;
    bar.draw_series((0..steps).map(|i| {
        let a = lo + (hi - lo) * i as f64 / steps as f64;
        let b = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
        Rectangle::new([(0.0, a), (1.0, b)], colour(0.5 * (a + b), lo, hi).filled())
    }))?;
    Ok(())
}

fn save(path: &Path, buf: &[u8], w: u32, h: u32, drawn: DrawResult) -> Result<()> {
    drawn.map_err(|e| Error::Write {
        path: path.to_path_buf(),
        message: format!("image: {e}"),
    })?;
    image::save_buffer(path, buf, w, h, image::ExtendedColorType::Rgb8).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes the map of `field` (grid order, x fastest) to `path`.
pub fn write_map(path: &Path, field: &[f64], grid: &Grid, spec: &MapSpec) -> Result<()> {
    ensure_font();
    let scale = upscale(grid, 400);
    let (map_w, map_h) = ((grid.n[0] * scale) as u32, (grid.n[1] * scale) as u32);
    let (w, h) = (map_w + 250, map_h + 110);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let drawn = (|| -> DrawResult {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        draw_panel(&root, map_w, field, grid, spec)?;
        root.present()?;
        Ok(())
    })();
    save(path, &buf, w, h, drawn)
}

/// One panel of a multi-map figure.
pub struct Panel<'a> {
    pub values: &'a [f64],
    pub spec: MapSpec<'a>,
}

/// Writes several maps in a grid of `cols` columns (row by row) to one PNG.
pub fn write_panels(path: &Path, panels: &[Panel], grid: &Grid, cols: usize) -> Result<()> {
    ensure_font();
    let scale = upscale(grid, 300);
    let (map_w, map_h) = ((grid.n[0] * scale) as u32, (grid.n[1] * scale) as u32);
    let (pw, ph) = (map_w + 250, map_h + 110);
    let rows = panels.len().div_ceil(cols);
    let (w, h) = (pw * cols as u32, ph * rows as u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let drawn = (|| -> DrawResult {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let areas = root.split_evenly((rows, cols));
        for (area, panel) in areas.iter().zip(panels) {
            draw_panel(area, map_w, panel.values, grid, &panel.spec)?;
        }
        root.present()?;
        Ok(())
    })();
    save(path, &buf, w, h, drawn)
}

/// Viridis, clamped to the range; NaN is drawn grey so it stands out.
fn colour(v: f64, lo: f64, hi: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(128, 128, 128);
    }
    ViridisRGB::get_color_normalized(v.clamp(lo, hi), lo, hi)
}

/// One kind of map drawn at every snapshot.
#[derive(Debug, Clone)]
pub struct MapKind {
    pub field: crate::fields::FieldName,
    /// Colour-bar label with unit.
    pub label: String,
    /// Fixed range for the run, or `None` for each image's own 0..max.
    pub range: Option<[f64; 2]>,
}

/// Writes `images/<field>_<step>.png` for every snapshot and map kind.
pub struct ImageWriter {
    pub dir: std::path::PathBuf,
    pub grid: Grid,
    pub maps: Vec<MapKind>,
    /// Box edge lengths (x, y) in the config's length unit, and its name.
    pub lengths: [f64; 2],
    pub length_unit: String,
    pub time_unit: String,
}

impl super::OutputWriter for ImageWriter {
    fn write(&mut self, row: &super::Row, fields: Option<&crate::fields::Fields>) -> Result<()> {
        let Some(fields) = fields else { return Ok(()) };
        for map in &self.maps {
            let Some(values) = fields.get(map.field) else {
                continue;
            };
            let range = map.range.unwrap_or_else(|| {
                let hi = values
                    .iter()
                    .cloned()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max);
                [0.0, if hi > 0.0 { hi } else { 1.0 }]
            });
            let name = map.field.as_str();
            let title = format!(
                "{name} at step {}, t = {:.4e} {}",
                row.step, row.time, self.time_unit
            );
            let spec = MapSpec {
                title: &title,
                label: &map.label,
                range,
                lengths: self.lengths,
                length_unit: &self.length_unit,
            };
            write_map(
                &self.dir.join(format!("{name}_{:08}.png", row.step)),
                values,
                &self.grid,
                &spec,
            )?;
        }
        Ok(())
    }

    fn finish(&mut self, _reason: &super::StopReason) -> Result<()> {
        Ok(())
    }
}
