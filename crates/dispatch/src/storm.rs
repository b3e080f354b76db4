//! Alert storms bounded across invocations. A batch's envelopes for one destination already
//! become one digest ([`crate::dispatcher::Settings::digest_from`]), but 10,000 anomalies in a
//! minute arrive as a hundred batches in parallel invocations, and each would post its own
//! digest. So every destination gets at most `messages` messages per `window` (a counter in the
//! state store, conditional writes). Beyond that an envelope is *held*: kept in the state store,
//! its claim released and its SQS message left to come back when the window ends. The first
//! message sent to the destination in a later window carries every held envelope with it (up to
//! [`FLUSH_MAX`]), as one digest; the held envelopes' own messages then find them sent.
//!
//! The SQS messages stay the source of truth: a held item is only a shortcut to the digest, so
//! losing one (a failed write, an expired item) costs a later, separate message, never the
//! envelope. A message at its last receive is never held (the queue would dead-letter it).

use chrono::{DateTime, Duration, Utc};
use costwatch_core::Notification;
use costwatch_store::{StateStore, StoreError};
use serde_json::json;

use crate::error::DispatchError;

/// Most held envelopes one message carries: their ledger claims and records (two conditional
/// writes each) fit in the dispatcher's minute, and five flushes a window drain a 10,000-envelope
/// storm in the next one.
pub const FLUSH_MAX: usize = 2_000;

/// Held envelopes outlive SQS's longest retention (14 days), as the ledger's items do.
const HELD_DAYS: i64 = 15;

/// Attempts at the window's counter before a sender that keeps losing the race holds instead.
const COUNTER_ROUNDS: usize = 8;

/// At most `messages` messages per destination per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StormLimit {
    pub messages: u32,
    pub window: Duration,
}

impl StormLimit {
    /// No limit: every message goes out at once (the CLI, tests that count requests).
    pub fn off() -> Self {
        Self {
            messages: u32::MAX,
            window: Duration::seconds(60),
        }
    }

    pub fn is_off(&self) -> bool {
        self.messages == u32::MAX || self.window <= Duration::zero()
    }

    /// The window `now` falls in: its start and end, on whole multiples of the window since the
    /// epoch, so every invocation counts in the same window.
    fn window_of(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let width = self.window.num_milliseconds().max(1);
        let start_ms = now.timestamp_millis().div_euclid(width) * width;
        let start = DateTime::from_timestamp_millis(start_ms).unwrap_or(now);
        (start, start + self.window)
    }
}

/// What [`Storms::admit`] decided for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Send,
    /// The window is full: hold the envelopes until it ends.
    Hold {
        until: DateTime<Utc>,
    },
}

/// An envelope held for the next digest, with the version of its item.
#[derive(Debug, Clone)]
pub struct Held {
    pub envelope: Notification,
    version: u64,
}

pub struct Storms<'a> {
    store: &'a dyn StateStore,
    limit: StormLimit,
}

fn count_key(integration: &str, destination: &str, start: DateTime<Utc>) -> String {
    format!(
        "dispatch-storm/{integration}/{destination}/{}",
        start.timestamp_millis()
    )
}

fn held_prefix(integration: &str, destination: &str) -> String {
    format!("dispatch-held/{integration}/{destination}/")
}

impl<'a> Storms<'a> {
    pub fn new(store: &'a dyn StateStore, limit: StormLimit) -> Self {
        Self { store, limit }
    }

    pub fn is_off(&self) -> bool {
        self.limit.is_off()
    }

