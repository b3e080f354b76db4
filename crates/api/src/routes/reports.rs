//! Archived reports (the report Lambda's and `costwatch run`'s `reports/<period>/dt=<day>/…` in
//! the lake): the list, one file, and `/reports/<day>`, the page the report envelope's
//! "Open the dashboard" link points at.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use costwatch_core::archive::{ReportFile, period_name, report_key};
use costwatch_core::notification::ReportPeriod;
use serde::Serialize;

use super::params::{Page, PageQuery};
use crate::{Api, Problem};

const PERIODS: [ReportPeriod; 2] = [ReportPeriod::Daily, ReportPeriod::Weekly];

#[derive(Serialize)]
pub struct ReportEntry {
    period: String,
    date: NaiveDate,
    /// File name → the API path that serves it.
    files: BTreeMap<String, String>,
}

/// `reports/daily/dt=2026-11-20/report.html` → (daily, 2026-11-20, report.html).
fn parse_key(key: &str) -> Option<(&str, NaiveDate, &str)> {
    let rest = key.strip_prefix("reports/")?;
    let mut parts = rest.splitn(3, '/');
    let period = parts.next()?;
    let date = parts.next()?.strip_prefix("dt=")?.parse().ok()?;
    let file = parts.next()?;
    Some((period, date, file))
}

pub async fn list(
    State(api): State<Arc<Api>>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ReportEntry>>, Problem> {
    let mut reports: BTreeMap<(NaiveDate, String), BTreeMap<String, String>> = BTreeMap::new();
    for key in api.lake.list("reports/").await? {
        if let Some((period, date, file)) = parse_key(&key) {
            reports
                .entry((date, period.to_owned()))
                .or_default()
                .insert(file.to_owned(), format!("/v1/{key}").replace("/dt=", "/"));
        }
    }
    // Newest first.
    let items = reports
        .into_iter()
        .rev()
        .map(|((date, period), files)| ReportEntry {
            period,
            date,
            files,
        })
        .collect();
    Ok(Json(page.page(items)?))
}

fn period(name: &str) -> Result<ReportPeriod, Problem> {
    PERIODS
        .into_iter()
        .find(|p| period_name(*p) == name)
        .ok_or_else(|| Problem::not_found(format!("no report period `{name}`")))
}

fn file(name: &str) -> Result<ReportFile, Problem> {
    ReportFile::ALL
        .into_iter()
        .find(|f| f.file_name() == name)
        .ok_or_else(|| Problem::not_found(format!("no report file `{name}`")))
}

async fn serve(
    api: &Api,
    period: ReportPeriod,
    date: NaiveDate,
    f: ReportFile,
) -> Result<Response, Problem> {
    let key = report_key(period, date, f);
    let body = api.lake.get(&key).await?.ok_or_else(|| {
        Problem::not_found(format!("no {} report for {date}", period_name(period)))
    })?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.content_type()),
    );
    Ok(response)
}

pub async fn fetch(
    State(api): State<Arc<Api>>,
    Path((p, date, f)): Path<(String, NaiveDate, String)>,
) -> Result<Response, Problem> {
    serve(&api, period(&p)?, date, file(&f)?).await
}

pub async fn page(
    State(api): State<Arc<Api>>,
    Path(date): Path<NaiveDate>,
) -> Result<Response, Problem> {
    serve(&api, ReportPeriod::Daily, date, ReportFile::Html).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse() {
        let (p, d, f) = parse_key("reports/weekly/dt=2026-11-20/report.csv").unwrap();
        assert_eq!(
            (p, d.to_string().as_str(), f),
            ("weekly", "2026-11-20", "report.csv")
        );
        assert!(parse_key("reports/daily/2026-11-20/report.csv").is_none());
        assert!(parse_key("curated/daily/dt=2026-11-20/x").is_none());
    }
}
