//! One batch of envelopes through one integration: route, claim in the ledger, digest storms,
//! respect the rate limit, render, send, record. Each input message gets a [`Verdict`]; the SQS
//! handler turns those into partial batch failures, visibility delays and dead letters.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use costwatch_core::Notification;
use costwatch_store::StateStore;
use tokio::time::Instant;

use crate::integration::{Message, RenderContext};
use crate::ledger::{Claim, Ledger, Memos, Ticket};
use crate::metrics;
use crate::rate::Limiter;
use crate::registry::Configured;
use crate::sender::{Sender, Sent};

/// One queued message.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub message_id: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Delivered (or deliberately not: unrouted, already sent) to every destination.
    Done,
    /// Try again after `after` (visibility timeout).
    Retry { after: Duration, reason: String },
    /// Can never succeed as it is: dead-letter with the reason.
    Dead { reason: String },
}

impl Verdict {
    /// Retry wins over dead (a destination that can still succeed must get its chance; the ledger
    /// keeps the ones that did from sending again), dead over done.
    fn merge(self, other: Verdict) -> Verdict {
        match (self, other) {
            (r @ Verdict::Retry { .. }, _) | (_, r @ Verdict::Retry { .. }) => r,
            (d @ Verdict::Dead { .. }, _) | (_, d @ Verdict::Dead { .. }) => d,
            _ => Verdict::Done,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// This many envelopes or more for one destination in a batch become one digest message.
    pub digest_from: usize,
    /// How long a ledger claim holds (the queue's visibility timeout).
    pub lease: chrono::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            digest_from: 5,
            lease: chrono::Duration::seconds(360),
        }
    }
}

pub struct Dispatcher<'a> {
    pub integration: &'a dyn Configured,
    pub state: &'a dyn StateStore,
    pub sender: &'a Sender,
    pub limiter: &'a Limiter,
    pub settings: Settings,
}

