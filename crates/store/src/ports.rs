//! One trait per capability. Every trait has an in-memory adapter (tests, `demo`) and a
//! local-filesystem adapter under a data directory (the CLI's embedded default).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::{CostRecord, DailyCost, DailySeries, Money, Notification, Scope, ScopeKind};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What one pull from a cost source returned.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub records: Vec<CostRecord>,
    /// Raw responses as received, to keep under `raw/` in the lake: (file name, bytes).
    pub raw: Vec<(String, Vec<u8>)>,
    /// Billable API requests this pull made (Cost Explorer charges $0.01 each); 0 for files.
    pub requests: u32,
}

/// A run's allowance of billable requests, shared by every call the run makes. A source takes
/// one before each request it sends (retries included) and stops, without sending, when
/// [`try_take`](Self::try_take) refuses: the cap is never passed.
#[derive(Debug)]
pub struct RequestBudget {
    limit: u32,
    used: AtomicU32,
    refused: AtomicBool,
    throttled: AtomicU32,
}

impl RequestBudget {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            used: AtomicU32::new(0),
            refused: AtomicBool::new(false),
            throttled: AtomicU32::new(0),
        }
    }

    /// No cap: for one-off pulls such as [`CostSource::fetch`].
    pub fn unlimited() -> Self {
        Self::new(u32::MAX)
    }

    /// Takes one request from the allowance; `false` (remembered as [`capped`](Self::capped))
    /// when that request would pass the limit.
    pub fn try_take(&self) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                (used < self.limit).then_some(used + 1)
            })
            .is_ok();
        if !taken {
            self.refused.store(true, Ordering::SeqCst);
        }
        taken
    }

    /// Requests taken so far.
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::SeqCst)
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Whether a request was refused: the run stopped short of what it wanted to fetch.
    pub fn capped(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }

    /// Records that a request was answered with throttling (and is retried or given up).
    pub fn note_throttled(&self) {
        self.throttled.fetch_add(1, Ordering::SeqCst);
    }

    /// Requests answered with throttling: counted in [`used`](Self::used) too.
    pub fn throttled(&self) -> u32 {
        self.throttled.load(Ordering::SeqCst)
    }
}

/// One day's organisation-wide totals, as a cheap ungrouped probe reports them; compared with
/// the totals stored at the last collection to tell which days the source has revised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    pub billed: Money,
    pub effective: Money,
}

/// What [`CostSource::fetch_days`] returned: only days it fetched completely.
#[derive(Debug, Clone, Default)]
pub struct DayPull {
    /// Account × service records: every total (organisation, account, service) comes from these.
    pub records: Vec<CostRecord>,
    /// Tag and cost-category breakdowns of the same spend, fetched by separate requests. They
    /// feed only tag and cost-category scopes and are never added to totals (that would count the
    /// spend twice).
    pub breakdown: Vec<CostRecord>,
    /// Raw responses, to keep in the lake under `raw/<raw_source>/dt=<day>/<name>`:
    /// (day, name, bytes). A day's objects replace whatever that day had before.
    pub raw: Vec<(NaiveDate, String, Vec<u8>)>,
    /// Folder under `raw/` for this source (`ce`).
    pub raw_source: String,
    /// Days every request and page of which was fetched, sorted; the fields above hold only
    /// these days. A requested day missing here was cut off by the request budget.
    pub complete: Vec<NaiveDate>,
}

/// Where cost records come from: Cost Explorer, CUR/FOCUS files, or records held in memory.
#[async_trait]
pub trait CostSource: Send + Sync {
    /// Records whose charge period starts on a day in `start..=end`.
    async fn fetch(&self, start: NaiveDate, end: NaiveDate) -> Result<Fetched>;