    /// One message to `destination` now: counted in the window and sent, or held when the window
    /// has had its messages. `forced` sends (and counts) it whatever the count.
    pub async fn admit(
        &self,
        integration: &str,
        destination: &str,
        now: DateTime<Utc>,
        forced: bool,
    ) -> Result<Admission, DispatchError> {
        if self.is_off() {
            return Ok(Admission::Send);
        }
        let (start, until) = self.limit.window_of(now);
        let key = count_key(integration, destination, start);
        for _ in 0..COUNTER_ROUNDS {
            let (sent, version) = match self.store.get(&key).await? {
                None => (0, None),
                Some(item) => (
                    item.value["messages"].as_u64().unwrap_or(u64::MAX),
                    Some(item.version),
                ),
            };
            if sent >= u64::from(self.limit.messages) && !forced {
                return Ok(Admission::Hold { until });
            }
            let counted = json!({ "messages": sent.saturating_add(1) });
            // Kept one window past its own: a late reader of the previous window still counts.
            match self
                .store
                .put(&key, counted, version, Some(until + self.limit.window))
                .await
            {
                Ok(_) => return Ok(Admission::Send),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        // So many senders at once that this one lost every race: that is a storm.
        Ok(Admission::Hold { until })
    }

    /// Keeps `envelope` for the next message to `destination`. Holding it twice keeps it once.
    pub async fn hold(
        &self,
        integration: &str,
        destination: &str,
        envelope: &Notification,
        now: DateTime<Utc>,
    ) -> Result<(), DispatchError> {
        let key = format!("{}{}", held_prefix(integration, destination), envelope.id);
        if self.store.get(&key).await?.is_some() {
            return Ok(());
        }
        let value = serde_json::to_value(envelope)
            .map_err(|e| DispatchError::Malformed(format!("held envelope: {e}")))?;
        match self
            .store
            .put(&key, value, None, Some(now + Duration::days(HELD_DAYS)))
            .await
        {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The envelopes held for `destination`, at most [`FLUSH_MAX`]. An item that does not read
    /// as an envelope is skipped (its own message still delivers it).
    pub async fn held(
        &self,
        integration: &str,
        destination: &str,
    ) -> Result<Vec<Held>, DispatchError> {
        if self.is_off() {
            return Ok(Vec::new());
        }
        let items = self
            .store
            .list(&held_prefix(integration, destination))
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|(key, item)| {
                match serde_json::from_value::<Notification>(item.value) {
                    Ok(envelope) => Some(Held {
                        envelope,
                        version: item.version,
                    }),
                    Err(e) => {
                        tracing::warn!(key = %key, error = %e, "a held item is not an envelope; skipped");
                        None
                    }
                }
            })
            .take(FLUSH_MAX)
            .collect())
    }

    /// Drops a held envelope once it was delivered (or found delivered). A failure only leaves
    /// it to be found sent by the next flush.
    pub async fn forget(&self, integration: &str, destination: &str, held: &Held) {
        let key = format!(
            "{}{}",
            held_prefix(integration, destination),
            held.envelope.id
        );
        let gone = Some(DateTime::<Utc>::UNIX_EPOCH);
        if let Err(e) = self
            .store
            .put(&key, serde_json::Value::Null, Some(held.version), gone)
            .await
        {
            tracing::debug!(key = %key, error = %e, "a held envelope stays until the next flush");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_store::ManualClock;
    use costwatch_store::memory::MemoryState;
    use std::sync::Arc;

    fn limit(messages: u32) -> StormLimit {
        StormLimit {
            messages,
            window: Duration::seconds(60),
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("a time")
    }

    /// A store whose expiry is judged at the tests' first moment (January 2027): on the system
    /// clock their windows' counts and held envelopes would expire for real and fail them.
    fn state() -> MemoryState {
        MemoryState::with_clock(Arc::new(ManualClock::new(at(0))))
    }

    #[tokio::test]
    async fn a_window_sends_its_messages_then_holds_until_it_ends() {
        let state = state();
        let storms = Storms::new(&state, limit(2));
        let (start, end) = limit(2).window_of(at(10));
        assert!(start <= at(10) && at(10) < end);
        for _ in 0..2 {
            assert_eq!(
                storms.admit("slack", "ops", at(10), false).await.unwrap(),
                Admission::Send
            );
        }
        assert_eq!(
            storms.admit("slack", "ops", at(11), false).await.unwrap(),
            Admission::Hold { until: end }
        );
        // Another destination has its own count; a forced message goes out regardless.
        assert_eq!(
            storms.admit("slack", "dev", at(11), false).await.unwrap(),
            Admission::Send
        );
        assert_eq!(
            storms.admit("slack", "ops", at(11), true).await.unwrap(),
            Admission::Send
        );
        // The next window starts afresh.
        assert_eq!(
            storms.admit("slack", "ops", end, false).await.unwrap(),
            Admission::Send
        );
    }

    #[tokio::test]
    async fn held_envelopes_are_kept_once_listed_and_forgotten() {
        let state = state();
        let storms = Storms::new(&state, limit(1));
        let mut a = costwatch_core::samples::of_kind("anomaly");
        a.id = "ntf_a".into();
        let mut b = a.clone();
        b.id = "ntf_b".into();
        for n in [&a, &b, &a] {
            storms.hold("slack", "ops", n, at(0)).await.unwrap();
        }
        let held = storms.held("slack", "ops").await.unwrap();
        let ids: Vec<&str> = held.iter().map(|h| h.envelope.id.as_str()).collect();
        assert_eq!(ids, ["ntf_a", "ntf_b"]);
        assert!(storms.held("slack", "dev").await.unwrap().is_empty());
        storms.forget("slack", "ops", &held[0]).await;
        let left = storms.held("slack", "ops").await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].envelope.id, "ntf_b");
    }

    #[tokio::test]
    async fn off_sends_everything_and_holds_nothing() {
        let state = state();
        let storms = Storms::new(&state, StormLimit::off());
        for _ in 0..100 {
            assert_eq!(
                storms.admit("slack", "ops", at(0), false).await.unwrap(),
                Admission::Send
            );
        }
        assert!(state.list("").await.unwrap().is_empty());
    }
}
