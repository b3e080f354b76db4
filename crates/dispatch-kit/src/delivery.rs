//! The checks that send, through the real [`Dispatcher`] and the SQS batch handler with a
//! [`MemoryQueue`] and a [`MemoryState`] ledger, against the integration's vendor fake:
//! refusals and an unreachable vendor (secrets stay out of dead-letter reasons, the ledger and the
//! logs), a fault drill (exactly once through 429/5xx/hangs/drops), and a crash mid-batch.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_core::Notification;
use costwatch_dispatch::RateLimit;
use costwatch_dispatch::dispatcher::{Dispatcher, Settings, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch::storm::StormLimit;
use costwatch_dispatch::{Configured, Message, RenderContext};
use costwatch_store::StateStore;
use costwatch_store::memory::{MemoryLake, MemoryState};
use costwatch_vendor_fakes::faults::exactly_once;
use costwatch_vendor_fakes::logs::LogCapture;
use costwatch_vendor_fakes::server::{FakeServer, Received};
use tokio::time::Instant;

use crate::envelopes::{batch, ids_in, lake_of, numbered_for, object_text, objects_of, queued};
use crate::vendors::{Crash, CrashPoint, Recorder, Refuse};
use crate::{Conformance, Sends};

pub use crate::drill::{DrillFigures, fault_drill, fault_drill_of};

/// Receives before a message is dead-lettered (the Lambda's `COSTWATCH_MAX_RECEIVES`).
pub(crate) const MAX_RECEIVES: u32 = 5;

/// Quick retries, `attempts` per request in one invocation.
pub(crate) fn quick_retries(attempts: usize) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    }
}

/// How the suite's dispatchers differ.
pub(crate) struct Setup {
    /// Per request.
    pub(crate) timeout: Duration,
    /// Attempts per request in one invocation.
    pub(crate) attempts: usize,
    /// Of ledger claims.
    pub(crate) lease: chrono::Duration,
    /// Envelopes to one destination in a batch from which they go as one digest (never, unless
    /// the drill is about storms).
    pub(crate) digest_from: usize,
    pub(crate) storm: StormLimit,
}

/// The integration's dispatcher against `endpoint`: one message per envelope (no digest), a
/// rate limit that never waits, quick retries.
pub(crate) async fn dispatcher<'a>(
    suite: &Conformance,
    state: &'a MemoryState,
    lake: &'a MemoryLake,
    endpoint: &str,
    setup: Setup,
) -> Dispatcher<'a> {
    Dispatcher::builder(suite.configured(), state)
        .lake(Some(lake))
        .timeout(setup.timeout)
        .endpoint(Some(url::Url::parse(endpoint).expect("endpoint URL")))
        .retry(quick_retries(setup.attempts))
        .digest_from(setup.digest_from)
        .storm(setup.storm)
        .lease(setup.lease)
        .rate_limit(RateLimit::per_second(1_000_000))
        .build()
        .await
        .expect("the dispatcher builds from the suite's config")
}

impl Default for Setup {
    /// The Lambda's lease; seconds per request.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            attempts: 5,
            lease: Settings::default().lease,
            digest_from: usize::MAX,
            storm: StormLimit::off(),
        }
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

/// `envelopes` through `dispatcher` as one batch ([`batch`]), with a minute to finish: each
/// one's verdict, in order. What a delivery test sends most often.
pub async fn verdicts(dispatcher: &Dispatcher<'_>, envelopes: &[Notification]) -> Vec<Verdict> {
    verdicts_within(dispatcher, envelopes, Duration::from_secs(60)).await
}

/// [`verdicts`] with `within` to finish: a vendor's wait longer than that goes back to the
/// queue instead of being slept in the invocation.
pub async fn verdicts_within(
    dispatcher: &Dispatcher<'_>,
    envelopes: &[Notification],
    within: Duration,
) -> Vec<Verdict> {
    let deadline = Instant::now() + within;
    dispatcher
        .dispatch(&batch(envelopes), Utc::now(), deadline)
        .await
        .into_iter()
        .map(|(_, verdict)| verdict)
        .collect()
}

/// Every ledger and memo item, as text.
pub(crate) async fn state_text(state: &MemoryState) -> String {
    state
        .list("")
        .await
        .expect("list memory state")
        .into_iter()
        .map(|(key, item)| format!("{key} {}\n", item.value))
        .collect()
}

