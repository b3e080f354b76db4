//! Incremental collection from a source that revises recent days (Cost Explorer), within a
//! per-run request cap, with a request ledger in the state store.
//!
//! A run, on `today`:
//! 1. The window: from the watermark (last day fully collected) − `restate_days` + 1, or
//!    `today − backfill_days` on the first run, to yesterday (today is still partial).
//! 2. One ungrouped probe for the window's daily totals, compared with the totals stored when
//!    each day was collected: only days that are new, or whose totals moved, are pulled.
//!    (A source without a probe, such as files, pulls the whole window: reading is free.)
//! 3. The grouped pull of those days, oldest first, within the budget; a day cut off by the
//!    cap is neither written nor marked collected, so the next run continues with it.
//! 4. Raw and curated partitions of the days pulled are replaced, their totals stored, the
//!    watermark moved, and a ledger entry written (also when the run fails half-way: the
//!    requests were made).
//!
//! A quiet daily run is therefore two requests (+1 per tag key or cost category): the probe
//! and the new day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use costwatch_store::{
    CostSource, DayTotal, LakeWriter, RequestBudget, StateStore, StoreError, Versioned,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::collect::{group_by_day, write_days};
use crate::error::{PipelineError, Result};
use crate::lake::raw_prefix;

/// Where the watermark and the collected days' totals live in the state store.
pub const PROGRESS_KEY: &str = "collect/progress";
/// One item per run: `ledger/cost-explorer/run/<RFC 3339 time>`, expiring after
/// [`LEDGER_RUN_TTL_DAYS`].
pub const LEDGER_RUN_PREFIX: &str = "ledger/cost-explorer/run/";
/// The running total per month: `ledger/cost-explorer/month/YYYY-MM`, kept.
pub const LEDGER_MONTH_PREFIX: &str = "ledger/cost-explorer/month/";
pub const LEDGER_RUN_TTL_DAYS: u64 = 400;
/// Cost Explorer API price: $0.01 per request (each page is a request).
pub const CENTS_PER_REQUEST: u64 = 1;
/// Cost Explorer keeps about 14 months of daily data; older days cannot be asked for.
const MAX_BACKFILL_DAYS: u32 = 425;
/// Attempts at the month total before giving up on a busy item.
const MONTH_TOTAL_ATTEMPTS: usize = 10;
/// Days before the watermark a run checks again by default: Cost Explorer revises a day for a
/// few days after it first reports it, as usage, credits and discounts settle.
pub const DEFAULT_RESTATE_DAYS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectSettings {
    /// Days before the watermark checked again for revisions on every run.
    pub restate_days: u32,
    /// Days pulled on the first run (ending yesterday).
    pub backfill_days: u32,
    /// Requests (pages and retries included) a run never passes.
    pub max_requests_per_run: u32,
}

impl Default for CollectSettings {
    fn default() -> Self {
        Self {
            restate_days: DEFAULT_RESTATE_DAYS,
            backfill_days: 90,
            max_requests_per_run: 20,
        }
    }
}