    /// Organisation-wide daily totals over `start..=end` from one cheap request, so a caller can
    /// re-fetch only days whose totals moved. `None` (the default): the source cannot tell
    /// cheaply, and every day is treated as changed (reading files costs nothing). A day missing
    /// from the map (the budget ran out while probing) counts as changed.
    async fn probe_totals(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        budget: &RequestBudget,
    ) -> Result<Option<BTreeMap<NaiveDate, DayTotal>>> {
        let _ = (start, end, budget);
        Ok(None)
    }

    /// Records for `days` (any set, any order), drawing every request from `budget`. The
    /// default reads `min..=max` with [`fetch`](Self::fetch) and keeps the asked days: sources
    /// whose reads are free have no breakdowns and always complete.
    async fn fetch_days(&self, days: &[NaiveDate], budget: &RequestBudget) -> Result<DayPull> {
        let _ = budget;
        let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
            return Ok(DayPull::default());
        };
        let fetched = self.fetch(*first, *last).await?;
        let mut complete = days.to_vec();
        complete.sort();
        complete.dedup();
        Ok(DayPull {
            records: fetched
                .records
                .into_iter()
                .filter(|r| complete.binary_search(&r.day()).is_ok())
                .collect(),
            complete,
            ..DayPull::default()
        })
    }
}

/// Writes objects into the partitioned data lake (`raw/...`, `curated/daily/dt=.../...`).
#[async_trait]
pub trait LakeWriter: Send + Sync {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<()>;
    /// Removes every object under `prefix`, so a re-run replaces a partition instead of adding to it.
    async fn delete_prefix(&self, prefix: &str) -> Result<()>;
}

#[async_trait]
pub trait LakeReader: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;
}

/// One day of one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    pub scope: Scope,
    pub day: NaiveDate,
    pub cost: DailyCost,
}

/// Daily rollups per scope.
#[async_trait]
pub trait RollupStore: Send + Sync {
    /// Replaces everything stored for `days` (every scope) with `rows`: idempotent, and a scope
    /// that no longer has spend on a re-imported day loses its stale value.
    async fn replace_days(&self, days: &[NaiveDate], rows: &[RollupRow]) -> Result<()>;
    /// A stored scope's series over `start..=end`; days with nothing stored are `None`. What an
    /// adapter reads: callers ask [`series`](Self::series), which also answers unallocated scopes.
    async fn stored_series(
        &self,
        scope: &Scope,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<DailySeries>;
    /// Every scope with at least one stored day, sorted.
    async fn scopes(&self) -> Result<Vec<Scope>>;
    /// The stored series over `start..=end` of every scope of one of `kinds` with at least one
    /// stored day in that window, sorted by scope. This default asks for each scope in turn; an
    /// adapter that can read a whole day at once overrides it (DynamoDB: one Query per day
    /// instead of one per scope, ~16,000 at 1,000 accounts). Callers ask
    /// [`all_series`](Self::all_series).
    async fn stored_all_series(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        kinds: &[ScopeKind],
    ) -> Result<Vec<DailySeries>> {
        let mut out = Vec::new();
        for scope in self.scopes().await? {
            if !kinds.contains(&scope.kind()) {
                continue;
            }
            let series = self.stored_series(&scope, start, end).await?;
            if series.days.iter().any(Option::is_some) {
                out.push(series);
            }
        }
        Ok(out)
    }
    /// First and last stored day over all scopes.
    async fn day_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>>;

    /// The scope's series over `start..=end`; days with nothing stored are `None`. An
    /// unallocated scope (`tag=team|value=`) is derived from the organisation's and its key's
    /// values ([`unallocated`](crate::unallocated)). Not overridden by adapters.
    async fn series(&self, scope: &Scope, start: NaiveDate, end: NaiveDate) -> Result<DailySeries> {
        if !scope.is_unallocated() {
            return self.stored_series(scope, start, end).await;
        }
        let org = self.stored_series(&Scope::Org, start, end).await?;
        let labelled = self.stored_all_series(start, end, &[scope.kind()]).await?;
        Ok(crate::unallocated::of(scope, &org, &labelled))
    }

    /// The series over `start..=end` of every scope of one of `kinds` with at least one stored
    /// day in that window, sorted by scope: what a daily run reads. With tags or cost
    /// categories among `kinds`, each key with a value in the window also brings its
    /// unallocated series (`tag=team|value=`, zero on a day everything carries the key).
    /// Not overridden by adapters.
    async fn all_series(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        kinds: &[ScopeKind],
    ) -> Result<Vec<DailySeries>> {
        let mut out = self.stored_all_series(start, end, kinds).await?;
        let labelled = |s: &DailySeries| s.scope.unallocated().is_some();
        if !out.iter().any(labelled) {
            return Ok(out);
        }
        let org = match out.iter().find(|s| s.scope == Scope::Org) {
            Some(org) => org.clone(),
            None => self.stored_series(&Scope::Org, start, end).await?,
        };
        let derived = crate::unallocated::derive(&org, &out);
        out.extend(derived);
        out.sort_by(|a, b| a.scope.cmp(&b.scope));
        Ok(out)
    }
}

/// A stored value and its version, for optimistic concurrency.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub value: serde_json::Value,
    pub version: u64,
}

