//! SQS and its Lambda event source mapping, on a clock the drills move instead of the wall's:
//! messages become visible at a time, are received up to a batch at a time by several concurrent
//! invocations of the real SQS handler, and come back after the visibility the handler asked for
//! (or the queue's visibility timeout, when the invocation died) with their receive count raised.
//! [`Chaos`] adds what SQS and Lambda do on a bad day: a message delivered twice (SQS is at least
//! once) and an invocation that dies mid-batch.
//!
//! The clock is the `now` the handler gets, so leases, vendor waits and storm windows pass in
//! simulated minutes while the HTTP requests to the vendor fake are real.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

/// The event source mapping and queue settings of templates/dispatcher.yaml.
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    /// Messages per invocation (the mapping's `BatchSize`).
    pub batch_size: usize,
    /// Invocations at once.
    pub concurrency: usize,
    /// The queue's `VisibilityTimeout`: when a message whose invocation died comes back.
    pub visibility: chrono::Duration,
    /// The redrive policy's `maxReceiveCount` (and the Lambda's `COSTWATCH_MAX_RECEIVES`).
    pub max_receives: u32,
    /// Simulated time one round of invocations takes.
    pub step: chrono::Duration,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            batch_size: 100,
            concurrency: 5,
            visibility: chrono::Duration::seconds(360),
            max_receives: 5,
            step: chrono::Duration::seconds(1),
        }
    }
}

impl Mapping {
    /// The deployed mapping's receives for the integration `name`: template.yaml's
    /// `MaxReceiveCount` for its nested dispatcher stack, else templates/dispatcher.yaml's
    /// default. Panics when the integration has no stack.
    pub fn template_receives(name: &str) -> u32 {
        let template = costwatch_testkit::template::Template::load("template.yaml");
        let resources = template.body["Resources"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let (logical, stack) = resources
            .iter()
            .find(|(_, r)| r["Properties"]["Parameters"]["IntegrationName"] == name)
            .unwrap_or_else(|| panic!("template.yaml has no dispatcher stack for {name}"));
        let given = &stack["Properties"]["Parameters"]["MaxReceiveCount"];
        let receives = if given.is_null() {
            template.nested[logical].body["Parameters"]["MaxReceiveCount"]["Default"].clone()
        } else {
            given.clone()
        };
        receives
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| receives.as_str().map(str::to_owned))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{logical}'s MaxReceiveCount is not a number: {receives}"))
    }

    /// [`Mapping::template_receives`], checked against the integration's own
    /// [`Configured::max_receives`] (which its Lambda falls back on).
    ///
    /// [`Configured::max_receives`]: costwatch_dispatch::Configured::max_receives
    pub fn deployed_receives(configured: &dyn costwatch_dispatch::Configured) -> u32 {
        let receives = Self::template_receives(configured.name());
        assert_eq!(
            receives,
            configured.max_receives(),
            "template.yaml dead-letters {}'s messages after {receives} receives, its MAX_RECEIVES says {}",
            configured.name(),
            configured.max_receives()
        );
        receives
    }
}

/// What goes wrong besides the vendor. Counted, not rolled, so a small drill has its crashes
/// and duplicates for certain; the seed picks when within the 30 s and the 20 ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chaos {
    /// Every this many received messages, SQS delivers one a second time within 30 s (0: never).
    pub duplicate_every: usize,
    /// Every this many invocations, one dies (is dropped mid-flight) 0–20 ms of wall time after
    /// it starts (0: never).
    pub crash_every: usize,
    pub seed: u64,
}

/// Whether the `n`th (1-based) of something is one of every `every`.
fn one_in(n: usize, every: usize) -> bool {
    every > 0 && n.is_multiple_of(every)
}

#[derive(Debug, Clone)]
struct Message {
    id: String,
    body: String,
    receives: u32,
}

/// What a drain did.
#[derive(Debug, Clone, Default)]
pub struct Drained {
    /// Rounds of concurrent invocations.
    pub rounds: usize,
    pub invocations: usize,
    /// Copies SQS delivered a second time.
    pub duplicates: usize,
    /// Invocations that died, and the ids of the messages they held.
    pub crashes: usize,
    pub crashed_ids: BTreeSet<String>,
    /// `(envelope body, reason)` of every dead letter, in order.
    pub dead: Vec<(String, String)>,
    /// Simulated time from the first message's arrival until the queue was empty.
    pub drain_time: chrono::Duration,
}

pub struct SimQueue {
    mapping: Mapping,
    chaos: Chaos,
    rng: ChaCha8Rng,
    /// By the time each becomes visible, then arrival order.
    waiting: BTreeMap<(DateTime<Utc>, u64), Message>,
    sequence: u64,
    received: usize,
    invoked: usize,
}

impl SimQueue {
    pub fn new(mapping: Mapping, chaos: Chaos) -> Self {
        Self {
            mapping,
            chaos,
            rng: ChaCha8Rng::seed_from_u64(chaos.seed),
            waiting: BTreeMap::new(),
            sequence: 0,
            received: 0,
            invoked: 0,
        }
    }

