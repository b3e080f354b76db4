//! report: the daily report follows the data — it goes out when both of the day's
//! `AnomaliesDetected` (detect) and `ForecastsUpdated` (forecast) have arrived on the pipeline
//! topic, whichever comes second. The daily schedule stays as a fallback: it reports the last
//! day with data unless the chain already has, and says in the report which step did not
//! finish. The weekly report runs on its schedule. Each report is archived in the bucket under
//! `reports/` (HTML, JSON, CSV), then its envelope goes on the notifications topic: an archive
//! integration (Azure Blob) that reacts to the envelope finds the files there.

use chrono::{DateTime, Days, NaiveDate, Utc};
use costwatch_core::notification::ReportPeriod;
use costwatch_pipeline::archive::archive_report;
use costwatch_pipeline::run::build_report;
use costwatch_pipeline::{PipelineConfig, Ports, standing};
use costwatch_store::{LakeWriter, StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::error::{HandlerError, Result};
use crate::events::{PipelineEvent, from_sns};

/// The schedule's constant input (template.yaml): `{"period": "daily"}` or `"weekly"`, and an
/// optional day to report on (default: the last day with data), for re-running a report.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub period: ReportPeriod,
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

/// The steps a day's report waits for, as the report names them when one is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Detect,
    Forecast,
}

impl Step {
    const ALL: [Step; 2] = [Step::Detect, Step::Forecast];

    /// What a report without this step lacks, for its envelope and page.
    fn missing_note(self, day: NaiveDate) -> String {
        match self {
            Step::Detect => format!(
                "Incomplete: anomaly detection did not finish for {day}; anomalies may be missing."
            ),
            Step::Forecast => format!(
                "Incomplete: forecasts and budgets were not updated for {day}; their figures may be a day old."
            ),
        }
    }
}

/// A day's progress in the state store: which steps finished, and whether its daily report
/// went out (its envelope id), so a duplicate delivery or the fallback does not send another.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    #[serde(default)]
    done: Vec<Step>,
    #[serde(default)]
    reported: Option<String>,
}

/// State key of a day's report progress.
pub fn progress_key(day: NaiveDate) -> String {
    format!("report#day#{day}")
}

/// Progress items go after a month (DynamoDB TTL): nobody re-runs a chain older than that.
const PROGRESS_DAYS: u64 = 35;
/// Optimistic-concurrency attempts when detect's and forecast's completions arrive together.
const ATTEMPTS: usize = 5;

#[derive(Debug, Default, Serialize)]
pub struct ReportSummary {
    pub as_of: Option<NaiveDate>,
    pub envelope: Option<String>,
    /// The HTML report's key in the bucket.
    pub html: Option<String>,
    /// Every archived file's key (HTML, JSON, CSV): one object each per period and day,
    /// replaced on a re-run (the versioned bucket keeps the old one).
    pub archived: Vec<String>,
    /// The steps that had not finished for `as_of` when the report went out (fallback only).
    pub missing: Vec<Step>,
    /// Why nothing was sent, when nothing was.
    pub skipped: Option<String>,
}

