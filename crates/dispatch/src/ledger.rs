//! The delivery ledger: one item per (envelope id, integration, destination), written with a
//! conditional put before anything is sent, so a redelivered SQS message, a retry or a second
//! concurrent invocation never sends the same envelope to the same destination twice.
//!
//! States: `pending` (claimed by an attempt, with the time it was claimed and the time its
//! attempt is over at the latest) and `sent`. A pending claim past that time belongs to an
//! attempt that died mid-way (timeout, crash) and may be taken over. The lease is at most the
//! queue's visibility timeout, after which SQS hands the message to someone else anyway, and the
//! dispatcher shortens it to its invocation's deadline: Lambda stops an invocation there, so a
//! copy of the message waits for the holder's deadline, not for a whole visibility timeout. Built on the [`StateStore`] port: DynamoDB on AWS (conditional
//! `PutItem`), memory in tests and the CLI.

use chrono::{DateTime, Duration, Utc};
use costwatch_store::{StateStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::DispatchError;
use crate::outcome::Delivered;

/// Ledger items outlive SQS's longest retention (14 days), after which no redelivery can come.
const KEEP_DAYS: i64 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Sent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub state: DeliveryState,
    pub claimed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// Attempts that claimed this delivery, the current one included.
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The vendor asked not to be called again before this (`Retry-After`). SQS holds a message
    /// back for at most 12 hours; a longer wait is kept here and the message waits again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
    /// The claiming attempt is over by then (its invocation's deadline); absent in items written
    /// before it was kept, whose claim then lasts `claimed_at` + the lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_until: Option<DateTime<Utc>>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Ours to send; pass it back to [`Ledger::sent`] or [`Ledger::release`].
    Granted(Ticket),
    /// Delivered before: skip.
    AlreadySent,
    /// Another attempt holds a claim that is live until then: leave the message on the queue
    /// until the holder has sent, given up or been stopped.
    InFlight(DateTime<Utc>),
    /// The vendor asked to wait until then: leave the message on the queue until then.
    NotBefore(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    key: String,
    version: u64,
    entry: Entry,
}

pub struct Ledger<'a> {
    store: &'a dyn StateStore,
    lease: Duration,
}

pub fn key(integration: &str, destination: &str, envelope_id: &str) -> String {
    format!("dispatch/{integration}/{destination}/{envelope_id}")
}

fn decode(value: Value) -> Result<Entry, DispatchError> {
    serde_json::from_value(value).map_err(|e| DispatchError::Malformed(format!("ledger item: {e}")))
}

impl<'a> Ledger<'a> {
    pub fn new(store: &'a dyn StateStore, lease: Duration) -> Self {
        Self { store, lease }
    }

    pub async fn claim(
        &self,
        integration: &str,
        destination: &str,
        envelope_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, DispatchError> {
        let key = key(integration, destination, envelope_id);
        // Two rounds: a lost race on the first write re-reads what the winner wrote.
        for _ in 0..2 {
            let current = self.store.get(&key).await?;
            let (expected, attempts) = match &current {
                None => (None, 0),
                Some(item) => {
                    let entry = decode(item.value.clone())?;
                    let live_until = entry.live_until.unwrap_or(entry.claimed_at + self.lease);
                    match entry.state {
                        DeliveryState::Sent => return Ok(Claim::AlreadySent),
                        DeliveryState::Pending if now < live_until => {
                            return Ok(Claim::InFlight(live_until));
                        }
                        DeliveryState::Pending if entry.not_before.is_some_and(|at| now < at) => {
                            return Ok(Claim::NotBefore(entry.not_before.unwrap_or(now)));
                        }
                        DeliveryState::Pending => (Some(item.version), entry.attempts),
                    }
                }
            };
            let entry = Entry {
                state: DeliveryState::Pending,
                claimed_at: now,
                sent_at: None,
                attempts: attempts + 1,
                last_error: None,
                not_before: None,
                live_until: Some(now + self.lease),
            };
            match self.put(&key, &entry, expected).await {
                Ok(version) => {
                    return Ok(Claim::Granted(Ticket {
                        key,
                        version,
                        entry,
                    }));
                }
                Err(DispatchError::Store(StoreError::Conflict { .. })) => continue,
                Err(e) => return Err(e),
            }
        }
        // Lost the race twice: a fresh claim, live for at most the lease.
        Ok(Claim::InFlight(now + self.lease))
    }

    /// Records the delivery. Conditional on our claim still being the live one.
    pub async fn sent(&self, ticket: Ticket, now: DateTime<Utc>) -> Result<(), DispatchError> {
        let entry = Entry {
            state: DeliveryState::Sent,
            sent_at: Some(now),
            ..ticket.entry
        };
        self.put(&ticket.key, &entry, Some(ticket.version)).await?;
        Ok(())
    }

    /// Gives the claim up after a failed attempt, so the next one may claim at once — or, with
    /// `not_before`, once the vendor's wait is over.
    pub async fn release(
        &self,
        ticket: Ticket,
        error: &str,
        not_before: Option<DateTime<Utc>>,
    ) -> Result<(), DispatchError> {
        let entry = Entry {
            // Claimed "long ago": the next attempt takes over without waiting for the lease.
            claimed_at: DateTime::<Utc>::UNIX_EPOCH,
            live_until: None,
            last_error: Some(error.chars().take(500).collect()),
            not_before,
            ..ticket.entry
        };
        self.put(&ticket.key, &entry, Some(ticket.version)).await?;
        Ok(())
    }

    pub async fn entry(
        &self,
        integration: &str,
        destination: &str,
        envelope_id: &str,
    ) -> Result<Option<Entry>, DispatchError> {
        match self
            .store
            .get(&key(integration, destination, envelope_id))
            .await?
        {
            Some(item) => Ok(Some(decode(item.value)?)),
            None => Ok(None),
        }
    }

    async fn put(
        &self,
        key: &str,
        entry: &Entry,
        expected: Option<u64>,
    ) -> Result<u64, DispatchError> {
        let value = serde_json::to_value(entry)
            .map_err(|e| DispatchError::Malformed(format!("ledger item: {e}")))?;
        let expires = entry.claimed_at.max(Utc::now()) + Duration::days(KEEP_DAYS);
        Ok(self.store.put(key, value, expected, Some(expires)).await?)
    }
}

/// What an integration remembered about a subject at a destination (Slack: channel and `ts` of
/// the first message), kept as long as anomalies stay open.
pub struct Memos<'a> {
    store: &'a dyn StateStore,
}

