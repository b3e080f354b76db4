//! A signed request is accepted once. Slack's signature covers a timestamp, and requests older
//! than the window are refused outright; within the window, each signature is recorded in the
//! state store with a conditional write (`None`: only if absent) that expires after the window,
//! so a captured request sent again is refused too — on one machine or across Lambda instances.

use chrono::{DateTime, Duration, Utc};
use costwatch_store::{StateStore, StoreError};
use sha2::{Digest, Sha256};

/// Slack's recommended replay window: five minutes either side of our clock.
pub const WINDOW_SECONDS: i64 = 300;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// A header is missing or not in the vendor's format.
    Malformed(&'static str),
    /// Outside the replay window.
    Stale,
    /// The signature does not match the body.
    Forged,
    /// Seen before.
    Replayed,
}

impl Rejected {
    pub fn reason(&self) -> &'static str {
        match self {
            Rejected::Malformed(why) => why,
            Rejected::Stale => "request timestamp outside the 5-minute window",
            Rejected::Forged => "signature does not match",
            Rejected::Replayed => "request already received",
        }
    }
}

/// Whether `timestamp` (Unix seconds) is within the window around `now`.
pub fn fresh(timestamp: i64, now: DateTime<Utc>) -> bool {
    (now.timestamp() - timestamp).abs() <= WINDOW_SECONDS
}

/// Records `signature` as used; `Replayed` when it already was.
pub async fn once(
    state: &dyn StateStore,
    vendor: &str,
    signature: &[u8],
    now: DateTime<Utc>,
) -> Result<(), OnceError> {
    let key = format!(
        "chat-seen/{vendor}/{}",
        hex::encode(Sha256::digest(signature))
    );
    // Twice the window: a request stamped at the window's far edge stays refused until stale.
    // Counted from the later of our clock and the wall clock, which the store's expiry reads.
    let expires = now.max(Utc::now()) + Duration::seconds(2 * WINDOW_SECONDS);
    match state
        .put(&key, serde_json::json!({"at": now}), None, Some(expires))
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(OnceError::Replayed),
        Err(e) => Err(OnceError::Store(e)),
    }
}

#[derive(Debug)]
pub enum OnceError {
    Replayed,
    Store(StoreError),
}