/// Small JSON state: anomaly lifecycles, budget crossings, ledgers.
#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Versioned>>;
    /// Writes only if the stored version equals `expected` (`None`: only if absent), else
    /// `StoreError::Conflict`. Returns the new version. Items past `expires_at` read as absent.
    async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64>;
    /// Every live item whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>>;
}

/// Publishes notification envelopes (SNS on AWS).
#[async_trait]
pub trait NotificationBus: Send + Sync {
    async fn publish(&self, notification: &Notification) -> Result<()>;
}

/// Secrets by name (Secrets Manager / SSM on AWS; environment or data directory locally).
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The value, possibly from a short-lived cache.
    async fn get(&self, name: &str) -> Result<SecretString>;
    /// The value as stored now, bypassing any cache (after a vendor refused the cached one:
    /// the secret may have been rotated).
    async fn get_fresh(&self, name: &str) -> Result<SecretString> {
        self.get(name).await
    }
}

/// An anomaly found by another detector (AWS Cost Anomaly Detection), in our terms, with the
/// id it has there.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedAnomaly {
    /// The other system's id (GetAnomalies `AnomalyId`).
    pub source_id: String,
    pub anomaly: costwatch_core::findings::Anomaly,
}

/// Where imported anomalies come from (Cost Explorer GetAnomalies on AWS).
#[async_trait]
pub trait AnomalySource: Send + Sync {
    /// Anomalies whose last day falls in `start..=end`, every page drawn from `budget`.
    /// `complete` is false when the budget cut the pages short.
    async fn anomalies(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        budget: &RequestBudget,
    ) -> Result<(Vec<ImportedAnomaly>, bool)>;
}

/// What a person said about an anomaly, in AWS Cost Anomaly Detection's words
/// (`ProvideAnomalyFeedback`'s `Feedback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsVerdict {
    /// A real anomaly.
    Yes,
    /// A false alarm.
    No,
    /// Real, but planned.
    PlannedActivity,
}

/// Where feedback on an imported anomaly goes back to (Cost Explorer `ProvideAnomalyFeedback`
/// on AWS), so AWS's model learns from the same click as ours.
#[async_trait]
pub trait AnomalyFeedbackSink: Send + Sync {
    async fn provide_feedback(&self, anomaly_id: &str, verdict: AwsVerdict) -> Result<()>;
}

/// Recommendations another service makes (Cost Explorer rightsizing, Savings Plans and
/// reservation purchases; Cost Optimization Hub), in the suite's terms.
#[async_trait]
pub trait RecommendationSource: Send + Sync {
    /// Every recommendation, every page drawn from `budget`; `complete` is false when the
    /// budget cut the pages short (what was read is still returned).
    async fn recommendations(
        &self,
        budget: &RequestBudget,
    ) -> Result<(Vec<costwatch_core::recommend::Finding>, bool)>;
}
