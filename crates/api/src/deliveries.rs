//! What `GET /v1/integrations` reads beyond the pipeline's state: which integrations are
//! configured, each dispatcher's own state (its delivery ledger and disabled destinations, as
//! crates/dispatch writes them) and how deep its dead-letter queue is. Narrow ports, so the
//! api Lambda plugs in DynamoDB partitions and SQS, and `costwatch serve` the local store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_store::StateStore;
use serde::Deserialize;

/// Every integration the suite ships, by the name its dispatcher uses (`Integration::NAME`), in
/// the CLI registry's order. crates/cli's serve tests hold this list against that registry.
pub const KNOWN: [&str; 13] = [
    "slack",
    "teams",
    "webhook",
    "zapier",
    "ifttt",
    "discord",
    "azure-blob",
    "pagerduty",
    "datadog",
    "jira",
    "mixpanel",
    "amplitude",
    "ga4",
];

/// Days a ledger item lives (crates/dispatch ledger.rs `KEEP_DAYS`: past SQS's 14-day retention):
/// the window every count of the route covers.
pub const LEDGER_DAYS: u32 = 15;

/// The integrations' side of the API.
pub struct Integrations {
    /// The configured integrations; `None` when the deployment does not say (then every
    /// `configured` reads null rather than a guess).
    pub configured: Option<BTreeSet<String>>,
    pub states: Arc<dyn DispatchStates>,
    pub dead_letters: Arc<dyn QueueDepth>,
}

/// The state store a dispatcher keeps its ledger in. On AWS each integration has a DynamoDB
/// partition of its own (`dispatch#slack`); locally one store holds every key.
pub trait DispatchStates: Send + Sync {
    fn of(&self, integration: &str) -> Arc<dyn StateStore>;
}

/// One store for every integration (the local store, the in-memory store in tests).
pub struct OneStore(pub Arc<dyn StateStore>);

impl DispatchStates for OneStore {
    fn of(&self, _integration: &str) -> Arc<dyn StateStore> {
        self.0.clone()
    }
}

/// Messages waiting in an integration's dead-letter queue.
#[async_trait]
pub trait QueueDepth: Send + Sync {
    /// `Ok(Some(n))`: the queue's approximate count; `Ok(None)`: there is no queue to ask, and
    /// `why_none` says why; `Err`: the queue could not be read (the message says how).
    async fn depth(&self, integration: &str) -> Result<Option<u64>, String>;
    /// Why [`depth`](Self::depth) has no number for `integration`.
    fn why_none(&self, integration: &str) -> String;
}

/// `costwatch serve`: no queues run on one machine. `costwatch notify` reports a failed send at
/// once and keeps no dead letters, and `costwatch dlq redrive` reads the deployed stack's SQS
/// queues only, so there is no local dead-letter store to count.
pub struct NoQueues;

#[async_trait]
impl QueueDepth for NoQueues {
    async fn depth(&self, _integration: &str) -> Result<Option<u64>, String> {
        Ok(None)
    }

    fn why_none(&self, _integration: &str) -> String {
        "no dead-letter queue on this machine: costwatch serve runs no queues (a local send \
         reports its failure at once); the deployed stack's api function reads SQS"
            .to_owned()
    }
}

/// `name=url,name=url` (the api Lambda's `COSTWATCH_INTEGRATION_DLQS`): the configured
/// integrations and their dead-letter queue URLs. Empty entries are skipped (CloudFormation
/// joins a disabled integration's `AWS::NoValue` as nothing); an unknown name is an error, so
/// a typo fails the cold start instead of hiding an integration.
pub fn parse_queue_urls(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, url) = entry
            .split_once('=')
            .ok_or_else(|| format!("`{entry}` is not name=queue-url"))?;
        if !KNOWN.contains(&name) {
            return Err(format!("`{name}` is not an integration costwatch knows"));
        }
        if url.is_empty() {
            return Err(format!("`{name}` has no queue URL"));
        }
        out.insert(name.to_owned(), url.to_owned());
    }
    Ok(out)
}

/// State key prefixes crates/dispatch writes (ledger.rs `key`, disabled.rs `key`).
pub fn ledger_prefix(integration: &str) -> String {
    format!("dispatch/{integration}/")
}

pub fn disabled_prefix(integration: &str) -> String {
    format!("dispatch-disabled/{integration}/")
}

/// A ledger item as crates/dispatch's `ledger::Entry` serialises it: only what the route reads
/// (tests/integrations.rs writes real entries with the dispatcher's own `Ledger`).
#[derive(Debug, Deserialize)]
pub struct LedgerEntry {
    pub state: LedgerState,
    pub claimed_at: DateTime<Utc>,
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerState {
    Pending,
    Sent,
}

/// A disabled destination as crates/dispatch's `disabled::Record` serialises it.
#[derive(Debug, Deserialize)]
pub struct DisabledRecord {
    pub since: DateTime<Utc>,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_parse_and_refuse_unknown_names() {
        let urls = parse_queue_urls(
            "slack=https://sqs.eu-west-1.amazonaws.com/1/slack-dlq,,azure-blob=https://q/2",
        )
        .unwrap();
        assert_eq!(urls.len(), 2);
        assert_eq!(urls["azure-blob"], "https://q/2");
        assert!(parse_queue_urls("").unwrap().is_empty());
        assert!(
            parse_queue_urls("slak=https://q")
                .unwrap_err()
                .contains("slak")
        );
        assert!(parse_queue_urls("slack").is_err());
        assert!(parse_queue_urls("slack=").is_err());
    }
}