/// Panics when a secret is in `text` (`what` says where it was looked for).
pub(crate) fn assert_no_secret(suite: &Conformance, what: &str, text: &str) {
    for secret in suite.secrets {
        assert!(
            !text.contains(secret),
            "{secret:?} leaked into {what}:\n{text}"
        );
    }
}

/// Panics unless every secret reached the fake in some request's path, headers or body: only
/// then is its absence from reasons and logs worth anything.
pub(crate) fn assert_secrets_were_sent(suite: &Conformance, received: &[Received]) {
    for secret in suite.secrets {
        let sent = received.iter().any(|r| {
            r.path.contains(secret)
                || r.headers.iter().any(|(_, v)| v.contains(secret))
                || r.text().contains(secret)
        });
        assert!(
            sent,
            "{secret:?} never reached the fake: the config's credentials are not the ones named in `secrets`"
        );
    }
}

/// Check (2), online: a vendor that refuses the credential (401, 404) and one that cannot be
/// reached (a closed port) dead-letter the message at once, or after the last receive, with a
/// reason that says why — and no secret in the reason, the ledger or the logs. A refusal is not
/// retried.
pub async fn refusals_keep_secrets(suite: &Conformance) -> Vec<String> {
    refusals_keep_secrets_of(Sends::Envelopes, suite).await
}

/// [`refusals_keep_secrets`] with what `sends` sends.
pub async fn refusals_keep_secrets_of(sends: Sends, suite: &Conformance) -> Vec<String> {
    let (logs, _guard) = LogCapture::start();
    let mut reasons = Vec::new();
    let refused = numbered_for(sends, "ntf-refused", 1);
    let lake = lake_of(suite.configured().as_ref(), &refused).await;
    let envelope = queued(&refused).remove(0);
    for status in [401u16, 404] {
        let server = FakeServer::start(Arc::new(Refuse(status))).await;
        let state = MemoryState::default();
        let d = dispatcher(suite, &state, &lake, &server.url(), Setup::default()).await;
        let queue = MemoryQueue::default();
        let event = event_of(&[(envelope.0.clone(), envelope.1.clone(), 1)]);
        let response = handle_batch(&d, &queue, &event, MAX_RECEIVES, Utc::now(), deadline()).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "HTTP {status}: a refusal goes to the dead-letter queue, not back to the queue"
        );
        let dead = queue.dead.lock().expect("queue lock").clone();
        let [(_, reason)] = dead.as_slice() else {
            panic!("HTTP {status}: one dead letter expected, got {dead:?}")
        };
        assert!(
            reason.contains(&status.to_string()),
            "the reason names the status: {reason}"
        );
        let received: Vec<Received> = server.log().into_iter().map(|(r, _)| r).collect();
        assert_eq!(received.len(), 1, "HTTP {status} is not retried");
        assert_secrets_were_sent(suite, &received);
        assert_no_secret(suite, "a dead-letter reason", reason);
        assert_no_secret(suite, "the ledger", &state_text(&state).await);
        reasons.push(reason.clone());
    }

    // A closed port: nothing listens there once the listener is dropped.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let state = MemoryState::default();
    let d = dispatcher(
        suite,
        &state,
        &lake,
        &format!("http://{closed}"),
        Setup::default(),
    )
    .await;
    let queue = MemoryQueue::default();
    // The last receive: a retryable failure now goes to the dead-letter queue.
    let event = event_of(&[(envelope.0.clone(), envelope.1.clone(), MAX_RECEIVES)]);
    let response = handle_batch(&d, &queue, &event, MAX_RECEIVES, Utc::now(), deadline()).await;
    assert!(response.batch_item_failures.is_empty());
    let dead = queue.dead.lock().expect("queue lock").clone();
    let [(_, reason)] = dead.as_slice() else {
        panic!("closed port: one dead letter expected, got {dead:?}")
    };
    assert!(
        reason.contains("gave up") && reason.contains("connect"),
        "the reason says it could not connect: {reason}"
    );
    assert_no_secret(suite, "a dead-letter reason", reason);
    assert_no_secret(suite, "the ledger", &state_text(&state).await);
    reasons.push(reason.clone());

    let logs = logs.text();
    assert!(
        logs.contains("dead-letter"),
        "the log capture saw the dead letters:\n{logs}"
    );
    assert_no_secret(suite, "the logs", &logs);
    for r in &reasons {
        eprintln!("dead-letter reason: {r}");
    }
    reasons
}

