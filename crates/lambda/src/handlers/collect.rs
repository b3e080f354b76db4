//! collect: the EventBridge schedule → an incremental Cost Explorer pull into the lake (raw and
//! curated), the request ledger → `CostDataCollected` for the days (re)written. With
//! `COSTWATCH_COST_SOURCE=data-exports`, one Athena query over the Data Export's Glue table for
//! the days AWS may still revise instead (`costwatch_pipeline::data_exports`).

use chrono::{DateTime, Utc};
use costwatch_pipeline::data_exports::{DataExportsCollected, collect_data_exports};
use costwatch_pipeline::incremental::{
    CollectSettings, IncrementalOutcome, collect_incremental, mark_announced,
};
use costwatch_query::{Engine, ExportTable, Window};

use crate::athena::{ATHENA_DATABASE, ATHENA_TABLE, ATHENA_WORKGROUP, AthenaNames, athena_names};
use costwatch_store::{CostSource, LakeWriter, StateStore};

use crate::emf;
use crate::env::Env;
use crate::error::{HandlerError, Result};
use crate::events::{PipelineBus, PipelineEvent, scheduled_time};

pub const MAX_REQUESTS_PER_RUN: &str = "COSTWATCH_CE_MAX_REQUESTS_PER_RUN";
pub const RESTATE_DAYS: &str = "COSTWATCH_CE_RESTATE_DAYS";
pub const BACKFILL_DAYS: &str = "COSTWATCH_CE_BACKFILL_DAYS";
pub const TAG_KEYS: &str = "COSTWATCH_CE_TAG_KEYS";
pub const COST_CATEGORIES: &str = "COSTWATCH_CE_COST_CATEGORIES";
/// BillingAccountId on the records (template.yaml sets the stack's account).
pub const BILLING_ACCOUNT_ID: &str = "COSTWATCH_BILLING_ACCOUNT_ID";

/// `cost-explorer` (default) or `data-exports` (template parameter CostSource).
pub const COST_SOURCE: &str = "COSTWATCH_COST_SOURCE";

/// Where collect reads costs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceChoice {
    CostExplorer,
    /// The Data Export's Glue table, queried in the workgroup.
    DataExports(AthenaNames),
}

/// The source from the environment; the Athena names are required for Data Exports.
pub fn source_choice(env: &Env) -> Result<SourceChoice> {
    match env.optional(COST_SOURCE).unwrap_or("cost-explorer") {
        "cost-explorer" => Ok(SourceChoice::CostExplorer),
        "data-exports" => match athena_names(env)? {
            Some(names) => Ok(SourceChoice::DataExports(names)),
            None => Err(HandlerError::Config(format!(
                "{COST_SOURCE}=data-exports needs {ATHENA_WORKGROUP}, {ATHENA_DATABASE} and \
                 {ATHENA_TABLE}"
            ))),
        },
        other => Err(HandlerError::Config(format!(
            "{COST_SOURCE} must be cost-explorer or data-exports, got `{other}`"
        ))),
    }
}

pub struct DataExportsPorts<'a> {
    pub engine: &'a dyn Engine,
    pub table: &'a ExportTable,
    pub lake: &'a dyn LakeWriter,
    pub state: &'a dyn StateStore,
    pub events: &'a dyn PipelineBus,
}

/// One query for the days AWS may still revise on the scheduled day, those days' partitions
/// replaced, then `CostDataCollected` for all of them. Nothing is kept between runs, so a run
/// whose publish fails is simply run again by the schedule's retry (the same query, the same
/// partitions, the same announcement).
pub async fn handle_data_exports(
    ports: &DataExportsPorts<'_>,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<DataExportsCollected> {
    let today = scheduled_time(event)?.date_naive();
    let outcome = collect_data_exports(
        ports.engine,
        ports.table,
        ports.lake,
        Some(ports.state),
        Window::restated(today),
        now,
    )
    .await?;
    emf::athena_bytes_scanned(outcome.bytes_scanned);
    ports
        .events
        .publish(&PipelineEvent::CostDataCollected {
            days: outcome.days.clone(),
            records: outcome.records,
            requests: 0,
        })
        .await?;
    Ok(outcome)
}

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
