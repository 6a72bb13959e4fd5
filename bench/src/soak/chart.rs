//! The soak's SVG plots: RSS (solid) and the bound (dashed) per mode over time, with the
//! live data and the data file's size; and (`write_latency`) p99 latency and errors per interval.

use std::path::Path;

use plotters::prelude::*;

use super::ModeReport;

const COLORS: [RGBColor; 4] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), GREEN, BLACK];

type TimeChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A chart of seconds (x, from 0 to `t_max`) against `y_desc` (from 0 to `y_max`), its
/// mesh drawn.
fn time_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: Option<&str>,
    (t_max, y_max): (f64, f64),
    (x_desc, y_desc): (&str, &str),
) -> Result<TimeChart<'a, 'b>, String> {
    let err = |e: &dyn std::fmt::Display| format!("chart: {e}");
    let mut builder = ChartBuilder::on(area);
    if let Some(c) = caption {
        builder.caption(c, ("sans-serif", 18));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..t_max, 0f64..y_max)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| err(&e))?;
    Ok(chart)
}

/// The series' legend box at `position`.
fn legend<'a, 'b: 'a>(
    chart: &mut TimeChart<'a, 'b>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(|e| format!("chart legend: {e}"))
}

pub fn write(path: &Path, reports: &[ModeReport]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let t_max = reports
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.t_s))
        .fold(1.0, f64::max);
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let y_max = reports
        .iter()
        .flat_map(|r| {
            r.samples
                .iter()
                .map(|s| mb(s.rss_bytes.max(s.file_bytes.unwrap_or(0))))
                .chain(std::iter::once(mb(r.bound_bytes)))
        })
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = time_chart(
        &root,
        Some("daxlite soak: resident memory over time"),
        (t_max, y_max),
        ("seconds", "MB"),
    )?;
    for (i, r) in reports.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let rss: Vec<(f64, f64)> = r.samples.iter().map(|s| (s.t_s, mb(s.rss_bytes))).collect();
        chart
            .draw_series(LineSeries::new(rss, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(format!("{} RSS", r.mode))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        let live: Vec<(f64, f64)> = r
            .samples
            .iter()
            .map(|s| (s.t_s, mb(s.live_bytes)))
            .collect();
        chart
            .draw_series(LineSeries::new(live, color.mix(0.5)))
            .map_err(|e| err(&e))?
            .label(format!("{} live data", r.mode))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.mix(0.5)));
        if r.samples.iter().any(|s| s.file_bytes.is_some()) {
            let file: Vec<(f64, f64)> = r
                .samples
                .iter()
                .map(|s| (s.t_s, mb(s.file_bytes.unwrap_or(0))))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(file, 3, 3, color.mix(0.7).into()))
                .map_err(|e| err(&e))?
                .label(format!("{} data file", r.mode))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.mix(0.7)));
        }
        let bound = mb(r.bound_bytes);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, bound), (t_max, bound)],
                8,
                4,
                color.into(),
            ))
            .map_err(|e| err(&e))?
            .label(format!("{} bound", r.mode))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(|e| err(&e))
}

/// The latency plot: each interval's p99 per mode (top) and the errors per interval,
/// injected and other (bottom), with a mark at every injected fault.
pub fn write_latency(path: &Path, reports: &[ModeReport]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (top, bottom) = root.split_vertically(340);
    let t_max = reports
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.t_s))
        .fold(1.0, f64::max);
    let ms_max = reports
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.p99_us as f64 / 1000.0))
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = time_chart(
        &top,
        Some("daxlite soak: p99 latency and errors"),
        (t_max, ms_max),
        ("", "p99 ms per interval"),
    )?;
    for (i, r) in reports.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let p99: Vec<(f64, f64)> = r
            .samples
            .iter()
            .map(|s| (s.t_s, s.p99_us as f64 / 1000.0))
            .collect();
        chart
            .draw_series(LineSeries::new(p99, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(format!("{} p99", r.mode))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        for f in &r.faults {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(f.t_s, 0.0), (f.t_s, ms_max)],
                    4,
                    4,
                    color.mix(0.4).into(),
                ))
                .map_err(|e| err(&e))?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;

    // Errors per interval: the cumulative counters' differences.
    let per_interval = |r: &ModeReport, injected: bool| -> Vec<(f64, f64)> {
        let mut last = 0u64;
        r.samples
            .iter()
            .map(|s| {
                let n = if injected {
                    s.injected_errors
                } else {
                    s.errors - s.injected_errors.min(s.errors)
                };
                let d = n.saturating_sub(last);
                last = n;
                (s.t_s, d as f64)
            })
            .collect()
    };
    let e_max = reports
        .iter()
        .flat_map(|r| {
            per_interval(r, true)
                .into_iter()
                .chain(per_interval(r, false))
        })
        .map(|(_, n)| n)
        .fold(1.0, f64::max)
        * 1.1;
    let mut errors = time_chart(
        &bottom,
        None,
        (t_max, e_max),
        ("seconds", "errors per interval"),
    )?;
    for (i, r) in reports.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        errors
            .draw_series(LineSeries::new(per_interval(r, true), color.mix(0.5)))
            .map_err(|e| err(&e))?
            .label(format!("{} injected", r.mode))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.mix(0.5)));
        errors
            .draw_series(LineSeries::new(
                per_interval(r, false),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(format!("{} other", r.mode))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    legend(&mut errors, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(|e| err(&e))
}