impl Dispatcher<'_> {
    pub async fn dispatch(
        &self,
        batch: &[Incoming],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Vec<(String, Verdict)> {
        let mut verdicts: BTreeMap<usize, Verdict> = BTreeMap::new();
        let mut envelopes: Vec<Option<Notification>> = Vec::new();
        // destination → indexes of envelopes routed there
        let mut routed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let all = self.integration.destinations();
        for (i, message) in batch.iter().enumerate() {
            let envelope = match serde_json::from_str::<Notification>(&message.body) {
                Ok(n) => n,
                Err(e) => {
                    verdicts.insert(
                        i,
                        Verdict::Dead {
                            reason: format!("not a notification envelope: {e}"),
                        },
                    );
                    envelopes.push(None);
                    continue;
                }
            };
            let routing = self.integration.routing();
            if let Some(until) = routing.hold_until(&envelope, now) {
                let after = (until - now).to_std().unwrap_or_default();
                verdicts.insert(
                    i,
                    Verdict::Retry {
                        after,
                        reason: "quiet hours".into(),
                    },
                );
                envelopes.push(None);
                continue;
            }
            let destinations = routing.destinations(&envelope, &all);
            if destinations.is_empty() {
                tracing::warn!(integration = self.integration.name(), envelope = %envelope.id, "no routing rule matches and there is no fallback");
            }
            for d in destinations {
                routed.entry(d).or_default().push(i);
            }
            verdicts.insert(i, Verdict::Done);
            envelopes.push(Some(envelope));
        }

        for (destination, indexes) in routed {
            for (i, v) in self
                .to_destination(&destination, &indexes, &envelopes, now, deadline)
                .await
            {
                let merged = verdicts.remove(&i).unwrap_or(Verdict::Done).merge(v);
                verdicts.insert(i, merged);
            }
        }
        verdicts
            .into_iter()
            .map(|(i, v)| (batch[i].message_id.clone(), v))
            .collect()
    }

    async fn to_destination(
        &self,
        destination: &str,
        indexes: &[usize],
        envelopes: &[Option<Notification>],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Vec<(usize, Verdict)> {
        let name = self.integration.name();
        let ledger = Ledger::new(self.state, self.settings.lease);
        let mut out = Vec::new();
        let mut granted: Vec<(usize, Ticket)> = Vec::new();
        for &i in indexes {
            let Some(n) = &envelopes[i] else { continue };
            match ledger.claim(name, destination, &n.id, now).await {
                Ok(Claim::Granted(t)) => granted.push((i, t)),
                Ok(Claim::AlreadySent) => out.push((i, Verdict::Done)),
                Ok(Claim::InFlight) => out.push((
                    i,
                    Verdict::Retry {
                        after: self.settings.lease.to_std().unwrap_or_default(),
                        reason: format!("{destination}: another attempt is delivering it"),
                    },
                )),
                Err(e) => out.push((
                    i,
                    Verdict::Retry {
                        after: Duration::from_secs(5),
                        reason: format!("ledger: {e}"),
                    },
                )),
            }
        }
        // A storm becomes one message; otherwise one message per envelope.
        let groups: Vec<Vec<(usize, Ticket)>> = if granted.len() >= self.settings.digest_from {
            metrics::digested(name, granted.len() as u64);
            vec![granted]
        } else {
            granted.into_iter().map(|g| vec![g]).collect()
        };
        for group in groups {
            let mut members: Vec<Notification> = group
                .iter()
                .filter_map(|(i, _)| envelopes[*i].clone())
                .collect();
            members.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then(a.created_at.cmp(&b.created_at))
            });
            let verdict = self
                .deliver(destination, &members, &group, now, deadline)
                .await;
            out.extend(group.iter().map(|(i, _)| (*i, verdict.clone())));
        }
        out
    }

    /// Sends one message (one envelope or a digest) and settles its ledger tickets.
    async fn deliver(
        &self,
        destination: &str,
        members: &[Notification],
        group: &[(usize, Ticket)],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Verdict {
        let name = self.integration.name();
        let ledger = Ledger::new(self.state, self.settings.lease);
        let memos = Memos::new(self.state);
        let message = match members {
            [one] => Message::One(one),
            many => Message::Digest(many),
        };
        let mut context = RenderContext::default();
        if let Message::One(n) = message {
            match memos.get(name, destination, &n.subject_id).await {
                Ok(memo) => context.memo = memo,
                Err(e) => {
                    return self
                        .release(
                            group,
                            Verdict::Retry {
                                after: Duration::from_secs(5),
                                reason: format!("memo: {e}"),
                            },
                        )
                        .await;
                }
            }
        }
        let requests = match self.integration.render(destination, message, &context) {
            Ok(r) => r,
            Err(e) => {
                metrics::failed(name);
                return self
                    .release(
                        group,
                        Verdict::Dead {
                            reason: format!("{destination}: {e}"),
                        },
                    )
                    .await;
            }
        };
        // The rate limit: wait for a slot if it comes in time, else back to the queue.
        loop {
            match self.limiter.try_take(destination) {
                Ok(()) => break,
                Err(wait) if wait < deadline.saturating_duration_since(Instant::now()) => {
                    tokio::time::sleep(wait).await;
                }
                Err(wait) => {
                    return self
                        .release(
                            group,
                            Verdict::Retry {
                                after: wait.max(Duration::from_secs(1)),
                                reason: format!("{destination}: rate limit"),
                            },
                        )
                        .await;
                }
            }
        }
        let started = Instant::now();
        match self
            .sender
            .exchange(self.integration, &requests, deadline)
            .await
        {
            Sent::Delivered { answers, retries } => {
                metrics::sent(name, 1, started.elapsed());
                metrics::retried(name, u64::from(retries));
                if let Message::One(n) = message
                    && let Some(memo) = self.integration.remember(destination, message, &answers)
                    && let Err(e) = memos
                        .keep_first(name, destination, &n.subject_id, memo)
                        .await
                {
                    tracing::warn!(integration = name, error = %e, "cannot keep the message reference; later states post anew");
                }
                for (_, ticket) in group {
                    if let Err(e) = ledger.sent(ticket.clone(), now).await {
                        // Delivered, but not recorded: the claim expires with its lease and a
                        // redelivery after that would send again. Say so loudly.
                        tracing::error!(integration = name, error = %e, "delivered but the ledger write failed");
                    }
                }
                Verdict::Done
            }
            Sent::Requeue {
                after,
                reason,
                retries,
            } => {
                metrics::retried(name, u64::from(retries) + 1);
                self.release(group, Verdict::Retry { after, reason }).await
            }
            Sent::Failed { reason, retries } => {
                metrics::retried(name, u64::from(retries));
                metrics::failed(name);
                tracing::error!(integration = name, reason = %reason, "delivery failed for good");
                self.release(group, Verdict::Dead { reason }).await
            }
        }
    }

    async fn release(&self, group: &[(usize, Ticket)], verdict: Verdict) -> Verdict {
        let ledger = Ledger::new(self.state, self.settings.lease);
        let reason = match &verdict {
            Verdict::Retry { reason, .. } | Verdict::Dead { reason } => reason.clone(),
            Verdict::Done => String::new(),
        };
        for (_, ticket) in group {
            if let Err(e) = ledger.release(ticket.clone(), &reason).await {
                // The claim then expires with its lease; only the retry waits longer.
                tracing::warn!(error = %e, "cannot release a ledger claim");
            }
        }
        verdict
    }
}
