//! collect: the EventBridge schedule → an incremental Cost Explorer pull into the lake (raw and
//! curated), the request ledger → `CostDataCollected` for the days (re)written.

use chrono::{DateTime, Utc};
use costwatch_pipeline::incremental::{
    CollectSettings, IncrementalOutcome, collect_incremental, mark_announced,
};
use costwatch_store::{CostSource, LakeWriter, StateStore};

use crate::emf;
use crate::env::Env;
use crate::error::Result;
use crate::events::{PipelineBus, PipelineEvent, scheduled_time};

pub const MAX_REQUESTS_PER_RUN: &str = "COSTWATCH_CE_MAX_REQUESTS_PER_RUN";
pub const RESTATE_DAYS: &str = "COSTWATCH_CE_RESTATE_DAYS";
pub const BACKFILL_DAYS: &str = "COSTWATCH_CE_BACKFILL_DAYS";
pub const TAG_KEYS: &str = "COSTWATCH_CE_TAG_KEYS";
pub const COST_CATEGORIES: &str = "COSTWATCH_CE_COST_CATEGORIES";
/// BillingAccountId on the records (template.yaml sets the stack's account).
pub const BILLING_ACCOUNT_ID: &str = "COSTWATCH_BILLING_ACCOUNT_ID";

pub struct CollectPorts<'a> {
    pub source: &'a dyn CostSource,
    pub lake: &'a dyn LakeWriter,
    pub state: &'a dyn StateStore,
    pub events: &'a dyn PipelineBus,
}

/// The collect settings from the environment, validated.
pub fn settings(env: &Env) -> Result<CollectSettings> {
    let defaults = CollectSettings::default();
    let settings = CollectSettings {
        restate_days: env.number(RESTATE_DAYS, defaults.restate_days)?,
        backfill_days: env.number(BACKFILL_DAYS, defaults.backfill_days)?,
        max_requests_per_run: env.number(MAX_REQUESTS_PER_RUN, defaults.max_requests_per_run)?,
    };
    settings.validate()?;
    Ok(settings)
}

/// The run's day comes from the scheduled event's `time`, not the clock, so a replayed or
/// delayed event collects what it was meant to collect.
pub async fn handle(
    ports: &CollectPorts<'_>,
    settings: &CollectSettings,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<IncrementalOutcome> {
    let today = scheduled_time(event)?.date_naive();
    let outcome =
        collect_incremental(ports.source, ports.lake, ports.state, settings, today, now).await?;
    tracing::info!(
        requests = outcome.requests,
        capped = outcome.capped,
        days = outcome.days.len(),
        "{}",
        outcome.ledger_line
    );
    emf::cost_explorer_requests(outcome.requests);
    // The days are saved as "not yet announced" with the watermark: if this publish fails, the
    // next run announces them (with its own) instead of finding nothing changed.
    if !outcome.announce.is_empty() {
        ports
            .events
            .publish(&PipelineEvent::CostDataCollected {
                days: outcome.announce.clone(),
                records: outcome.records,
                requests: outcome.requests,
            })
            .await?;
        mark_announced(ports.state, &outcome.announce).await?;
    }
    Ok(outcome)
}
