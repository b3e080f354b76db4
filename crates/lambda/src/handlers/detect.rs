//! detect: `AggregatesUpdated` → anomaly detection with its lifecycle → envelopes on the
//! notifications topic.

use chrono::{DateTime, Utc};
use costwatch_pipeline::{PipelineConfig, Ports, detect_day};
use serde::Serialize;

use super::aggregates_updated;
use crate::error::Result;

#[derive(Debug, Serialize)]
pub struct DetectSummary {
    pub as_of: chrono::NaiveDate,
    /// Ids of the envelopes published (open, ongoing and resolved anomalies).
    pub published: Vec<String>,
}

pub async fn handle(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<DetectSummary> {
    let as_of = aggregates_updated(event, "detect")?;
    let published = detect_day(ports, cfg, as_of, now).await?;
    Ok(DetectSummary {
        as_of,
        published: published.into_iter().map(|n| n.id).collect(),
    })
}
