//! Resource-level root cause: for an anomaly, the resources that moved its day against the
//! week before and whether each moved by usage or by unit price
//! (`costwatch_analytics::resource_drivers`), from the cost source's line items — a Data Export
//! through Athena in the detect Lambda, through the embedded engine in the CLI. Anomalies
//! imported from AWS Cost Anomaly Detection get the same, which AWS's own alerts lack.
//!
//! Enrichment never blocks an alert: a query that fails is logged and the anomaly goes out with
//! its dimension-level root causes only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use costwatch_analytics::resource_drivers::{self, Driver};
use costwatch_core::findings::{Anomaly, ResourceCause};
use costwatch_core::{Scope, UsageLine};
use costwatch_query::{Engine, ExportTable, QueryError, ResourceQuery, Window};

/// Days before the anomaly's day whose mean is the baseline.
pub const BASELINE_DAYS: u32 = 7;
/// Resources named per anomaly.
pub const TOP: usize = 5;

/// Where usage lines come from.
#[async_trait]
pub trait ResourceLines: Send + Sync {
    /// The scope's lines from `from` to `to`, both included.
    async fn lines(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<UsageLine>, QueryError>;
    /// Tag keys that name a resource's owner, first match wins (e.g. `owner`, `team`).
    fn owner_keys(&self) -> &[String];
}

/// Lines from a Data Export through a SQL engine; counts its queries and what they scanned and
/// are billed for (each query at least Athena's 10 MB), for the ledger.
pub struct ExportLines {
    engine: Arc<dyn Engine>,
    table: ExportTable,
    owner_keys: Vec<String>,
    queries: AtomicU64,
    bytes_scanned: AtomicU64,
    billed_bytes: AtomicU64,
}

/// What an [`ExportLines`] has queried so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryUsage {
    pub queries: u64,
    pub bytes_scanned: u64,
    pub billed_bytes: u64,
}

impl ExportLines {
    pub fn new(engine: Arc<dyn Engine>, table: ExportTable, owner_keys: Vec<String>) -> Self {
        Self {
            engine,
            table,
            owner_keys,
            queries: AtomicU64::new(0),
            bytes_scanned: AtomicU64::new(0),
            billed_bytes: AtomicU64::new(0),
        }
    }

    /// What was queried since the last call (a warm Lambda keeps one of these across runs, and
    /// each run's ledger entry must hold only its own queries).
    pub fn take_usage(&self) -> QueryUsage {
        QueryUsage {
            queries: self.queries.swap(0, Ordering::Relaxed),
            bytes_scanned: self.bytes_scanned.swap(0, Ordering::Relaxed),
            billed_bytes: self.billed_bytes.swap(0, Ordering::Relaxed),
        }
    }
}

#[async_trait]
impl ResourceLines for ExportLines {
    async fn lines(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<UsageLine>, QueryError> {
        let window = Window {
            from,
            to: to + Days::new(1),
        };
        let Some(query) = ResourceQuery::new(&self.table, scope, window, &self.owner_keys) else {
            return Ok(Vec::new());
        };
        let answer = self.engine.run(&query.sql).await?;
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.bytes_scanned
            .fetch_add(answer.bytes_scanned, Ordering::Relaxed);
        self.billed_bytes.fetch_add(
            costwatch_query::price::billed_bytes(answer.bytes_scanned),
            Ordering::Relaxed,
        );
        query.lines(&answer.rows)
    }

    fn owner_keys(&self) -> &[String] {
        &self.owner_keys
    }
}

/// The anomaly's top resources in the direction it moved; empty when the source has no lines
/// for its scope or the query failed (logged).
pub async fn resource_causes(source: &dyn ResourceLines, anomaly: &Anomaly) -> Vec<ResourceCause> {
    let window = resource_drivers::Window::before(anomaly.date, BASELINE_DAYS);
    let lines = match source
        .lines(&anomaly.scope, window.baseline_from, anomaly.date)
        .await
    {
        Ok(lines) => lines,
        Err(error) => {
            tracing::warn!(%error, scope = %anomaly.scope.key(), "resource-level root cause left out");
            return Vec::new();
        }
    };
    let owners: Vec<&str> = source.owner_keys().iter().map(String::as_str).collect();
    let rising = anomaly.impact > costwatch_core::Money::ZERO;
    resource_drivers::rank(&lines, window, rising, &owners, TOP)
        .into_iter()
        .map(|d| ResourceCause {
            resource_id: d.resource_id,
            account: d.account,
            product_code: d.product_code,
            usage_type: d.usage_type,
            owner: d.owner,
            contribution: d.contribution,
            usage_effect: d.usage_effect,
            rate_effect: d.rate_effect,
            driver: match d.driver {
                Driver::Usage => "usage",
                Driver::Rate => "rate",
                Driver::Mixed => "mixed",
                Driver::Charge => "charge",
            }
            .into(),
        })
        .collect()
}
