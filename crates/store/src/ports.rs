//! One trait per capability. Every trait has an in-memory adapter (tests, `demo`) and a
//! local-filesystem adapter under a data directory (the CLI's embedded default).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::{CostRecord, DailyCost, DailySeries, Notification, Scope};
use secrecy::SecretString;

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

/// Where cost records come from: Cost Explorer, CUR/FOCUS files, or records held in memory.
#[async_trait]
pub trait CostSource: Send + Sync {
    /// Records whose charge period starts on a day in `start..=end`.
    async fn fetch(&self, start: NaiveDate, end: NaiveDate) -> Result<Fetched>;
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
    /// The scope's series over `start..=end`; days with nothing stored are `None`.
    async fn series(&self, scope: &Scope, start: NaiveDate, end: NaiveDate) -> Result<DailySeries>;
    /// Every scope with at least one stored day, sorted.
    async fn scopes(&self) -> Result<Vec<Scope>>;
    /// First and last stored day over all scopes.
    async fn day_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>>;
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
    async fn get(&self, name: &str) -> Result<SecretString>;
}