/// An SNS invocation of pipeline completions, or a schedule's `{"period": …}`.
pub async fn handle(
    ports: &Ports<'_>,
    archive: &dyn LakeWriter,
    cfg: &PipelineConfig,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<ReportSummary> {
    if event.get("Records").is_some() {
        return after_chain(ports, archive, cfg, event, now).await;
    }
    let request: ReportRequest = serde_json::from_value(event).map_err(|e| {
        HandlerError::Malformed(format!(
            "report takes {{\"period\": \"daily\" | \"weekly\"}} or the pipeline's AnomaliesDetected / ForecastsUpdated over SNS: {e}"
        ))
    })?;
    let as_of = match request.as_of {
        Some(day) => Some(day),
        None => ports.rollups.day_range().await?.map(|(_, last)| last),
    };
    let Some(as_of) = as_of else {
        tracing::info!("no cost data yet; no report");
        return Ok(skipped(None, "no cost data yet"));
    };
    let progress = read(ports.state, as_of).await?.0;
    let scheduled_daily = request.period == ReportPeriod::Daily && request.as_of.is_none();
    if scheduled_daily && let Some(id) = &progress.reported {
        tracing::info!(%as_of, envelope = %id, "the chain already reported this day");
        return Ok(skipped(
            Some(as_of),
            "already reported after detect and forecast",
        ));
    }
    let missing: Vec<Step> = Step::ALL
        .into_iter()
        .filter(|s| !progress.done.contains(s))
        .collect();
    let summary = send(ports, archive, cfg, request.period, as_of, &missing, now).await?;
    if scheduled_daily {
        record(ports.state, as_of, now, |p| {
            p.reported
                .get_or_insert_with(|| summary.envelope.clone().unwrap_or_default());
        })
        .await?;
    }
    Ok(summary)
}

/// detect's and forecast's completions: each is recorded for its day; the one that completes
/// the pair sends the day's report, once.
async fn after_chain(
    ports: &Ports<'_>,
    archive: &dyn LakeWriter,
    cfg: &PipelineConfig,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<ReportSummary> {
    let mut finished = Vec::new();
    for e in from_sns(event)? {
        finished.push(match e {
            PipelineEvent::AnomaliesDetected { as_of } => (as_of, Step::Detect),
            PipelineEvent::ForecastsUpdated { as_of } => (as_of, Step::Forecast),
            other => {
                return Err(HandlerError::Malformed(format!(
                    "report takes AnomaliesDetected and ForecastsUpdated events, got {}",
                    other.name()
                )));
            }
        });
    }
    let mut summary = skipped(None, "waiting for the other step");
    for (day, step) in finished {
        let progress = record(ports.state, day, now, |p| {
            if !p.done.contains(&step) {
                p.done.push(step);
                p.done.sort();
            }
        })
        .await?;
        if progress.reported.is_some() {
            summary = skipped(Some(day), "already reported");
            continue;
        }
        if progress.done.len() < Step::ALL.len() {
            summary = skipped(Some(day), "waiting for the other step");
            continue;
        }
        // A failure from here on is retried by Lambda with the same event: the day is complete
        // and not yet reported, so the retry sends it. Two deliveries racing past this point
        // publish the same envelope id, which the dispatchers' ledgers deliver once.
        summary = send(ports, archive, cfg, ReportPeriod::Daily, day, &[], now).await?;
        let id = summary.envelope.clone().unwrap_or_default();
        record(ports.state, day, now, |p| {
            p.reported.get_or_insert_with(|| id.clone());
        })
        .await?;
    }
    Ok(summary)
}

fn skipped(as_of: Option<NaiveDate>, why: &str) -> ReportSummary {
    ReportSummary {
        as_of,
        skipped: Some(why.to_owned()),
        ..ReportSummary::default()
    }
}

/// Builds, archives and publishes the report on `as_of`, naming the steps that had not finished.
async fn send(
    ports: &Ports<'_>,
    archive: &dyn LakeWriter,
    cfg: &PipelineConfig,
    period: ReportPeriod,
    as_of: NaiveDate,
    missing: &[Step],
    now: DateTime<Utc>,
) -> Result<ReportSummary> {
    let run = standing(ports.rollups, cfg, as_of).await?;
    let (mut envelope, mut page) = build_report(ports, cfg, &run, period, now).await?;
    for step in missing {
        let note = step.missing_note(as_of);
        envelope.summary = format!("{note} {}", envelope.summary);
        page.notes.push(note);
    }
    let archived = archive_report(archive, &page).await?;
    ports.bus.publish(&envelope).await?;
    Ok(ReportSummary {
        as_of: Some(as_of),
        envelope: Some(envelope.id),
        html: archived.first().cloned(),
        archived,
        missing: missing.to_vec(),
        skipped: None,
    })
}

async fn read(state: &dyn StateStore, day: NaiveDate) -> Result<(Progress, Option<u64>)> {
    match state.get(&progress_key(day)).await? {
        None => Ok((Progress::default(), None)),
        Some(item) => {
            let progress = serde_json::from_value(item.value)
                .map_err(|e| HandlerError::Malformed(format!("{}: {e}", progress_key(day))))?;
            Ok((progress, Some(item.version)))
        }
    }
}

/// Applies `change` to the day's progress under optimistic concurrency (detect's and
/// forecast's completions may be handled at the same time) and returns what was written.
async fn record(
    state: &dyn StateStore,
    day: NaiveDate,
    now: DateTime<Utc>,
    change: impl Fn(&mut Progress),
) -> Result<Progress> {
    let expires = now + Days::new(PROGRESS_DAYS);
    let mut attempt = 0;
    loop {
        let (mut progress, version) = read(state, day).await?;
        change(&mut progress);
        let value = serde_json::to_value(&progress).expect("progress serialises");
        match state
            .put(&progress_key(day), value, version, Some(expires))
            .await
        {
            Ok(_) => return Ok(progress),
            Err(StoreError::Conflict { .. }) if attempt + 1 < ATTEMPTS => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