const MEMO_DAYS: i64 = 90;

impl<'a> Memos<'a> {
    pub fn new(store: &'a dyn StateStore) -> Self {
        Self { store }
    }

    fn key(integration: &str, destination: &str, subject_id: &str) -> String {
        format!("dispatch-memo/{integration}/{destination}/{subject_id}")
    }

    pub async fn get(
        &self,
        integration: &str,
        destination: &str,
        subject_id: &str,
    ) -> Result<Option<Value>, DispatchError> {
        Ok(self
            .store
            .get(&Self::key(integration, destination, subject_id))
            .await?
            .map(|v| v.value))
    }

    /// Keeps the first memo of a subject: later messages thread onto the original, not onto
    /// each other. A memo already there wins.
    pub async fn keep_first(
        &self,
        integration: &str,
        destination: &str,
        subject_id: &str,
        memo: Value,
    ) -> Result<(), DispatchError> {
        let key = Self::key(integration, destination, subject_id);
        let expires = Utc::now() + Duration::days(MEMO_DAYS);
        match self.store.put(&key, memo, None, Some(expires)).await {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The steps of a multi-step message (Slack's post, then its chart's three upload calls) that
/// went through before a retry was needed: a redelivery resumes after them instead of posting
/// the message again. Kept a day, past any retry; a delivered message is in the ledger and never
/// read here again.
pub struct Progress<'a> {
    store: &'a dyn StateStore,
}

const PROGRESS_DAYS: i64 = 1;

impl<'a> Progress<'a> {
    pub fn new(store: &'a dyn StateStore) -> Self {
        Self { store }
    }

    /// One key per message: the integration, the destination and its envelopes' ledger keys.
    pub fn key(integration: &str, destination: &str, tickets: &[&Ticket]) -> String {
        let keys: Vec<&str> = tickets.iter().map(|t| t.key.as_str()).collect();
        let message = costwatch_core::ids::stable_id("msg", &keys);
        format!("dispatch-progress/{integration}/{destination}/{message}")
    }

    /// The answers of the steps done, in order, with the stored version (none yet: empty).
    pub async fn get(&self, key: &str) -> Result<(Vec<Delivered>, Option<u64>), DispatchError> {
        let Some(stored) = self.store.get(key).await? else {
            return Ok((Vec::new(), None));
        };
        let done = serde_json::from_value(stored.value)
            .map_err(|e| DispatchError::Malformed(format!("progress item: {e}")))?;
        Ok((done, Some(stored.version)))
    }

    /// Records the answers of the steps done so far (a later write wins only over the version
    /// it read: two deliveries of one message cannot interleave their steps).
    pub async fn put(
        &self,
        key: &str,
        done: &[Delivered],
        expected: Option<u64>,
    ) -> Result<(), DispatchError> {
        let value = serde_json::to_value(done)
            .map_err(|e| DispatchError::Malformed(format!("progress item: {e}")))?;
        let expires = Utc::now() + Duration::days(PROGRESS_DAYS);
        self.store.put(key, value, expected, Some(expires)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_store::memory::MemoryState;

    #[tokio::test]
    async fn a_delivery_is_claimed_once_and_never_twice_after_it_is_sent() {
        let store = MemoryState::default();
        let ledger = Ledger::new(&store, Duration::minutes(6));
        let now: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();
        let Claim::Granted(ticket) = ledger.claim("slack", "finops", "ntf_1", now).await.unwrap()
        else {
            panic!("first claim is granted");
        };
        // A concurrent attempt (a redelivery while we send) backs off.
        assert_eq!(
            ledger.claim("slack", "finops", "ntf_1", now).await.unwrap(),
            Claim::InFlight(now + Duration::minutes(6))
        );
        // Another destination is a separate delivery.
        assert!(matches!(
            ledger.claim("slack", "ml", "ntf_1", now).await.unwrap(),
            Claim::Granted(_)
        ));
        ledger.sent(ticket, now).await.unwrap();
        let later = now + Duration::hours(1);
        assert_eq!(
            ledger
                .claim("slack", "finops", "ntf_1", later)
                .await
                .unwrap(),
            Claim::AlreadySent
        );
    }

    #[tokio::test]
    async fn a_vendor_wait_longer_than_sqs_can_hold_is_kept_until_it_is_over() {
        let store = MemoryState::default();
        let ledger = Ledger::new(&store, Duration::minutes(6));
        let now: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();
        let Claim::Granted(t) = ledger.claim("slack", "d", "n", now).await.unwrap() else {
            panic!()
        };
        let until = now + Duration::hours(20);
        ledger.release(t, "HTTP 429", Some(until)).await.unwrap();
        // Redelivered after SQS's 12 hours: still too early, the message waits the rest.
        let half = now + Duration::hours(12);
        assert_eq!(
            ledger.claim("slack", "d", "n", half).await.unwrap(),
            Claim::NotBefore(until)
        );
        let Claim::Granted(t2) = ledger.claim("slack", "d", "n", until).await.unwrap() else {
            panic!("free once the wait is over")
        };
        assert_eq!(t2.entry.not_before, None);
    }

    #[tokio::test]
    async fn released_and_expired_claims_are_taken_over() {
        let store = MemoryState::default();
        let ledger = Ledger::new(&store, Duration::minutes(6));
        let now: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();
        let Claim::Granted(t) = ledger.claim("slack", "d", "n", now).await.unwrap() else {
            panic!()
        };
        ledger.release(t, "HTTP 500", None).await.unwrap();
        let Claim::Granted(t2) = ledger.claim("slack", "d", "n", now).await.unwrap() else {
            panic!("a released claim is free at once")
        };
        assert_eq!(t2.entry.attempts, 2);
        // The second attempt dies without releasing: after the lease, a third takes over.
        assert_eq!(
            ledger.claim("slack", "d", "n", now).await.unwrap(),
            Claim::InFlight(now + Duration::minutes(6))
        );
        let after_lease = now + Duration::minutes(7);
        let Claim::Granted(t3) = ledger.claim("slack", "d", "n", after_lease).await.unwrap() else {
            panic!()
        };
        // The dead attempt's late "sent" loses the conditional write.
        assert!(ledger.sent(t2, after_lease).await.is_err());
        ledger.sent(t3, after_lease).await.unwrap();
        let e = ledger.entry("slack", "d", "n").await.unwrap().unwrap();
        assert_eq!((e.state, e.attempts), (DeliveryState::Sent, 3));
    }

    #[tokio::test]
    async fn a_claim_lasts_as_long_as_its_holder_may_run_not_a_whole_lease() {
        let store = MemoryState::default();
        let now: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();
        // An invocation with 70 s left claims; a copy of the message, handled by an invocation
        // with the full lease, waits for the holder's end only.
        let holder = Ledger::new(&store, Duration::seconds(70));
        let copy = Ledger::new(&store, Duration::minutes(6));
        let Claim::Granted(_) = holder.claim("slack", "d", "n", now).await.unwrap() else {
            panic!()
        };
        let until = now + Duration::seconds(70);
        assert_eq!(
            copy.claim("slack", "d", "n", now + Duration::seconds(10))
                .await
                .unwrap(),
            Claim::InFlight(until)
        );
        assert!(matches!(
            copy.claim("slack", "d", "n", until).await.unwrap(),
            Claim::Granted(_)
        ));
    }

    #[tokio::test]
    async fn a_claim_written_before_its_end_was_kept_lasts_the_lease() {
        let store = MemoryState::default();
        let now: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();
        let old = serde_json::json!({"state": "pending", "claimed_at": now, "attempts": 1});
        store
            .put(&key("slack", "d", "n"), old, None, None)
            .await
            .unwrap();
        let ledger = Ledger::new(&store, Duration::minutes(6));
        assert_eq!(
            ledger
                .claim("slack", "d", "n", now + Duration::minutes(5))
                .await
                .unwrap(),
            Claim::InFlight(now + Duration::minutes(6))
        );
    }
}
