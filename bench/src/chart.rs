//! The SVG chart: throughput bars per target (left) and latency percentile curves per
//! target on log axes (right), drawn with plotters' SVG backend.

use std::path::Path;

use plotters::prelude::*;

use crate::report::TargetReport;

/// x position of a percentile: -log10(1 - p), so 90, 99, 99.9 are evenly spaced; max at 5.
fn x_of(p: f64) -> f64 {
    if p >= 100.0 {
        5.0
    } else {
        -(1.0 - p / 100.0).log10()
    }
}

fn label_of(x: f64) -> String {
    if x >= 4.999 {
        "max".into()
    } else {
        let p = 100.0 * (1.0 - 10f64.powf(-x));
        format!("p{}", (p * 100.0).round() / 100.0)
    }
}

/// Writes the chart of the measured targets to `path`.
pub fn write(path: &Path, title: &str, targets: &[TargetReport]) -> Result<(), String> {
    let measured: Vec<&TargetReport> = targets.iter().filter(|t| t.skipped.is_none()).collect();
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root
        .titled(title, ("sans-serif", 18))
        .map_err(|e| err(&e))?;
    let (left, right) = root.split_horizontally(440);

    let n = measured.len().max(1);
    let top = measured.iter().map(|t| t.ops_per_s).fold(1.0, f64::max) * 1.15;
    let names: Vec<String> = measured.iter().map(|t| t.name.clone()).collect();
    let mut bars = ChartBuilder::on(&left)
        .caption("throughput (ops/s)", ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(|e| err(&e))?;
    bars.configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    for (i, t) in measured.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let x = i as f64;
        bars.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.35, 0.0), (x + 0.35, t.ops_per_s)],
            color.filled(),
        )))
        .map_err(|e| err(&e))?;
        let label = match t.cpu_ratio_to_limit {
            Some(r) => format!("{:.0} ({r:.2}× CPU)", t.ops_per_s),
            None => format!("{:.0}", t.ops_per_s),
        };
        bars.draw_series(std::iter::once(Text::new(
            label,
            (x - 0.33, t.ops_per_s + top * 0.03),
            ("sans-serif", 12),
        )))
        .map_err(|e| err(&e))?;
    }

    let points: Vec<u64> = measured
        .iter()
        .flat_map(|t| t.latency_curve_us.iter().map(|p| p.1))
        .collect();
    let lo = points.iter().copied().min().unwrap_or(1).max(1) as f64 / 1.5;
    let hi = points.iter().copied().max().unwrap_or(10).max(10) as f64 * 1.5;
    let mut lat = ChartBuilder::on(&right)
        .caption("latency by percentile (µs, log)", ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..5.1f64, (lo..hi).log_scale())
        .map_err(|e| err(&e))?;
    lat.configure_mesh()
        .max_light_lines(0)
        .x_labels(6)
        .x_label_formatter(&|x| label_of(*x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    for (i, t) in measured.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let series: Vec<(f64, f64)> = t
            .latency_curve_us
            .iter()
            .map(|&(p, us)| (x_of(p), us.max(1) as f64))
            .collect();
        lat.draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(t.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        lat.draw_series(
            series
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )
        .map_err(|e| err(&e))?;
    }
    lat.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(label_of(x_of(90.0)), "p90");
        assert_eq!(label_of(x_of(99.9)), "p99.9");
        assert_eq!(label_of(x_of(100.0)), "max");
        assert_eq!(label_of(2.0), "p99");
    }
}
