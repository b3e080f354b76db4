use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::ports::{StateStore, Versioned};
use crate::state_rules::{StoredItem, next_version, validate_state_key};

/// State items in a sorted map; the check and the write of a conditional put happen under one
/// lock, so concurrent writers in the process see proper conflicts.
#[derive(Debug)]
pub struct MemoryState {
    items: Mutex<BTreeMap<String, StoredItem>>,
    clock: Arc<dyn Clock>,
}

impl MemoryState {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// Expiry is judged against `clock` (a [`crate::ManualClock`] in tests).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            items: Mutex::default(),
            clock,
        }
    }
}

impl Default for MemoryState {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn get(&self, key: &str) -> Result<Option<Versioned>> {
        validate_state_key(key)?;
        let now = self.clock.now();
        Ok(lock(&self.items)
            .get(key)
            .cloned()
            .and_then(|item| item.live(now)))
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
        let mut items = lock(&self.items);
        let version = next_version(key, items.get(key), expected, now)?;
        items.insert(
            key.to_owned(),
            StoredItem {
                value,
                version,
                expires_at,
            },
        );
        Ok(version)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>> {
        let now = self.clock.now();
        Ok(lock(&self.items)
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter_map(|(key, item)| item.clone().live(now).map(|v| (key.clone(), v)))
            .collect())
    }
}
