//! The SVG chart of `daxlite-bench capacity`: the run without and the run with auto
//! scaling side by side in four panels — items written, success rate, throttled calls,
//! p99 latency — drawn with plotters' SVG backend like the workload chart (`chart`).

use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

/// The panels: title, the run's field, scale (success rate as %), label decimals.
const PANELS: [(&str, &str, f64, usize); 4] = [
    ("items written", "items_written", 1.0, 0),
    ("success rate (%)", "success_rate", 100.0, 1),
    ("throttled calls", "throttled_calls", 1.0, 0),
    ("p99 latency (ms)", "p99_ms", 1.0, 1),
];

/// Writes the chart of `rows` (the runs' JSON) to `path`.
pub fn write(path: &Path, title: &str, rows: &[Value]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (1100, 360)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root
        .titled(title, ("sans-serif", 18))
        .map_err(|e| err(&e))?;
    let names: Vec<&str> = rows
        .iter()
        .map(|r| match r["auto_scaling"] == true {
            true => "auto scaling",
            false => "fixed WCU",
        })
        .collect();
    let n = rows.len().max(1);
    for (area, (caption, field, scale, decimals)) in root.split_evenly((1, 4)).iter().zip(PANELS) {
        let values: Vec<f64> = rows
            .iter()
            .map(|r| r[field].as_f64().unwrap_or(0.0) * scale)
            .collect();
        let top = values.iter().copied().fold(1.0, f64::max) * 1.2;
        let mut c = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(26)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(|e| err(&e))?;
        c.configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                match (x - i).abs() < 0.01 && i >= 0.0 {
                    true => names
                        .get(i as usize)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    false => String::new(),
                }
            })
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| err(&e))?;
        for (i, v) in values.iter().enumerate() {
            let x = i as f64;
            c.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, *v)],
                Palette99::pick(i).to_rgba().filled(),
            )))
            .map_err(|e| err(&e))?;
            c.draw_series(std::iter::once(Text::new(
                format!("{v:.decimals$}"),
                (x - 0.3, v + top * 0.03),
                ("sans-serif", 12),
            )))
            .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))
}