/// The ids of `prefix` each request names, one key per (request, id).
pub(crate) fn delivered_ids(requests: &[Received], prefix: &str) -> Vec<String> {
    requests
        .iter()
        .flat_map(|r| {
            let ids = ids_in(&r.text(), prefix);
            assert!(
                ids.len() <= 1,
                "one request names several envelopes ({ids:?}) though the digest is off"
            );
            ids
        })
        .collect()
}

/// What the vendor kept of `requests`, one key per thing kept: the envelope ids of `prefix` each
/// names, or for an archive each written object's text (see [`object_text`]).
pub(crate) fn delivered_of(sends: Sends, requests: &[Received], prefix: &str) -> Vec<String> {
    match sends {
        Sends::Envelopes => delivered_ids(requests, prefix),
        Sends::Archive => requests
            .iter()
            .map(Received::text)
            .filter(|t| !t.is_empty())
            .collect(),
    }
}

/// What the vendor should keep of `envelopes`, each once: their ids, or for an archive the
/// objects they name.
pub(crate) fn expected_of(
    sends: Sends,
    configured: &dyn Configured,
    envelopes: &[Notification],
) -> Vec<String> {
    match sends {
        Sends::Envelopes => envelopes.iter().map(|n| n.id.clone()).collect(),
        Sends::Archive => envelopes
            .iter()
            .flat_map(|n| {
                configured
                    .objects(Message::One(n))
                    .into_iter()
                    .map(|key| object_text(&n.id, &key))
            })
            .collect(),
    }
}

/// Envelopes in the crashed batch, and the request at which the invocation dies.
pub const CRASH_BATCH: usize = 10;
pub const CRASH_AT: usize = 4;

/// What the crash drill saw: how many messages the vendor accepted, and the ids accepted more
/// than once.
#[derive(Debug, Clone)]
pub struct CrashFigures {
    pub accepted: usize,
    pub duplicated: Vec<String>,
}

/// Check (3), the crash: an invocation handles a batch of [`CRASH_BATCH`] envelopes and dies
/// (its future is dropped, as a Lambda killed mid-way) while request [`CRASH_AT`] is in flight —
/// before the vendor saw it, or after the vendor accepted it. The dispatcher claims every
/// envelope of a destination before sending the first, so at that moment envelopes 1–3 are sent
/// and recorded, 4–10 claimed (pending) and 5–10 never sent.
///
/// Then SQS redelivers. Within the lease (the visibility timeout), 1–3 are done and 4–10 left on
/// the queue: nothing is sent twice. After the lease every pending claim is taken over and sent.
/// With [`CrashPoint::BeforeVendor`] every envelope is then delivered exactly once. With
/// [`CrashPoint::AfterVendor`] envelope 4 is delivered twice: the vendor accepted it but the
/// ledger never heard so. That is the window between the vendor's acceptance and the ledger's
/// `sent` write that no ledger can close ("The one known duplicate window" in
/// docs/failure-modes.md), here opened by a crash. The check asserts exactly that one
/// duplicate, so any change in the window is seen.
pub async fn crash_mid_batch(suite: &Conformance, point: CrashPoint) -> CrashFigures {
    crash_mid_batch_of(Sends::Envelopes, suite, point).await
}

/// What each request of sending `envelopes` one message each, in order, leaves with the vendor,
/// with the index of its message: one request per envelope keeping its id, or for an archive
/// the requests its render gives (the container's creation keeps nothing, each write its object).
fn request_keys(
    sends: Sends,
    suite: &Conformance,
    configured: &dyn Configured,
    envelopes: &[Notification],
) -> Vec<(usize, Option<String>)> {
    match sends {
        Sends::Envelopes => envelopes
            .iter()
            .enumerate()
            .map(|(i, n)| (i, Some(n.id.clone())))
            .collect(),
        Sends::Archive => envelopes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| {
                let context = RenderContext {
                    objects: objects_of(configured, std::slice::from_ref(n)),
                    ..RenderContext::default()
                };
                configured
                    .render(suite.destination, Message::One(n), &context)
                    .expect("a numbered report renders")
                    .into_iter()
                    .map(move |r| {
                        let text = String::from_utf8_lossy(&r.body.encode()).into_owned();
                        (i, (!text.is_empty()).then_some(text))
                    })
            })
            .collect(),
    }
}

