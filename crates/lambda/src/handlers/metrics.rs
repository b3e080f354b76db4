//! metrics: the EventBridge schedule → an incremental CloudWatch GetMetricData pull of the
//! watched series into the lake (`metrics/…/date=…/`), its request ledger, and the stream
//! detector over the new points; anomalies go out as envelopes on the notifications topic.

use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::metrics::{MetricsOutcome, MetricsPorts, MetricsSettings, run};
use costwatch_store::MetricQuery;

use crate::env::Env;
use crate::error::{HandlerError, Result};
use crate::events::scheduled_time;

/// The watched series as a JSON array of `{"metric": {"namespace", "name", "dimensions"},
/// "stat", "period_secs"}` (template parameter `WatchedMetrics`).
pub const WATCHED_METRICS: &str = "COSTWATCH_WATCHED_METRICS";
/// GetMetricData requests (pages) a run never passes (template parameter `CwMaxRequestsPerRun`).
pub const MAX_REQUESTS_PER_RUN: &str = "COSTWATCH_CW_MAX_REQUESTS_PER_RUN";
/// Hours of stored history the detector reads (template parameter `MetricsHistoryHours`).
pub const HISTORY_HOURS: &str = "COSTWATCH_METRICS_HISTORY_HOURS";

/// The metrics settings from the environment, validated: the cold start fails on a bad list.
pub fn settings(env: &Env) -> Result<MetricsSettings> {
    let defaults = MetricsSettings::default();
    let watch: Vec<MetricQuery> = match env.optional(WATCHED_METRICS) {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| HandlerError::Config(format!("{WATCHED_METRICS}: {e}")))?,
        None => Vec::new(),
    };
    let settings = MetricsSettings {
        watch,
        max_requests_per_run: env.number(MAX_REQUESTS_PER_RUN, defaults.max_requests_per_run)?,
        history_hours: env.number(HISTORY_HOURS, defaults.history_hours)?,
        ..defaults
    };
    settings.validate()?;
    Ok(settings)
}

/// The window ends at the scheduled event's `time`, not the clock, so a replayed or delayed
/// event pulls what it was meant to pull.
pub async fn handle(
    ports: &MetricsPorts<'_>,
    cfg: &PipelineConfig,
    settings: &MetricsSettings,
    event: serde_json::Value,
) -> Result<MetricsOutcome> {
    let at = scheduled_time(event)?;
    Ok(run(ports, cfg, settings, at).await?)
}
