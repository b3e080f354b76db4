//! detect: `AggregatesUpdated` → anomaly detection with its lifecycle → envelopes on the
//! notifications topic, then `AnomaliesDetected` on the pipeline topic (the daily report waits
//! for it); optionally merged with AWS Cost Anomaly Detection's own findings
//! (GetAnomalies), under the same ids (see `costwatch_pipeline::hybrid`). With a Data Export as
//! the cost source, every anomaly (imported ones too) gets its resource-level root cause from an
//! Athena query (`costwatch_pipeline::resource_causes`), and those queries go to the ledger.

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_pipeline::incremental::record_ledger;
use costwatch_pipeline::resource_causes::{ExportLines, ResourceLines};
use costwatch_pipeline::run::detect_day_with;
use costwatch_pipeline::{PipelineConfig, Ports, hybrid};
use costwatch_store::{AnomalySource, ImportedAnomaly, RequestBudget, StateStore};
use serde::Serialize;

use super::aggregates_updated;
use crate::athena::bill_queries;
use crate::emf;
use crate::env::Env;
use crate::error::Result;
use crate::events::{PipelineBus, PipelineEvent};

/// `true` turns the GetAnomalies import on (template parameter `ImportCostAnomalies`).
pub const IMPORT_ANOMALIES: &str = "COSTWATCH_IMPORT_ANOMALIES";
/// Pages of GetAnomalies a run may read ($0.01 each); default
/// [`hybrid::DEFAULT_IMPORT_REQUESTS`].
pub const IMPORT_MAX_REQUESTS: &str = "COSTWATCH_IMPORT_MAX_REQUESTS";

/// Tag keys that name a resource's owner in the resource-level root cause, first match wins;
/// default `owner,team`.
pub const OWNER_TAG_KEYS: &str = "COSTWATCH_OWNER_TAG_KEYS";

pub fn owner_tag_keys(env: &Env) -> Vec<String> {
    let keys = env.list(OWNER_TAG_KEYS);
    if keys.is_empty() {
        vec!["owner".into(), "team".into()]
    } else {
        keys
    }
}

/// Where AWS's findings come from, and how many requests a run may spend on them.
pub struct Import<'a> {
    pub source: &'a dyn AnomalySource,
    pub max_requests: u32,
}

/// The import's request cap when the environment turns it on; `None` when it is off.
pub fn import_requests(env: &Env) -> Result<Option<u32>> {
    match env.optional(IMPORT_ANOMALIES) {
        Some("true") => Ok(Some(
            env.number(IMPORT_MAX_REQUESTS, hybrid::DEFAULT_IMPORT_REQUESTS)?,
        )),
        _ => Ok(None),
    }
}

#[derive(Debug, Serialize)]
pub struct DetectSummary {
    pub as_of: NaiveDate,
    /// Ids of the envelopes published (open, ongoing and resolved anomalies).
    pub published: Vec<String>,
    /// Findings GetAnomalies returned for the window (0 when the import is off or failed).
    pub imported: usize,
    /// GetAnomalies requests made.
    pub import_requests: u32,
    /// Athena queries for resource-level root cause (Data Exports only).
    pub resource_queries: u64,
}

pub async fn handle(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    import: Option<&Import<'_>>,
    resources: Option<&ExportLines>,
    done: &dyn PipelineBus,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<DetectSummary> {
    let as_of = aggregates_updated(event, "detect")?;
    let (imported, import_requests) = match import {
        Some(import) => import_findings(import, ports.state, as_of, now).await?,
        None => (Vec::new(), 0),
    };
    let lines = resources.map(|r| r as &dyn ResourceLines);
    let published = detect_day_with(ports, lines, cfg, as_of, now, &imported).await?;
    let purpose = "resource-level root cause";
    let resource_queries = bill_queries(resources, ports.state, purpose, &[as_of], now).await?;
    // After the envelopes: the report that follows finds the day's anomalies in the state.
    done.publish(&PipelineEvent::AnomaliesDetected { as_of })
        .await?;
    Ok(DetectSummary {
        as_of,
        published: published.into_iter().map(|n| n.id).collect(),
        imported: imported.len(),
        import_requests,
        resource_queries,
    })
}

/// AWS's findings, with their requests in the ledger. A failed import (throttling, an outage,
/// a missing permission) is logged and detection goes on with ours alone: AWS's findings are a
/// complement, and the next runs still see them (the window is a week).
async fn import_findings(
    import: &Import<'_>,
    state: &dyn StateStore,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Vec<ImportedAnomaly>, u32)> {
    let budget = RequestBudget::new(import.max_requests);
    let found = hybrid::import(import.source, as_of, &budget).await;
    record_ledger(state, &budget, &[], now).await?;
    emf::cost_explorer_requests(budget.used());
    match found {
        Ok(found) => Ok((found, budget.used())),
        Err(error) => {
            tracing::warn!(%error, "GetAnomalies failed; detecting without AWS's findings");
            Ok((Vec::new(), budget.used()))
        }
    }
}