    /// A message sent to the queue, visible from `at`.
    pub fn send_at(&mut self, at: DateTime<Utc>, id: &str, body: &str) {
        self.put(
            at,
            Message {
                id: id.to_owned(),
                body: body.to_owned(),
                receives: 0,
            },
        );
    }

    fn put(&mut self, at: DateTime<Utc>, message: Message) {
        self.sequence += 1;
        self.waiting.insert((at, self.sequence), message);
    }

    /// Runs invocations until the queue is empty, or `Err` with the ids still there after
    /// `max_rounds`.
    pub async fn drain(
        &mut self,
        dispatcher: &Dispatcher<'_>,
        max_rounds: usize,
    ) -> Result<Drained, Vec<String>> {
        let mut drained = Drained::default();
        let Some(&(start, _)) = self.waiting.keys().next() else {
            return Ok(drained);
        };
        let mut now = start;
        while let Some(&(first, _)) = self.waiting.keys().next() {
            if drained.rounds == max_rounds {
                return Err(self.waiting.values().map(|m| m.id.clone()).collect());
            }
            drained.rounds += 1;
            now = now.max(first);
            let batches = self.receive(now, &mut drained);
            drained.invocations += batches.len();
            let crash_after: Vec<Option<Duration>> = batches
                .iter()
                .map(|_| {
                    self.invoked += 1;
                    one_in(self.invoked, self.chaos.crash_every)
                        .then(|| Duration::from_micros(self.rng.random_range(0..20_000)))
                })
                .collect();
            let outcomes = futures_util::future::join_all(batches.iter().zip(&crash_after).map(
                |(batch, crash)| invoke(dispatcher, batch, self.mapping.max_receives, now, *crash),
            ))
            .await;
            for (batch, outcome) in batches.into_iter().zip(outcomes) {
                self.settle(batch, outcome, now, &mut drained);
            }
            now += self.mapping.step;
        }
        drained.drain_time = now - start;
        Ok(drained)
    }

    /// The messages visible at `now`, up to a batch per invocation, with SQS's occasional second
    /// copy of one queued again. A message past the redrive policy's receives is moved to the
    /// dead-letter queue by SQS itself, without a reason.
    fn receive(&mut self, now: DateTime<Utc>, drained: &mut Drained) -> Vec<Vec<Message>> {
        let room = self.mapping.batch_size * self.mapping.concurrency;
        let mut taken = Vec::new();
        while taken.len() < room {
            let Some(entry) = self.waiting.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let mut message = entry.remove();
            message.receives += 1;
            if message.receives > self.mapping.max_receives {
                let reason = format!(
                    "moved by the redrive policy after {} receives",
                    message.receives - 1
                );
                drained.dead.push((message.body, reason));
                continue;
            }
            taken.push(message);
        }
        for message in &taken {
            self.received += 1;
            if one_in(self.received, self.chaos.duplicate_every) {
                drained.duplicates += 1;
                let later = chrono::Duration::seconds(self.rng.random_range(0..30));
                let copy = Message {
                    receives: message.receives,
                    ..message.clone()
                };
                self.put(now + later, copy);
            }
        }
        taken
            .chunks(self.mapping.batch_size)
            .map(<[Message]>::to_vec)
            .collect()
    }

    /// Deletes what the invocation finished, queues again what it gave back (after the delay it
    /// asked for) and, when it died, its whole batch after the visibility timeout.
    fn settle(
        &mut self,
        batch: Vec<Message>,
        outcome: Option<(Vec<String>, MemoryQueue)>,
        now: DateTime<Utc>,
        drained: &mut Drained,
    ) {
        let Some((failures, queue)) = outcome else {
            drained.crashes += 1;
            for message in batch {
                drained.crashed_ids.insert(message.id.clone());
                self.put(now + self.mapping.visibility, message);
            }
            return;
        };
        let delays: BTreeMap<String, Duration> = queue
            .delays
            .lock()
            .expect("queue lock")
            .iter()
            .cloned()
            .collect();
        drained
            .dead
            .extend(queue.dead.lock().expect("queue lock").iter().cloned());
        for message in batch {
            if !failures.contains(&message.id) {
                continue;
            }
            let after = delays
                .get(&message.id)
                .and_then(|d| chrono::Duration::from_std(*d).ok())
                .unwrap_or(self.mapping.visibility);
            self.put(now + after, message);
        }
    }
}

/// One invocation of the SQS handler on `batch`: the ids it gives back and what it asked of the
/// queue, or `None` when it died `crash` into its run.
async fn invoke(
    dispatcher: &Dispatcher<'_>,
    batch: &[Message],
    max_receives: u32,
    now: DateTime<Utc>,
    crash: Option<Duration>,
) -> Option<(Vec<String>, MemoryQueue)> {
    let records: Vec<(String, String, u32)> = batch
        .iter()
        .map(|m| (m.id.clone(), m.body.clone(), m.receives))
        .collect();
    let event = event_of(&records);
    let queue = MemoryQueue::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    let handled = handle_batch(dispatcher, &queue, &event, max_receives, now, deadline);
    let response = match crash {
        None => handled.await,
        Some(after) => tokio::select! {
            response = handled => response,
            () = tokio::time::sleep(after) => return None,
        },
    };
    let failures = response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    Some((failures, queue))
}
