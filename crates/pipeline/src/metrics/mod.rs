//! CloudWatch in: configured metric series are pulled into the lake incrementally, within a
//! request budget and with a request ledger, then judged by the stream detector; anomalies go
//! through the cost anomalies' lifecycle and envelopes ([`crate::detect::step`]).
//!
//! A run at `now`:
//! 1. The window: from the last pull's end − `overlap_minutes` (CloudWatch revises the latest
//!    points for a few minutes), or `now − backfill_hours` on the first run, to `now` (whole
//!    minutes). Nothing to do when the window is empty.
//! 2. One pull (GetMetricData in batches of ≤ 500 queries, paged) within
//!    `max_requests_per_run`; every series merged into its day objects under `metrics/` in the
//!    lake. The window's end becomes the new start only when the pull was complete: a capped or
//!    failed pull is repeated next time.
//! 3. The ledger: one item per run under `ledger/cloudwatch/run/` and a month total under
//!    `ledger/cloudwatch/month/YYYY-MM`, with requests and metrics requested (what is billed).
//! 4. Detection ([`detect`]) over the points the pull added.

mod detect;
mod settings;

use chrono::{DateTime, Duration, DurationRound, Utc};
use costwatch_core::Notification;
use costwatch_store::{MetricSource, MetricStore, RequestBudget, StateStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use detect::detect;
pub use settings::MetricsSettings;

use crate::PipelineConfig;
use crate::detect::LifecyclePorts;
use crate::error::{PipelineError, Result};
use crate::incremental::{add_to_totals, put_run_entry};

/// Where the pull and detection progress live in the state store.
pub const PROGRESS_KEY: &str = "metrics/progress";
pub const LEDGER_RUN_PREFIX: &str = "ledger/cloudwatch/run/";
pub const LEDGER_MONTH_PREFIX: &str = "ledger/cloudwatch/month/";

/// What the state store keeps between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// End of the last complete pull: the lake holds every point before it.
    pub pulled_until: Option<DateTime<Utc>>,
    /// Points before this were judged by the detector.
    pub detected_until: Option<DateTime<Utc>>,
}

/// The ports one run uses.
pub struct MetricsPorts<'a> {
    pub source: &'a dyn MetricSource,
    pub store: &'a dyn MetricStore,
    pub lifecycle: LifecyclePorts<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsOutcome {
    /// The window pulled; `None` when there was nothing to pull.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub series: usize,
    pub points: usize,
    /// GetMetricData requests (pages) made.
    pub requests: u32,
    /// Metrics requested over those requests: what CloudWatch bills.
    pub metrics_requested: u64,
    /// False when the request cap cut the pull short (the window is pulled again next run).
    pub complete: bool,
    /// "2 GetMetricData requests, 600 metrics = $0.00600"
    pub ledger_line: String,
    /// Ids of the anomaly envelopes published.
    pub published: Vec<String>,
}

/// "2 GetMetricData requests, 600 metrics = $0.00600": $0.01 per 1,000 metrics requested.
pub fn ledger_line(requests: u32, metrics: u64) -> String {
    format!(
        "{requests} GetMetricData requests, {metrics} metrics = {}",
        metric_dollars(metrics)
    )
}

/// Dollars for `metrics` requested at $0.01 per 1,000 (five decimals: one metric is $0.00001).
pub fn metric_dollars(metrics: u64) -> String {
    format!("${}.{:05}", metrics / 100_000, metrics % 100_000)
}

