//! report: on the daily and weekly schedules → the report envelope on the notifications topic
//! and the HTML report in the bucket under `reports/`.

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::notification::ReportPeriod;
use costwatch_pipeline::html::render_page;
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::{PipelineConfig, Ports, standing};
use costwatch_store::LakeWriter;
use serde::{Deserialize, Serialize};

use crate::error::{HandlerError, Result};

/// The schedule's constant input (template.yaml): `{"period": "daily"}` or `"weekly"`, and an
/// optional day to report on (default: the last day with data), for re-running a report.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub period: ReportPeriod,
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct ReportSummary {
    pub as_of: Option<NaiveDate>,
    pub envelope: Option<String>,
    /// The HTML report's key in the bucket.
    pub html: Option<String>,
}

/// Where a report's HTML is kept: one object per period and day, replaced on a re-run.
pub fn html_key(period: ReportPeriod, as_of: NaiveDate) -> String {
    let period = match period {
        ReportPeriod::Daily => "daily",
        ReportPeriod::Weekly => "weekly",
    };
    format!("reports/{period}/dt={as_of}/report.html")
}

pub async fn handle(
    ports: &Ports<'_>,
    html_out: &dyn LakeWriter,
    cfg: &PipelineConfig,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<ReportSummary> {
    let request: ReportRequest = serde_json::from_value(event).map_err(|e| {
        HandlerError::Malformed(format!(
            "report takes {{\"period\": \"daily\" | \"weekly\"}}: {e}"
        ))
    })?;
    let as_of = match request.as_of {
        Some(day) => Some(day),
        None => ports.rollups.day_range().await?.map(|(_, last)| last),
    };
    let Some(as_of) = as_of else {
        tracing::info!("no cost data yet; no report");
        return Ok(ReportSummary {
            as_of: None,
            envelope: None,
            html: None,
        });
    };
    let run = standing(ports.rollups, cfg, as_of).await?;
    let (envelope, page) = report_day(ports, cfg, &run, request.period, now).await?;
    let key = html_key(request.period, as_of);
    html_out.put(&key, render_page(&page)?.into_bytes()).await?;
    Ok(ReportSummary {
        as_of: Some(as_of),
        envelope: Some(envelope.id),
        html: Some(key),
    })
}
