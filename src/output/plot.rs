//! Line plots (plotters, DejaVu Sans embedded so no system font is needed), saved as PNG.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// Registers the embedded font with plotters once per process.
pub fn ensure_font() {
    static FONT: Once = Once::new();
    FONT.call_once(|| {
        // The bytes are a valid TTF compiled into the binary, so this cannot fail at run time.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// A compact axis label: up to four significant digits, no trailing zeros.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// How one series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    Line,
    Points,
}

/// One named series of (x, y) points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
}

impl Series {
    pub fn line(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            mark: Mark::Line,
        }
    }
    pub fn points(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            mark: Mark::Points,
        }
    }
}

/// A titled x–y plot with a legend. A log x axis drops points at x ≤ 0 (t = 0 on a log-time
/// plot); a log y axis falls back to linear if any y ≤ 0.
#[derive(Debug, Clone)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

impl LinePlot {
    /// Draws the plot into an 800×560 PNG.
    pub fn save(&self, path: &Path) -> Result<()> {
        ensure_font();
        let (w, h) = (800u32, 560u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        self.draw(&mut buf, (w, h)).map_err(|e| Error::Write {
            path: path.to_path_buf(),
            message: format!("plot: {e}"),
        })?;
        image::save_buffer(path, &buf, w, h, image::ExtendedColorType::Rgb8).map_err(|e| {
            Error::Write {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })
    }

    fn draw(
        &self,
        buf: &mut [u8],
        size: (u32, u32),
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let log_x = self.log_x && self.count(|(x, _)| x > 0.0) >= 2;
        let log_y = self.log_y && self.all(|(_, y)| y > 0.0);
        let keep = |&(x, y): &(f64, f64)| {
            x.is_finite() && y.is_finite() && (!log_x || x > 0.0) && (!log_y || y > 0.0)
        };
        let pts: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(keep)
            .collect();
        if pts.is_empty() {
            return Err("no finite points to plot".into());
        }
        let range = |v: Vec<f64>, log: bool| {
            let (lo, hi) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            if log {
                (lo / 1.5, hi * 1.5)
            } else {
                let pad = if hi > lo {
                    0.05 * (hi - lo)
                } else {
                    0.5 * lo.abs().max(1.0)
                };
                (lo - pad, hi + pad)
            }
        };
        let (x0, x1) = range(pts.iter().map(|p| p.0).collect(), log_x);
        let (y0, y1) = range(pts.iter().map(|p| p.1).collect(), log_y);

        let root = BitMapBackend::with_buffer(buf, size).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80);
        // plotters types log and linear axes differently, so each combination is its own chart.
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label.as_str())
                    .y_desc(self.y_label.as_str())
                    .x_label_formatter(&|v| tick_label(*v))
                    .y_label_formatter(&|v| tick_label(*v))
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 17))
                    .draw()?;
                for (i, s) in self.series.iter().enumerate() {
                    let color = PALETTE[i % PALETTE.len()];
                    let data: Vec<(f64, f64)> = s.points.iter().copied().filter(keep).collect();
                    match s.mark {
                        Mark::Line => chart
                            .draw_series(LineSeries::new(data, color.stroke_width(2)))?
                            .label(s.name.as_str())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                            }),
                        Mark::Points => chart
                            .draw_series(
                                data.into_iter().map(|p| Circle::new(p, 5, color.filled())),
                            )?
                            .label(s.name.as_str())
                            .legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled())),
                    };
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerLeft)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 15))
                    .draw()?;
            }};
        }
        match (log_x, log_y) {
            (true, true) => {
                finish!(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?)
            }
            (true, false) => finish!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?),
            (false, true) => finish!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?),
            (false, false) => finish!(builder.build_cartesian_2d(x0..x1, y0..y1)?),
        }
        root.present()?;
        Ok(())
    }

    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    }

    fn all(&self, f: impl Fn((f64, f64)) -> bool) -> bool {
        self.finite_points().all(f)
    }

    fn count(&self, f: impl Fn((f64, f64)) -> bool) -> usize {
        self.finite_points().filter(|p| f(*p)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(tick_label(200.0), "200");
        assert_eq!(tick_label(0.35), "0.35");
        assert_eq!(tick_label(0.7000001), "0.7");
        assert_eq!(tick_label(1.5e-7), "1.50e-7");
    }
}
