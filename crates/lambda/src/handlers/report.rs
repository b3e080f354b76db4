//! report: on the daily and weekly schedules → the report archived in the bucket under
//! `reports/` (HTML, JSON, CSV), then the report envelope on the notifications topic. Archive
//! first: an archive integration (Azure Blob) that reacts to the envelope finds the files there.

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::archive::report_key;
use costwatch_core::notification::ReportPeriod;
use costwatch_pipeline::archive::archive_files;
use costwatch_pipeline::run::build_report;
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
    /// Every archived file's key (HTML, JSON, CSV): one object each per period and day,
    /// replaced on a re-run (the versioned bucket keeps the old one).
    pub archived: Vec<String>,
}

pub async fn handle(
    ports: &Ports<'_>,
    archive: &dyn LakeWriter,
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
            archived: Vec::new(),
        });
    };
    let run = standing(ports.rollups, cfg, as_of).await?;
    let (envelope, page) = build_report(ports, cfg, &run, request.period, now).await?;
    let mut archived = Vec::new();
    for (file, body) in archive_files(&page)? {
        let key = report_key(request.period, as_of, file);
        archive.put(&key, body).await?;
        archived.push(key);
    }
    ports.bus.publish(&envelope).await?;
    Ok(ReportSummary {
        as_of: Some(as_of),
        envelope: Some(envelope.id),
        html: archived.first().cloned(),
        archived,
    })
}
