//! The three files a report is archived as (see [`costwatch_core::archive`]): the HTML page, its
//! data as JSON and the rows its tables show as CSV, for spreadsheets and audits that outlive the
//! dashboard.

use costwatch_core::Money;
use costwatch_core::archive::{ReportFile, report_key};
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::notification::ReportFigures;
use serde::Serialize;

use crate::allocation::KeyAllocation;
use crate::error::{PipelineError, Result};
use crate::html::{AnomalyAmounts, ReportPage, render_page};

/// The page's data without its charts (SVG belongs to the HTML).
#[derive(Serialize)]
struct ReportData<'a> {
    title: &'a str,
    currency: &'a str,
    generated_at: &'a str,
    figures: &'a ReportFigures,
    forecast: Option<&'a MonthEndForecast>,
    anomalies: Vec<AnomalyData<'a>>,
    /// What the report lacks (a pipeline step that had not finished); absent when complete.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    allocation: &'a [KeyAllocation],
}

#[derive(Serialize)]
struct AnomalyData<'a> {
    title: &'a str,
    scope: &'a str,
    state: &'a str,
    start_date: chrono::NaiveDate,
    #[serde(flatten)]
    amounts: &'a AnomalyAmounts,
    impact_pct: &'a str,
}

pub fn render_json(page: &ReportPage) -> Result<String> {
    let data = ReportData {
        title: &page.title,
        currency: &page.currency,
        generated_at: &page.generated_at,
        figures: &page.figures,
        forecast: page.forecast.as_ref(),
        anomalies: page
            .anomalies
            .iter()
            .map(|a| AnomalyData {
                title: &a.title,
                scope: &a.scope,
                state: &a.state,
                start_date: a.start_date,
                amounts: &a.raw,
                impact_pct: &a.impact_pct,
            })
            .collect(),
        notes: &page.notes,
        allocation: &page.allocation,
    };
    serde_json::to_string_pretty(&data).map_err(|e| PipelineError::Render(e.to_string()))
}

/// One row of the CSV: every table of the page in one file, told apart by `table`.
#[derive(Serialize, Default)]
struct Row {
    table: &'static str,
    label: String,
    scope: String,
    state: String,
    since: String,
    currency: String,
    amount: Option<Money>,
    previous: Option<Money>,
    change: Option<Money>,
    limit: Option<Money>,
    forecast: Option<Money>,
    percent_used: Option<f64>,
    share_pct: Option<f64>,
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
/// leading `'`: labels come from account names and tags, which anyone with tagging rights sets.
fn defuse(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn rows(page: &ReportPage) -> Vec<Row> {
    let f = &page.figures;
    let currency = || page.currency.clone();
    let mut out = Vec::new();
    for a in &page.anomalies {
        out.push(Row {
            table: "anomaly",
            label: defuse(&a.title),
            scope: defuse(&a.scope),
            state: a.state.clone(),
            since: a.start_date.to_string(),
            currency: currency(),
            amount: Some(a.raw.actual),
            previous: Some(a.raw.expected),
            change: Some(a.raw.impact),
            ..Row::default()
        });
    }
    for b in &f.budgets {
        out.push(Row {
            table: "budget",
            label: defuse(&b.budget),
            currency: currency(),
            amount: Some(b.actual),
            limit: Some(b.limit),
            forecast: (!b.forecast_pending).then_some(b.forecast),
            percent_used: Some(b.percent_used),
            ..Row::default()
        });
    }
    for (table, movers) in [
        ("top_mover", &f.top_movers),
        ("top_service", &f.top_services),
    ] {
        for m in movers {
            out.push(Row {
                table,
                label: defuse(&m.label),
                scope: defuse(&m.scope),
                currency: currency(),
                amount: Some(m.amount),
                previous: Some(m.previous),
                change: Some(m.change),
                ..Row::default()
            });
        }
    }
    for k in &page.allocation {
        let missing = k.kind.missing_value();
        let mut line = |label: String, scope: &str, amount: Money, share_pct: Option<f64>| {
            out.push(Row {
                table: "allocation",
                label: defuse(&label),
                scope: defuse(scope),
                currency: currency(),
                amount: Some(amount),
                share_pct,
                ..Row::default()
            });
        };
        for v in &k.values {
            line(
                format!("{}={}", k.key, v.value),
                &v.scope,
                v.amount,
                v.share_pct,
            );
        }
        if let Some(rest) = &k.rest {
            let label = format!("{} ({} more values)", k.key, rest.values);
            line(label, "", rest.amount, rest.share_pct);
        }
        let u = &k.unallocated;
        line(
            format!("{} ({missing})", k.key),
            &u.scope,
            u.amount,
            u.share_pct,
        );
    }
    out
}

/// The CSV's columns, in [`Row`]'s field order; written even when no row follows.
const COLUMNS: [&str; 13] = [
    "table",
    "label",
    "scope",
    "state",
    "since",
    "currency",
    "amount",
    "previous",
    "change",
    "limit",
    "forecast",
    "percent_used",
    "share_pct",
];

pub fn render_csv(page: &ReportPage) -> Result<String> {
    let render = |e: csv::Error| PipelineError::Render(e.to_string());
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer.write_record(COLUMNS).map_err(render)?;
    for row in rows(page) {
        writer.serialize(row).map_err(render)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| PipelineError::Render(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| PipelineError::Render(e.to_string()))
}

/// The three files, in [`ReportFile::ALL`] order.
pub fn archive_files(page: &ReportPage) -> Result<Vec<(ReportFile, Vec<u8>)>> {
    ReportFile::ALL
        .iter()
        .map(|file| {
            let text = match file {
                ReportFile::Html => render_page(page)?,
                ReportFile::Json => render_json(page)?,
                ReportFile::Csv => render_csv(page)?,
            };
            Ok((*file, text.into_bytes()))
        })
        .collect()
}

/// Writes the three files under `reports/<period>/dt=<last day>/` in the lake, where the API
/// lists them and the dashboard links them: the report Lambda's archive, and `costwatch run`'s
/// and `demo`'s beside their own output folder, so `costwatch serve` shows the reports too.
/// The keys written, HTML first.
pub async fn archive_report(
    lake: &dyn costwatch_store::LakeWriter,
    page: &ReportPage,
) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    for (file, body) in archive_files(page)? {
        let key = report_key(page.figures.period, page.figures.end, file);
        lake.put(&key, body).await?;
        keys.push(key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn formula_like_labels_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("prod / EC2"), "prod / EC2");
    }
}