/// One scheduled run: pull, ledger, detect. The ledger is written whatever the pull's outcome
/// once a request may have been made.
pub async fn run(
    ports: &MetricsPorts<'_>,
    cfg: &PipelineConfig,
    settings: &MetricsSettings,
    now: DateTime<Utc>,
) -> Result<MetricsOutcome> {
    let state = ports.lifecycle.state;
    let (mut progress, version) = load_progress(state).await?;
    let end = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let start = match progress.pulled_until {
        Some(until) => until - Duration::minutes(i64::from(settings.overlap_minutes)),
        None => end - Duration::hours(i64::from(settings.backfill_hours)),
    };
    let mut outcome = MetricsOutcome {
        window: None,
        series: 0,
        points: 0,
        requests: 0,
        metrics_requested: 0,
        complete: true,
        ledger_line: ledger_line(0, 0),
        published: Vec::new(),
    };
    if settings.watch.is_empty() || start >= end {
        return Ok(outcome);
    }
    outcome.window = Some((start, end));
    let budget = RequestBudget::new(settings.max_requests_per_run);
    let pulled = ports
        .source
        .fetch(&settings.watch, start, end, &budget)
        .await;
    // A failed pull still made its requests (the ledger counts them); the metrics of the
    // batches it did read are lost with it, so the month total may run a little low.
    let metrics = pulled.as_ref().map_or(0, |p| p.metrics_requested);
    outcome.requests = budget.used();
    outcome.metrics_requested = metrics;
    outcome.ledger_line = record_ledger(state, &budget, metrics, (start, end), now).await?;
    let pull = pulled?;
    outcome.complete = pull.complete;
    for series in &pull.series {
        ports.store.put_series(series).await?;
        outcome.points += series.points.len();
    }
    outcome.series = pull.series.len();
    if pull.complete {
        progress.pulled_until = Some(end);
    }
    let judged_from = progress.detected_until.unwrap_or(start);
    if let Some(until) = progress.pulled_until.filter(|u| *u > judged_from) {
        let published = detect(ports, cfg, settings, judged_from, until, now).await?;
        outcome.published = published.into_iter().map(|n: Notification| n.id).collect();
        progress.detected_until = Some(until);
    }
    save_progress(state, &progress, version).await?;
    tracing::info!(
        requests = outcome.requests,
        metrics = outcome.metrics_requested,
        complete = outcome.complete,
        points = outcome.points,
        published = outcome.published.len(),
        "{}",
        outcome.ledger_line
    );
    Ok(outcome)
}

async fn load_progress(state: &dyn StateStore) -> Result<(Progress, Option<u64>)> {
    Ok(match state.get(PROGRESS_KEY).await? {
        None => (Progress::default(), None),
        Some(v) => (
            serde_json::from_value(v.value).map_err(|e| corrupt(e.to_string()))?,
            Some(v.version),
        ),
    })
}

async fn save_progress(
    state: &dyn StateStore,
    progress: &Progress,
    version: Option<u64>,
) -> Result<()> {
    let value = serde_json::to_value(progress).map_err(|e| corrupt(e.to_string()))?;
    state.put(PROGRESS_KEY, value, version, None).await?;
    Ok(())
}

fn corrupt(reason: String) -> PipelineError {
    PipelineError::Store(StoreError::Corrupt {
        path: PROGRESS_KEY.to_owned(),
        reason,
    })
}

/// The run's ledger item and the month's totals (requests, metrics, runs); returns the line.
async fn record_ledger(
    state: &dyn StateStore,
    budget: &RequestBudget,
    metrics: u64,
    window: (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Result<String> {
    let requests = budget.used();
    let line = ledger_line(requests, metrics);
    let entry = json!({
        "at": now,
        "requests": requests,
        "metrics": metrics,
        "limit": budget.limit(),
        "capped": budget.capped(),
        "dollars": metric_dollars(metrics),
        "window": [window.0, window.1],
        "text": line,
    });
    put_run_entry(state, LEDGER_RUN_PREFIX, entry, now).await?;
    let month = now.format("%Y-%m").to_string();
    let key = format!("{LEDGER_MONTH_PREFIX}{month}");
    let counts = [
        ("requests", u64::from(requests)),
        ("metrics", metrics),
        ("runs", 1),
    ];
    add_to_totals(state, &key, &counts, |t| {
        let (requests, metrics) = (t["requests"], t["metrics"]);
        json!({
            "month": month,
            "dollars": metric_dollars(metrics),
            "text": format!("{requests} GetMetricData requests, {metrics} metrics = {}", metric_dollars(metrics)),
        })
    })
    .await?;
    Ok(line)
}