/// [`crash_mid_batch`] with what `sends` sends. An archive's message is several requests (the
/// container, then one write per object), so the crash falls inside a message, and the vendor
/// keeps each name once: after the lease every object is written exactly once, whichever the
/// crash point.
pub async fn crash_mid_batch_of(
    sends: Sends,
    suite: &Conformance,
    point: CrashPoint,
) -> CrashFigures {
    let vendor = Arc::new(Recorder::new((suite.fake)()));
    let crash = Arc::new(Crash::new(vendor.clone(), CRASH_AT, point));
    let server = FakeServer::start(crash.clone()).await;
    let state = MemoryState::default();
    let lease = Settings::default().lease;
    // A timeout far beyond the test: the hung request ends only with the crash.
    let setup = Setup {
        timeout: Duration::from_secs(30),
        ..Setup::default()
    };
    let envelopes = numbered_for(sends, "ntf-crash", CRASH_BATCH);
    let configured = suite.configured();
    let lake = lake_of(configured.as_ref(), &envelopes).await;
    let d = dispatcher(suite, &state, &lake, &server.url(), setup).await;
    let messages = queued(&envelopes);
    let ids: Vec<String> = envelopes.iter().map(|n| n.id.clone()).collect();
    let kept = request_keys(sends, suite, configured.as_ref(), &envelopes);
    let queue = MemoryQueue::default();
    let t0 = Utc::now();
    let batch = |receives: u32, only: &[String]| {
        let selected: Vec<(String, String, u32)> = messages
            .iter()
            .filter(|(id, _)| only.contains(id))
            .map(|(id, body)| (id.clone(), body.clone(), receives))
            .collect();
        event_of(&selected)
    };
    let delivered = || delivered_of(sends, &vendor.accepted(), "ntf-crash");

    let first = batch(1, &ids);
    tokio::select! {
        _ = handle_batch(&d, &queue, &first, MAX_RECEIVES, t0, deadline()) => {
            panic!("the batch was handled to the end: request {CRASH_AT} never came")
        }
        () = crash.crashed.notified() => {}
    }
    let reached = if point == CrashPoint::AfterVendor {
        CRASH_AT
    } else {
        CRASH_AT - 1
    };
    let so_far: Vec<String> = kept[..reached]
        .iter()
        .filter_map(|(_, key)| key.clone())
        .collect();
    assert_eq!(delivered(), so_far, "delivered when the invocation died");
    // The message whose request the invocation died in.
    let crashed = kept[CRASH_AT - 1].0;

    // A redelivery within the lease: the crashed invocation's claims still look live.
    let within = batch(2, &ids);
    let response = handle_batch(
        &d,
        &queue,
        &within,
        MAX_RECEIVES,
        t0 + chrono::Duration::seconds(1),
        deadline(),
    )
    .await;
    let back: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        back,
        ids[crashed..].to_vec(),
        "within the lease the claimed envelopes wait on the queue, the recorded ones are done"
    );
    assert_eq!(delivered(), so_far, "nothing is sent within the lease");

    // After the lease (SQS's visibility timeout): the pending claims are taken over.
    let after = batch(3, &back);
    let response = handle_batch(
        &d,
        &queue,
        &after,
        MAX_RECEIVES,
        t0 + lease + chrono::Duration::seconds(1),
        deadline(),
    )
    .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert!(queue.dead.lock().expect("queue lock").is_empty());
    let all = delivered();
    let expected = expected_of(sends, configured.as_ref(), &envelopes);
    let outcome = exactly_once(all.clone(), expected.iter().cloned());
    let duplicated: Vec<String> = expected
        .iter()
        .filter(|key| all.iter().filter(|d| d == key).count() > 1)
        .cloned()
        .collect();
    match (sends, point) {
        (Sends::Archive, _) | (Sends::Envelopes, CrashPoint::BeforeVendor) => {
            if let Err(wrong) = outcome {
                panic!("a crash {point:?}: {wrong}");
            }
        }
        (Sends::Envelopes, CrashPoint::AfterVendor) => assert_eq!(
            outcome,
            Err(format!("{} delivered 2 times", ids[CRASH_AT - 1])),
            "a crash after the vendor accepted request {CRASH_AT} repeats that message, and only it"
        ),
    }
    let figures = CrashFigures {
        accepted: all.len(),
        duplicated,
    };
    eprintln!("crash {point:?} at request {CRASH_AT} of {CRASH_BATCH}: {figures:?}");
    figures
}
