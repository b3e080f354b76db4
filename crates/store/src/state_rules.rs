//! Optimistic-concurrency and expiry rules shared by the state adapters, so memory and disk
//! cannot drift apart on what a conflict is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::ports::Versioned;

/// A state item as stored (and, locally, as written to its JSON file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredItem {
    pub value: serde_json::Value,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl StoredItem {
    /// An item is gone from the moment `expires_at` is reached.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }

    pub fn live(self, now: DateTime<Utc>) -> Option<Versioned> {
        self.is_live(now).then_some(Versioned {
            value: self.value,
            version: self.version,
        })
    }
}

pub(crate) fn validate_state_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(StoreError::InvalidKey(String::new(), "empty state key"));
    }
    Ok(())
}

/// The version a write would create, or `Conflict` if `expected` is not what is live now.
/// Versions start at 1. An expired item reads as absent, but a write over it continues its
/// version count instead of restarting at 1: a writer still holding the pre-expiry version must
/// not match the recreated item by accident.
pub(crate) fn next_version(
    key: &str,
    current: Option<&StoredItem>,
    expected: Option<u64>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let found = current
        .filter(|item| item.is_live(now))
        .map(|item| item.version);
    if found != expected {
        return Err(StoreError::Conflict {
            key: key.to_owned(),
            expected,
            found,
        });
    }
    Ok(current.map_or(1, |item| item.version + 1))
}