impl CollectSettings {
    /// Checks what serde cannot, without I/O.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PipelineError::Config(m));
        if !(1..=MAX_BACKFILL_DAYS).contains(&self.backfill_days) {
            return bad(format!(
                "backfill_days must be 1 to {MAX_BACKFILL_DAYS} (Cost Explorer keeps about 14 \
                 months of daily data), got {}",
                self.backfill_days
            ));
        }
        // The window never reaches before the backfill horizon, so a restate period longer
        // than the backfill only means "restate everything".
        if self.restate_days > MAX_BACKFILL_DAYS {
            return bad(format!(
                "restate_days must be at most {MAX_BACKFILL_DAYS}, got {}",
                self.restate_days
            ));
        }
        if self.max_requests_per_run < 2 {
            return bad(format!(
                "max_requests_per_run must be at least 2 (the probe and one pull), got {}",
                self.max_requests_per_run
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncrementalOutcome {
    /// Days whose partitions were (re)written: aggregate's input.
    pub days: Vec<NaiveDate>,
    /// Account × service records written.
    pub records: usize,
    /// Tag and cost-category breakdown records written.
    pub breakdown_records: usize,
    /// Requests made (pages and retries included).
    pub requests: u32,
    /// Of those, answered with throttling.
    pub throttled: u32,
    /// The cap stopped the run: `pending` waits for the next one.
    pub capped: bool,
    /// "N Cost Explorer requests = $0.0N"
    pub ledger_line: String,
    /// Requests this month so far, this run included.
    pub month_requests: u64,
    /// First and last day looked at; `None` when there was nothing to look at.
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Days wanted but not fetched because of the cap.
    pub pending: Vec<NaiveDate>,
    /// Last day fully collected, after this run.
    pub watermark: Option<NaiveDate>,
    /// Days to announce (`CostDataCollected`): this run's `days` and any an earlier run wrote but
    /// could not announce. Call [`mark_announced`] once they are published.
    pub announce: Vec<NaiveDate>,
}

/// What the state store keeps between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Progress {
    watermark: Option<NaiveDate>,
    /// The probe's totals of each day when it was last collected.
    #[serde(default)]
    totals: BTreeMap<NaiveDate, DayTotal>,
    /// Written to the lake, watermark moved, but not yet announced to aggregate. Saved with the
    /// watermark, so a failed publish is retried by the next run instead of losing the days (the
    /// next probe finds their totals unchanged and would not pull them again).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    unannounced: BTreeSet<NaiveDate>,
}

/// "2 Cost Explorer requests = $0.02".
pub fn ledger_line(requests: u32) -> String {
    format!(
        "{requests} Cost Explorer requests = {}",
        dollars(u64::from(requests))
    )
}

/// Dollars for `requests` at $0.01 each, in whole cents: 1 → "$0.01", 250 → "$2.50".
pub fn dollars(requests: u64) -> String {
    let cents = requests.saturating_mul(CENTS_PER_REQUEST);
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// One incremental run; see the module documentation. The ledger entry is written whatever
/// happens after the first request.
pub async fn collect_incremental(
    source: &dyn CostSource,
    lake: &dyn LakeWriter,
    state: &dyn StateStore,
    settings: &CollectSettings,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<IncrementalOutcome> {
    settings.validate()?;
    let budget = RequestBudget::new(settings.max_requests_per_run);
    let collected = collect_within(source, lake, state, settings, today, &budget).await;
    let days = collected
        .as_ref()
        .map(|c| c.days.clone())
        .unwrap_or_default();
    let ledger = record_ledger(state, &budget, &days, now).await;
    match (collected, ledger) {
        (Ok(mut outcome), Ok((line, month))) => {
            outcome.requests = budget.used();
            outcome.throttled = budget.throttled();
            outcome.capped = budget.capped();
            outcome.ledger_line = line;
            outcome.month_requests = month;
            if outcome.capped {
                tracing::warn!(
                    limit = budget.limit(),
                    pending = outcome.pending.len(),
                    "Cost Explorer request cap reached: the next run continues"
                );
            }
            Ok(outcome)
        }
        (Ok(_), Err(e)) => Err(e),
        (Err(e), ledger) => {
            if let Err(ledger_error) = ledger {
                tracing::error!(%ledger_error, "the request ledger could not be written");
            }
            Err(e)
        }
    }
}

async fn collect_within(
    source: &dyn CostSource,
    lake: &dyn LakeWriter,
    state: &dyn StateStore,
    settings: &CollectSettings,
    today: NaiveDate,
    budget: &RequestBudget,
) -> Result<IncrementalOutcome> {
    let (mut progress, version) = read_progress(state).await?;
    let before = |days: u32| today.checked_sub_days(Days::new(u64::from(days)));
    let (Some(yesterday), Some(horizon)) = (before(1), before(settings.backfill_days)) else {
        return Err(PipelineError::Config(format!("no window before {today}")));
    };
    let start = match progress.watermark {
        Some(mark) => mark
            .checked_add_days(Days::new(1))
            .and_then(|d| d.checked_sub_days(Days::new(u64::from(settings.restate_days))))
            .map_or(horizon, |d| d.max(horizon)),
        None => horizon,
    };
    let mut outcome = IncrementalOutcome {
        days: Vec::new(),
        records: 0,
        breakdown_records: 0,
        requests: 0,
        throttled: 0,
        capped: false,
        ledger_line: String::new(),
        month_requests: 0,
        window: None,
        pending: Vec::new(),
        watermark: progress.watermark,
        announce: progress.unannounced.iter().copied().collect(),
    };
    if start > yesterday {
        return Ok(outcome);
    }
    outcome.window = Some((start, yesterday));
    let window: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= yesterday).collect();

    let probe = source.probe_totals(start, yesterday, budget).await?;
    if budget.capped() {
        // The probe itself was cut off (throttled until the cap): nothing is known to have
        // changed, so nothing moves; the next run starts over.
        outcome.pending = window;
        return Ok(outcome);
    }
    let wanted: Vec<NaiveDate> = window
        .iter()
        .copied()
        .filter(|day| match &probe {
            None => true,
            Some(now) => match (now.get(day), progress.totals.get(day)) {
                (Some(now), Some(then)) => now != then,
                _ => true,
            },
        })
        .collect();
    tracing::info!(%start, %yesterday, wanted = wanted.len(), probed = probe.is_some(),
        "collect window");

    let pull = if wanted.is_empty() {
        Default::default()
    } else {
        source.fetch_days(&wanted, budget).await?
    };
    let complete: BTreeSet<NaiveDate> = pull
        .complete
        .iter()
        .copied()
        .filter(|d| wanted.contains(d))
        .collect();
    let days: Vec<NaiveDate> = complete.iter().copied().collect();

    if !pull.raw_source.is_empty() {
        for day in &days {
            lake.delete_prefix(&raw_prefix(&pull.raw_source, *day))
                .await?;
        }
        for (day, name, body) in pull.raw {
            if complete.contains(&day) {
                let key = format!("{}{name}", raw_prefix(&pull.raw_source, day));
                lake.put(&key, body).await?;
            }
        }
    }
    let keep = |records: Vec<costwatch_core::CostRecord>| {
        records
            .into_iter()
            .filter(|r| complete.contains(&r.day()))
            .collect::<Vec<_>>()
    };
    let records = group_by_day(keep(pull.records));
    let breakdown = group_by_day(keep(pull.breakdown));
    write_days(lake, &days, &records, &breakdown).await?;

    let pending: Vec<NaiveDate> = wanted
        .iter()
        .copied()
        .filter(|d| !complete.contains(d))
        .collect();
    // Collected up to the day before the first day still pending; that may move the watermark
    // back when a revised day could not be re-pulled, so the next window includes it again.
    let watermark = match pending.first() {
        Some(first) => first
            .pred_opt()
            .filter(|d| *d >= start || progress.watermark.is_some()),
        None => Some(yesterday),
    };
    if let Some(probe) = &probe {
        for day in &days {
            if let Some(total) = probe.get(day) {
                progress.totals.insert(*day, *total);
            }
        }
    }
    if let Some(mark) = watermark {
        // The next window starts `restate_days` before the watermark; a revision the cap cuts
        // off there moves the watermark back once more, so keep twice that.
        let keep_from = mark
            .checked_add_days(Days::new(1))
            .and_then(|d| d.checked_sub_days(Days::new(2 * u64::from(settings.restate_days))))
            .unwrap_or(mark);
        progress.totals.retain(|day, _| *day >= keep_from);
    }
    progress.watermark = watermark;
    progress.unannounced.extend(days.iter().copied());
    write_progress(state, &progress, version).await?;

    outcome.records = records.values().map(Vec::len).sum();
    outcome.breakdown_records = breakdown.values().map(Vec::len).sum();
    outcome.days = days;
    outcome.pending = pending;
    outcome.watermark = watermark;
    outcome.announce = progress.unannounced.iter().copied().collect();
    Ok(outcome)
}

/// After `CostDataCollected` for `days` was published: they leave the unannounced set. A
/// concurrent run's write wins (conflict); the days are then announced once more by the next
/// run, which aggregate takes as a no-op rewrite — announcing twice is safe, never announcing is
/// not.
pub async fn mark_announced(state: &dyn StateStore, days: &[NaiveDate]) -> Result<()> {
    if days.is_empty() {
        return Ok(());
    }
    let (mut progress, version) = read_progress(state).await?;
    let before = progress.unannounced.len();
    progress.unannounced.retain(|d| !days.contains(d));
    if progress.unannounced.len() == before {
        return Ok(());
    }
    match write_progress(state, &progress, version).await {
        Err(PipelineError::Store(StoreError::Conflict { .. })) => {
            tracing::warn!(
                "collect progress changed while marking days announced: the next run announces them again"
            );
            Ok(())
        }
        other => other,
    }
}

async fn read_progress(state: &dyn StateStore) -> Result<(Progress, Option<u64>)> {
    match state.get(PROGRESS_KEY).await? {
        None => Ok((Progress::default(), None)),
        Some(Versioned { value, version }) => {
            let progress = serde_json::from_value(value).map_err(|e| {
                PipelineError::Store(StoreError::Corrupt {
                    path: PROGRESS_KEY.to_owned(),
                    reason: e.to_string(),
                })
            })?;
            Ok((progress, Some(version)))
        }
    }
}

/// Conditional on the version read at the start: of two runs racing, the second fails with a
/// (retryable) conflict instead of overwriting the first's progress.
async fn write_progress(
    state: &dyn StateStore,
    progress: &Progress,
    version: Option<u64>,
) -> Result<()> {
    let value = serde_json::to_value(progress).map_err(|e| {
        PipelineError::Store(StoreError::Corrupt {
            path: PROGRESS_KEY.to_owned(),
            reason: e.to_string(),
        })
    })?;
    state.put(PROGRESS_KEY, value, version, None).await?;
    Ok(())
}

/// Stores the run's entry and adds it to the month's total; returns the ledger line and the
/// month's requests so far. Every Cost Explorer call goes through here, GetAnomalies too
/// (`days` empty): each request is billed the same $0.01.
pub async fn record_ledger(
    state: &dyn StateStore,
    budget: &RequestBudget,
    days: &[NaiveDate],
    now: DateTime<Utc>,
) -> Result<(String, u64)> {
    let requests = budget.used();
    let line = ledger_line(requests);
    let entry = json!({
        "at": now,
        "requests": requests,
        "throttled": budget.throttled(),
        "limit": budget.limit(),
        "capped": budget.capped(),
        "cents": u64::from(requests) * CENTS_PER_REQUEST,
        "dollars": dollars(u64::from(requests)),
        "days": days,
        "text": line,
    });
    put_run_entry(state, LEDGER_RUN_PREFIX, entry, now).await?;
    let month = add_to_month(state, requests, now).await?;
    tracing::info!(
        requests,
        throttled = budget.throttled(),
        capped = budget.capped(),
        month_requests = month,
        "{line}"
    );
    Ok((line, month))
}

/// Stores one run's ledger item under `prefix` + the run's time, expiring after
/// [`LEDGER_RUN_TTL_DAYS`]. Shared by every billed source's ledger (Cost Explorer, CloudWatch).
pub(crate) async fn put_run_entry(
    state: &dyn StateStore,
    prefix: &str,
    entry: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let expires = now.checked_add_days(Days::new(LEDGER_RUN_TTL_DAYS));
    let stamp = now.format("%Y-%m-%dT%H:%M:%S%.6fZ");
    // Two runs in the same microsecond would share a key: the second takes the next suffix.
    for n in 0.. {
        let key = match n {
            0 => format!("{prefix}{stamp}"),
            n => format!("{prefix}{stamp}-{n}"),
        };
        match state.put(&key, entry.clone(), None, expires).await {
            Ok(_) => break,
            Err(StoreError::Conflict { .. }) if n < 9 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn add_to_month(state: &dyn StateStore, requests: u32, now: DateTime<Utc>) -> Result<u64> {
    let month = now.format("%Y-%m").to_string();
    let key = format!("{LEDGER_MONTH_PREFIX}{month}");
    let totals = add_to_totals(
        state,
        &key,
        &[("requests", u64::from(requests)), ("runs", 1)],
        |t| {
            let requests = t.get("requests").copied().unwrap_or(0);
            json!({
                "month": month,
                "cents": requests * CENTS_PER_REQUEST,
                "dollars": dollars(requests),
                "text": format!("{requests} Cost Explorer requests = {}", dollars(requests)),
            })
        },
    )
    .await?;
    Ok(totals.get("requests").copied().unwrap_or(0))
}

/// Adds `counts` to the counters stored under `key`, with the fields `derive` computes from the
/// new totals beside them. Read, add, write only if nobody wrote in between (the port's
/// `put(expected version)`), re-reading on conflict: two concurrent runs both get counted.
pub(crate) async fn add_to_totals(
    state: &dyn StateStore,
    key: &str,
    counts: &[(&str, u64)],
    derive: impl Fn(&BTreeMap<String, u64>) -> serde_json::Value,
) -> Result<BTreeMap<String, u64>> {
    for _ in 0..MONTH_TOTAL_ATTEMPTS {
        let (stored, version) = match state.get(key).await? {
            None => (serde_json::Value::Null, None),
            Some(Versioned { value, version }) => (value, Some(version)),
        };
        let totals: BTreeMap<String, u64> = counts
            .iter()
            .map(|(name, add)| {
                let before = stored[*name].as_u64().unwrap_or(0);
                ((*name).to_owned(), before + add)
            })
            .collect();
        let mut value = derive(&totals);
        if let Some(fields) = value.as_object_mut() {
            for (name, total) in &totals {
                fields.insert(name.clone(), json!(total));
            }
        }
        match state.put(key, value, version, None).await {
            Ok(_) => return Ok(totals),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PipelineError::Store(StoreError::Conflict {
        key: key.to_owned(),
        expected: None,
        found: None,
    }))
}

#[cfg(test)]
mod tests {
    use costwatch_core::CostRecord;
    use costwatch_store::MemoryStore;
    use costwatch_store::memory::MemoryCostSource;

    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
    }

    fn record(on: NaiveDate) -> CostRecord {
        let start = on.and_hms_opt(0, 0, 0).unwrap().and_utc();
        CostRecord {
            charge_period_start: start,
            charge_period_end: start + chrono::Duration::days(1),
            billing_account_id: "999".into(),
            billing_account_name: None,
            sub_account_id: "111".into(),
            sub_account_name: None,
            service_name: "Amazon S3".into(),
            service_category: None,
            region_id: None,
            charge_category: costwatch_core::ChargeCategory::Usage,
            charge_frequency: None,
            billed_cost: 1.into(),
            effective_cost: 1.into(),
            list_cost: None,
            billing_currency: "USD".into(),
            tags: Default::default(),
            resource_id: None,
            x_usage_type: None,
            x_cost_categories: Default::default(),
        }
    }

    fn settings(backfill_days: u32, max_requests_per_run: u32) -> CollectSettings {
        CollectSettings {
            restate_days: 3,
            backfill_days,
            max_requests_per_run,
        }
    }

    #[test]
    fn dollars_are_whole_cents() {
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(1), "$0.01");
        assert_eq!(dollars(12), "$0.12");
        assert_eq!(dollars(100), "$1.00");
        assert_eq!(dollars(250), "$2.50");
        assert_eq!(ledger_line(2), "2 Cost Explorer requests = $0.02");
    }

    #[test]
    fn settings_have_defaults_refuse_unknown_fields_and_bad_values() {
        let parsed: CollectSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, CollectSettings::default());
        assert_eq!(
            (
                parsed.restate_days,
                parsed.backfill_days,
                parsed.max_requests_per_run
            ),
            (3, 90, 20)
        );
        parsed.validate().unwrap();
        assert!(serde_json::from_str::<CollectSettings>(r#"{"max_requests": 5}"#).is_err());
        for bad in [
            settings(0, 20),
            settings(500, 20),
            settings(90, 1),
            CollectSettings {
                restate_days: 500,
                ..settings(5, 20)
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    /// Files have no probe: the whole window is read again, for free, and no day is skipped.
    #[tokio::test]
    async fn a_source_without_probe_reads_the_whole_window() {
        let records: Vec<CostRecord> = (1..=9).map(|d| record(day(d))).collect();
        let source = MemoryCostSource::new(records);
        let store = MemoryStore::default();
        let at = |d: NaiveDate| d.and_hms_opt(6, 0, 0).unwrap().and_utc();
        let first = collect_incremental(
            &source,
            &store.lake,
            &store.state,
            &settings(5, 20),
            day(10),
            at(day(10)),
        )
        .await
        .unwrap();
        assert_eq!(first.days, (5..=9).map(day).collect::<Vec<_>>());
        assert_eq!(first.records, 5);
        assert_eq!(first.requests, 0);
        assert_eq!(first.ledger_line, "0 Cost Explorer requests = $0.00");
        let next = collect_incremental(
            &source,
            &store.lake,
            &store.state,
            &settings(5, 20),
            day(11),
            at(day(11)),
        )
        .await
        .unwrap();
        assert_eq!(next.window, Some((day(7), day(10))));
        assert_eq!(next.days, (7..=10).map(day).collect::<Vec<_>>());
        assert_eq!(next.month_requests, 0);
    }
}
