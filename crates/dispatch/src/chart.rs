//! The report's chart as a file integrations can attach (Slack upload, Discord attachment): a
//! self-contained SVG bar chart of the top services, this period against the previous one, built
//! from the envelope's figures alone. Labels are XML-escaped; nothing else of the user's enters it.

use std::fmt::Write;

use costwatch_core::money::{display, to_f64};
use costwatch_core::notification::ReportFigures;

const WIDTH: usize = 640;
const ROW: usize = 28;
const LABEL: usize = 220;

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `None` when the report has no services to chart.
pub fn report_svg(report: &ReportFigures, currency: &str) -> Option<String> {
    let rows: Vec<_> = report.top_services.iter().take(10).collect();
    if rows.is_empty() {
        return None;
    }
    let amount = |m: &costwatch_core::Money| to_f64(*m).max(0.0);
    let top = rows
        .iter()
        .map(|r| amount(&r.amount).max(amount(&r.previous)))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let bar = |v: f64| ((v / top) * (WIDTH - LABEL - 90) as f64).round() as usize;
    let height = 40 + rows.len() * ROW + 20;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="22" font-size="14">Top services {} – {} ({}; grey: previous period)</text>"##,
        report.start,
        report.end,
        xml(currency)
    );
    for (i, row) in rows.iter().enumerate() {
        let y = 40 + i * ROW;
        let label: String = row.label.chars().take(32).collect();
        let _ = write!(
            svg,
            r##"<text x="10" y="{}">{}</text><rect x="{LABEL}" y="{}" width="{}" height="8" fill="#969faa"/><rect x="{LABEL}" y="{}" width="{}" height="12" fill="#1f5fbf"/><text x="{}" y="{}">{}</text>"##,
            y + 14,
            xml(&label),
            y + 14,
            bar(amount(&row.previous)),
            y + 1,
            bar(amount(&row.amount)),
            LABEL + bar(amount(&row.amount)) + 6,
            y + 12,
            xml(&display(row.amount, currency)),
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::NotificationBody;

    #[test]
    fn the_chart_has_a_bar_per_service_and_escapes_labels() {
        let mut n = costwatch_core::samples::of_kind("report");
        let NotificationBody::Report(report) = &mut n.body else {
            panic!("a report")
        };
        report.top_services[0].label = "<script>alert(1)</script>".into();
        let svg = report_svg(&*report, "USD").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert_eq!(
            svg.matches("fill=\"#1f5fbf\"").count(),
            report.top_services.len().min(10)
        );
    }
}
