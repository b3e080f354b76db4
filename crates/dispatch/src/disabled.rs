//! Destinations a vendor said are gone for good ([`crate::Outcome::Gone`]: a webhook receiver's
//! `410 Gone`). One item per (integration, destination) in the integration's own state
//! partition, with no expiry: every later message to that destination is dead-lettered without a
//! request, with a reason that says since when, why, and how to re-enable it. Re-enabling is
//! deleting the item (after fixing the receiver or the URL); the dead letters can then be
//! redriven, and the ledger keeps what was delivered from being sent twice.

use chrono::{DateTime, Utc};
use costwatch_store::{StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::error::DispatchError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub since: DateTime<Utc>,
    /// The vendor's answer that disabled it.
    pub reason: String,
}

pub struct Disabled<'a> {
    store: &'a dyn StateStore,
}

/// The state key of a disabled destination (DynamoDB: the sort key in `dispatch#<integration>`).
pub fn key(integration: &str, destination: &str) -> String {
    format!("dispatch-disabled/{integration}/{destination}")
}

impl<'a> Disabled<'a> {
    pub fn new(store: &'a dyn StateStore) -> Self {
        Self { store }
    }

    pub async fn get(
        &self,
        integration: &str,
        destination: &str,
    ) -> Result<Option<Record>, DispatchError> {
        let Some(item) = self.store.get(&key(integration, destination)).await? else {
            return Ok(None);
        };
        serde_json::from_value(item.value)
            .map(Some)
            .map_err(|e| DispatchError::Malformed(format!("disabled destination item: {e}")))
    }

    /// Records the destination as disabled; one already disabled keeps its first record.
    pub async fn disable(
        &self,
        integration: &str,
        destination: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DispatchError> {
        let record = Record {
            since: now,
            reason: reason.chars().take(500).collect(),
        };
        let value = serde_json::to_value(&record)
            .map_err(|e| DispatchError::Malformed(format!("disabled destination item: {e}")))?;
        match self
            .store
            .put(&key(integration, destination), value, None, None)
            .await
        {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// What a dead letter and the log say about a message not sent to a disabled destination.
pub fn explain(integration: &str, destination: &str, record: &Record) -> String {
    format!(
        "{destination}: destination disabled since {} because it answered: {}; nothing was sent. To re-enable it, fix the receiver (or point the destination at a new URL), delete the state item pk=`dispatch#{integration}` sk=`{}` (aws dynamodb delete-item --table-name <StateTableName output> --key '{{\"pk\":{{\"S\":\"dispatch#{integration}\"}},\"sk\":{{\"S\":\"{}\"}}}}'), then redrive this dead-letter queue",
        record.since.to_rfc3339(),
        record.reason,
        key(integration, destination),
        key(integration, destination),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_store::memory::MemoryState;

    #[tokio::test]
    async fn a_disabled_destination_stays_disabled_with_its_first_reason() {
        let store = MemoryState::default();
        let disabled = Disabled::new(&store);
        let now: DateTime<Utc> = "2026-12-03T10:00:00Z".parse().unwrap();
        assert_eq!(disabled.get("webhook", "ops").await.unwrap(), None);
        disabled
            .disable("webhook", "ops", "HTTP 410: gone", now)
            .await
            .unwrap();
        let later = now + chrono::Duration::hours(1);
        disabled
            .disable("webhook", "ops", "HTTP 410: again", later)
            .await
            .unwrap();
        let record = disabled.get("webhook", "ops").await.unwrap().unwrap();
        assert_eq!(
            (record.since, record.reason.as_str()),
            (now, "HTTP 410: gone")
        );
        assert_eq!(disabled.get("webhook", "other").await.unwrap(), None);
        let why = explain("webhook", "ops", &record);
        assert!(
            why.contains("dispatch-disabled/webhook/ops") && why.contains("re-enable"),
            "{why}"
        );
    }
}
