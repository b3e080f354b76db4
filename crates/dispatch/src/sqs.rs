//! The SQS side of a dispatcher: an `SqsEvent` batch in, an `SqsBatchResponse` out with only the
//! messages that must come back (partial batch failures; the rest are deleted). A retry sets the
//! message's visibility to the wait the vendor asked for; a message that cannot succeed, or has
//! been received `max_receives` times, goes to the dead-letter queue with its reason — never
//! dropped, never retried in a loop.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use tokio::time::Instant;

use crate::dispatcher::{Dispatcher, Incoming, Verdict};

/// SQS allows at most 12 hours of visibility.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// One message of the batch with what the queue needs to act on it.
#[derive(Debug, Clone)]
pub struct Record {
    pub incoming: Incoming,
    pub receipt_handle: String,
    pub receive_count: u32,
}

/// What a handler asks of the queue (SQS on AWS; memory in tests).
#[async_trait]
pub trait Queue: Send + Sync {
    /// Makes the message visible again after `after` (ChangeMessageVisibility).
    async fn delay(&self, record: &Record, after: Duration) -> Result<(), String>;
    /// Sends the message body to the dead-letter queue with `reason`.
    async fn dead_letter(&self, record: &Record, reason: &str) -> Result<(), String>;
}

pub fn records(event: &SqsEvent) -> Vec<Record> {
    event
        .records
        .iter()
        .map(|m| Record {
            incoming: Incoming {
                message_id: m.message_id.clone().unwrap_or_default(),
                body: m.body.clone().unwrap_or_default(),
            },
            receipt_handle: m.receipt_handle.clone().unwrap_or_default(),
            receive_count: m
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
        })
        .collect()
}

/// Handles one batch (see the module docs).
pub async fn handle_batch(
    dispatcher: &Dispatcher<'_>,
    queue: &dyn Queue,
    event: &SqsEvent,
    max_receives: u32,
    now: DateTime<Utc>,
    deadline: Instant,
) -> SqsBatchResponse {
    let records = records(event);
    let batch: Vec<Incoming> = records.iter().map(|r| r.incoming.clone()).collect();
    let last: BTreeSet<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.receive_count >= max_receives)
        .map(|(i, _)| i)
        .collect();
    let verdicts = dispatch_isolating_panics(dispatcher, &batch, &last, now, deadline).await;
    let mut response = SqsBatchResponse::default();
    for (record, (_, verdict)) in records.iter().zip(verdicts) {
        let id = &record.incoming.message_id;
        let come_back = match verdict {
            Verdict::Done => false,
            Verdict::Retry { reason, .. } if record.receive_count >= max_receives => {
                let reason = format!("gave up after {} receives: {reason}", record.receive_count);
                dead_letter(queue, record, &reason).await
            }
            Verdict::Retry { after, reason } => {
                tracing::info!(message_id = %id, reason = %reason, ?after, "back to the queue");
                if let Err(e) = queue.delay(record, after.min(MAX_VISIBILITY)).await {
                    // The message still comes back, after the queue's own visibility timeout.
                    tracing::warn!(message_id = %id, error = %e, "cannot set the visibility");
                }
                true
            }
            Verdict::Dead { reason } => dead_letter(queue, record, &reason).await,
        };
        if come_back {
            response.add_failure(id.clone());
        }
    }
    response
}

