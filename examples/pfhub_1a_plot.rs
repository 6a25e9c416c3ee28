//! Draws docs/img/pfhub_1a_free_energy.png: swellfield's F(t) for PFHub benchmark 1a (one or
//! more timeseries.csv files) against the published uploads quoted in docs/verification.md.
//!
//! cargo run --release --example pfhub_1a_plot -- OUT.png LABEL=outputs/pfhub_1a/timeseries.csv ...

use std::path::Path;

use swellfield::output::plot::{LinePlot, Series};

/// Published F(t) (issue 3, from the PFHub 1a uploads): (t, PRISMS-PF, MEMPHIS, MOOSE a, MOOSE b).
const PUBLISHED: [(f64, [f64; 4]); 5] = [
    (1.0, [318.83, 318.86, 318.84, 318.92]),
    (10.0, [304.18, 297.76, 300.0, 298.0]),
    (100.0, [115.62, 135.22, 139.0, 140.0]),
    (1000.0, [70.35, 81.98, 79.0, 85.0]),
    (10000.0, [40.81, 34.70, 38.0, 44.0]),
];
const CODES: [&str; 4] = [
    "PRISMS-PF",
    "MEMPHIS",
    "MOOSE (upload a)",
    "MOOSE (upload b)",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: pfhub_1a_plot OUT.png LABEL=timeseries.csv ...")?;
    let mut series = Vec::new();
    for arg in args {
        let (label, path) = arg
            .split_once('=')
            .ok_or("each run is LABEL=path/to/timeseries.csv")?;
        let text = std::fs::read_to_string(path)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().ok_or("empty csv")?.split(',').collect();
        let ti = header
            .iter()
            .position(|h| *h == "time")
            .ok_or("no time column")?;
        let fi = header
            .iter()
            .position(|h| *h == "free_energy")
            .ok_or("no free_energy column")?;
        let points = lines
            .map(|l| {
                let v: Vec<f64> = l
                    .split(',')
                    .map(|x| x.parse().unwrap_or(f64::NAN))
                    .collect();
                (v[ti], v[fi])
            })
            .collect();
        series.push(Series::line(label, points));
    }
    for (i, code) in CODES.iter().enumerate() {
        series.push(Series::points(
            code,
            PUBLISHED.iter().map(|(t, f)| (*t, f[i])).collect(),
        ));
    }
    LinePlot {
        title: "PFHub benchmark 1a: free energy".into(),
        x_label: "time (benchmark units)".into(),
        y_label: "free energy F (benchmark units)".into(),
        log_x: true,
        log_y: true,
        series,
    }
    .save(Path::new(&out))?;
    Ok(())
}
