//! Daily cost charts as self-contained SVG (plotters): actual spend, the detector's expected band,
//! the forecast with its 80 % interval, and markers on anomalous days.

use chrono::NaiveDate;
use plotters::prelude::*;

use crate::error::{PipelineError, Result};

#[derive(Debug, Clone, Default)]
pub struct ChartData {
    /// (day, cost) for days with data.
    pub actual: Vec<(NaiveDate, f64)>,
    /// (day, low, high) of the expected band.
    pub band: Vec<(NaiveDate, f64, f64)>,
    /// (day, mean, lo80, hi80).
    pub forecast: Vec<(NaiveDate, f64, f64, f64)>,
    /// (day, cost, label) of anomalies to mark.
    pub markers: Vec<(NaiveDate, f64, String)>,
}

const BLUE: RGBColor = RGBColor(31, 95, 191);
const ORANGE: RGBColor = RGBColor(230, 126, 34);
const GREY: RGBColor = RGBColor(150, 160, 170);
const RED: RGBColor = RGBColor(200, 30, 45);

/// Renders the chart; labels are dates and amounts only (no user text enters the SVG).
pub fn render(data: &ChartData, width: u32, height: u32) -> Result<String> {
    let err = |e: String| PipelineError::Render(e);
    let days = data
        .actual
        .iter()
        .map(|p| p.0)
        .chain(data.forecast.iter().map(|p| p.0));
    let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
        return Ok(String::new());
    };
    let x = |d: NaiveDate| (d - first).num_days() as i32;
    let top = data
        .actual
        .iter()
        .map(|p| p.1)
        .chain(data.band.iter().map(|p| p.2))
        .chain(data.forecast.iter().map(|p| p.3))
        .fold(0.0_f64, f64::max)
        * 1.08;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(0..x(last) + 1, 0.0..top.max(1.0))
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(235, 238, 242))
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|i| {
                (first + chrono::Days::new(*i.max(&0) as u64))
                    .format("%b %d")
                    .to_string()
            })
            .y_label_formatter(&|v| format!("${v:.0}"))
            .draw()
            .map_err(|e| err(e.to_string()))?;

        let band_polygon = |upper: Vec<(i32, f64)>, lower: Vec<(i32, f64)>| {
            upper
                .into_iter()
                .chain(lower.into_iter().rev())
                .collect::<Vec<_>>()
        };
        if !data.band.is_empty() {
            let poly = band_polygon(
                data.band.iter().map(|p| (x(p.0), p.2)).collect(),
                data.band.iter().map(|p| (x(p.0), p.1)).collect(),
            );
            chart
                .draw_series(std::iter::once(Polygon::new(poly, GREY.mix(0.25).filled())))
                .map_err(|e| err(e.to_string()))?
                .label("expected range")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], GREY.mix(0.4).filled())
                });
        }
        if !data.forecast.is_empty() {
            let poly = band_polygon(
                data.forecast.iter().map(|p| (x(p.0), p.3)).collect(),
                data.forecast.iter().map(|p| (x(p.0), p.2)).collect(),
            );
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    ORANGE.mix(0.2).filled(),
                )))
                .map_err(|e| err(e.to_string()))?
                .label("forecast, 80% interval")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], ORANGE.mix(0.35).filled())
                });
            chart
                .draw_series(LineSeries::new(
                    data.forecast.iter().map(|p| (x(p.0), p.1)),
                    ORANGE.stroke_width(2),
                ))
                .map_err(|e| err(e.to_string()))?;
        }
        chart
            .draw_series(LineSeries::new(
                data.actual.iter().map(|p| (x(p.0), p.1)),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label("daily cost")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(
                data.markers
                    .iter()
                    .map(|(d, v, _)| Circle::new((x(*d), *v), 6, RED.stroke_width(2))),
            )
            .map_err(|e| err(e.to_string()))?
            .label("anomaly")
            .legend(|(x, y)| Circle::new((x + 7, y), 5, RED.stroke_width(2)));
        chart
            .draw_series(data.markers.iter().map(|(d, v, label)| {
                Text::new(
                    label.clone(),
                    (x(*d), *v),
                    ("sans-serif", 13).into_font().color(&RED),
                )
            }))
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(220, 220, 220))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}
