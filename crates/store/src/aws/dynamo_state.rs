//! Small JSON state in the DynamoDB table of template.yaml (`pk` HASH, `sk` RANGE, TTL on
//! `expires_at`). The pipeline's state items live in one partition, `pk = "state"`, with the key as
//! `sk`: listing by prefix is then one Query with `begins_with`, instead of a Scan of the table.
//! A dispatcher keeps its ledger and memos in a partition of its own ([`DynamoState::in_partition`],
//! `dispatch#slack` …), because IAM can restrict a role to partition keys (`dynamodb:LeadingKeys`)
//! but not to sort-key prefixes: each dispatcher then reads and writes only its own items.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::error::{aws_error, corrupt};
use super::ext::{Item, ItemExt, n, s};
use crate::clock::{Clock, SystemClock};
use crate::error::{Result, StoreError};
use crate::ports::{StateStore, Versioned};
use crate::state_rules::{StoredItem, next_version, validate_state_key};

/// The pipeline functions' partition.
pub const PIPELINE_PARTITION: &str = "state";

#[derive(Debug, Clone)]
pub struct DynamoState {
    client: Client,
    table: String,
    partition: String,
    clock: Arc<dyn Clock>,
}

impl DynamoState {
    pub fn new(config: &SdkConfig, table: impl Into<String>) -> Self {
        Self::with_clock(config, table, Arc::new(SystemClock))
    }

    /// DynamoDB's TTL deletes expired items lazily (up to days later), so expiry is decided on
    /// read against this clock; tests move it by hand.
    pub fn with_clock(config: &SdkConfig, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self::with_client(Client::new(config), table, clock)
    }

    /// On a client of the caller's, e.g. one a [`super::CapacityMeter`] counts.
    pub fn with_client(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            partition: PIPELINE_PARTITION.to_owned(),
            clock,
        }
    }

    /// The same table, another partition: every key read, written and listed lives under
    /// `pk = partition`.
    pub fn in_partition(mut self, partition: impl Into<String>) -> Self {
        self.partition = partition.into();
        self
    }

    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The stored item, live or expired: a write over an expired item continues its versions.
    async fn stored(&self, key: &str) -> Result<Option<StoredItem>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&self.partition))
            .key("sk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:GetItem", e))?;
        out.item.as_ref().map(from_item).transpose()
    }
}

/// TTL is in whole epoch seconds; rounding up keeps an item live until its `expires_at` has been
/// reached, never a fraction of a second before.
fn ttl_seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

fn to_item(partition: &str, key: &str, item: &StoredItem) -> Item {
    let mut out = Item::from([
        ("pk".to_owned(), s(partition)),
        ("sk".to_owned(), s(key)),
        // JSON text, not a DynamoDB map: any JSON value round-trips exactly (numbers included).
        ("value".to_owned(), s(item.value.to_string())),
        ("version".to_owned(), n(item.version)),
    ]);
    if let Some(at) = item.expires_at {
        out.insert("expires_at".to_owned(), n(ttl_seconds(at)));
    }
    out
}

fn from_item(item: &Item) -> Result<StoredItem> {
    let value = serde_json::from_str(item.string("value")?)
        .map_err(|e| corrupt(item.describe(), format!("`value` is not JSON: {e}")))?;
    let expires_at = match item.number_opt::<i64>("expires_at")? {
        None => None,
        Some(secs) => Some(
            DateTime::from_timestamp(secs, 0)
                .ok_or_else(|| corrupt(item.describe(), "`expires_at` out of range"))?,
        ),
    };
    Ok(StoredItem {
        value,
        version: item.number("version")?,
        expires_at,
    })
}

#[async_trait]
impl StateStore for DynamoState {
    async fn get(&self, key: &str) -> Result<Option<Versioned>> {
        validate_state_key(key)?;
        let now = self.clock.now();
        Ok(self.stored(key).await?.and_then(|item| item.live(now)))
    }

    async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64> {
        validate_state_key(key)?;
        let now = self.clock.now();
        let current = self.stored(key).await?;
        let version = next_version(key, current.as_ref(), expected, now)?;
        let item = StoredItem {
            value,
            version,
            expires_at,
        };
        // The check above used what we read; the condition makes the write fail if anyone wrote
        // in between, so of two racing writers exactly one wins.
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&self.partition, key, &item)));
        let request = match &current {
            Some(seen) => request
                .condition_expression("version = :seen")
                .expression_attribute_values(":seen", n(seen.version)),
            None => request.condition_expression("attribute_not_exists(pk)"),
        };
        match request.send().await {
            Ok(_) => Ok(version),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let found = self.get(key).await?.map(|v| v.version);
                Err(StoreError::Conflict {
                    key: key.to_owned(),
                    expected,
                    found,
                })
            }
            Err(e) => Err(aws_error("dynamodb:PutItem", e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>> {
        let now = self.clock.now();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .expression_attribute_values(":pk", s(&self.partition));
        // begins_with refuses an empty operand; the empty prefix means the whole partition.
        let query = if prefix.is_empty() {
            query.key_condition_expression("pk = :pk")
        } else {
            query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
        };
        let mut pages = query.into_paginator().send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb:Query", e))?;
            for item in page.items() {
                let key = item.string("sk")?.to_owned();
                if let Some(live) = from_item(item)?.live(now) {
                    items.push((key, live));
                }
            }
        }
        // Query returns sort keys in UTF-8 byte order, which is `String` order; sort anyway so the
        // port's promise does not rest on that.
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn ttl_rounds_up_so_an_item_never_expires_early() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 7, 0, 0).unwrap();
        assert_eq!(ttl_seconds(at), at.timestamp());
        let later = at + chrono::TimeDelta::milliseconds(1);
        assert_eq!(ttl_seconds(later), at.timestamp() + 1);
    }
}
