//! The global scenario's SVG plot: every probed write's replication lag (ms, log
//! scale) against when it was acknowledged, with the p99 and the 50 ms target dashed;
//! the title names the build (a debug build's figures are no release figures).

use std::path::Path;

use plotters::prelude::*;

use super::{quantiles, Phase};

const BLUE: RGBColor = RGBColor(31, 119, 180);

pub fn write(path: &Path, build: &str, rate: u64, phase: &Phase) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let t_max = phase.lags.iter().map(|l| l.0).fold(1.0, f64::max);
    let y_max = phase.lags.iter().map(|l| l.1).fold(100.0, f64::max) * 1.5;
    let q = quantiles(&phase.lags);
    let p99 = q["p99"].as_f64().unwrap_or(0.0).max(0.1);
    let caption = format!(
        "daxlite global tables: replication lag at {rate} writes/s offered ({build}; p50 {:.1} ms, p99 {:.1} ms)",
        q["p50"].as_f64().unwrap_or(0.0),
        p99
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..t_max, (0.1f64..y_max).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("seconds into the global phase (write acknowledged)")
        .y_desc("ms until visible in the peer")
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            phase
                .lags
                .iter()
                .map(|&(t, ms)| Circle::new((t, ms.max(0.1)), 2, BLUE.mix(0.6).filled())),
        )
        .map_err(|e| err(&e))?
        .label("probed write")
        .legend(|(x, y)| Circle::new((x + 9, y), 3, BLUE.filled()));
    for (value, label, color) in [(p99, "p99", RED), (50.0, "target 50 ms", BLACK)] {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, value), (t_max, value)],
                8,
                4,
                color.into(),
            ))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