/// The batch's verdicts. A panic (a bug, e.g. an envelope an encoder did not expect) would
/// otherwise fail the whole batch: every message would come back until the redrive policy
/// dead-lettered them all without a reason. Instead the batch is handled again one message at a
/// time — the delivery ledger keeps what was already sent from being sent twice — and the
/// message that panics alone goes to the dead-letter queue, with the panic as its reason.
async fn dispatch_isolating_panics(
    dispatcher: &Dispatcher<'_>,
    batch: &[Incoming],
    last: &BTreeSet<usize>,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Vec<(String, Verdict)> {
    let whole = AssertUnwindSafe(dispatcher.dispatch_receiving(batch, last, now, deadline));
    let panic = match whole.catch_unwind().await {
        Ok(verdicts) => return verdicts,
        Err(panic) => panic,
    };
    tracing::error!(panic = %crate::panics::reason(panic.as_ref()), messages = batch.len(),
        "a message panicked the batch: handling each message alone");
    let mut verdicts = Vec::with_capacity(batch.len());
    for (i, incoming) in batch.iter().enumerate() {
        let alone: BTreeSet<usize> = last.contains(&i).then_some(0).into_iter().collect();
        let one = AssertUnwindSafe(dispatcher.dispatch_receiving(
            std::slice::from_ref(incoming),
            &alone,
            now,
            deadline,
        ));
        match one.catch_unwind().await {
            Ok(mut verdict) => verdicts.push(verdict.pop().unwrap_or_else(|| {
                let reason = "the dispatcher gave no verdict".to_owned();
                (
                    incoming.message_id.clone(),
                    Verdict::Retry {
                        after: Duration::ZERO,
                        reason,
                    },
                )
            })),
            Err(panic) => verdicts.push((
                incoming.message_id.clone(),
                Verdict::Dead {
                    reason: crate::panics::reason(panic.as_ref()),
                },
            )),
        }
    }
    verdicts
}

/// `true` when the message must stay on the queue because the dead-letter queue refused it.
async fn dead_letter(queue: &dyn Queue, record: &Record, reason: &str) -> bool {
    tracing::error!(message_id = %record.incoming.message_id, reason = %reason, "to the dead-letter queue");
    match queue.dead_letter(record, reason).await {
        Ok(()) => false,
        Err(e) => {
            tracing::error!(error = %e, "dead-letter queue refused; the message stays for the redrive policy");
            true
        }
    }
}

/// Keeps what was asked, for tests and the CLI.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub delays: std::sync::Mutex<Vec<(String, Duration)>>,
    pub dead: std::sync::Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn delay(&self, record: &Record, after: Duration) -> Result<(), String> {
        self.delays
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((record.incoming.message_id.clone(), after));
        Ok(())
    }

    async fn dead_letter(&self, record: &Record, reason: &str) -> Result<(), String> {
        self.dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((record.incoming.body.clone(), reason.to_owned()));
        Ok(())
    }
}

/// An SQS event of `(message id, body, receive count)` messages, as Lambda would pass it.
pub fn event_of(messages: &[(String, String, u32)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|(id, body, receives)| {
            let mut m = SqsMessage::default();
            m.message_id = Some(id.clone());
            m.receipt_handle = Some(format!("rh-{id}"));
            m.body = Some(body.clone());
            m.attributes
                .insert("ApproximateReceiveCount".into(), receives.to_string());
            m
        })
        .collect();
    event
}

/// SQS's side of a fault drill: `messages` (id, body) handled ten to a batch as the Lambda
/// handles them, every message the handler gives back delivered again with its receive count
/// raised, until none comes back. `Ok(rounds)`, or the ids still coming back after
/// `max_rounds`. Dead letters stay in `queue` for the caller to check.
pub async fn redeliver_until_drained(
    dispatcher: &Dispatcher<'_>,
    queue: &MemoryQueue,
    messages: Vec<(String, String)>,
    max_rounds: usize,
) -> Result<usize, Vec<String>> {
    let mut pending: Vec<(String, String, u32)> = messages
        .into_iter()
        .map(|(id, body)| (id, body, 1))
        .collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        if rounds == max_rounds {
            return Err(pending.into_iter().map(|(id, ..)| id).collect());
        }
        rounds += 1;
        let mut again = Vec::new();
        for batch in pending.chunks(10) {
            let deadline = Instant::now() + Duration::from_secs(60);
            let response = handle_batch(
                dispatcher,
                queue,
                &event_of(batch),
                1000,
                Utc::now(),
                deadline,
            )
            .await;
            for failure in response.batch_item_failures {
                if let Some((id, body, receives)) =
                    batch.iter().find(|(id, ..)| *id == failure.item_identifier)
                {
                    again.push((id.clone(), body.clone(), receives + 1));
                }
            }
        }
        pending = again;
    }
    Ok(rounds)
}
