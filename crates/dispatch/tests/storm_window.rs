//! The storm limit through the SQS handler (crates/dispatch/src/storm.rs): once a destination's
//! window has had its messages, a batch's envelopes are held and their messages wait until the
//! window ends — except a message at its last receive, which the queue would dead-letter and
//! which carries the held envelopes with it as one digest; their own messages then find them
//! sent.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::entry;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch::storm::StormLimit;
use costwatch_store::ManualClock;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;
use support::{Endpoint, Hook};
use tokio::time::Instant;

const TOKEN: &str = "storm-test-token";
const MAX_RECEIVES: u32 = 5;

fn envelope(i: usize) -> (String, String) {
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.id = format!("ntf_storm_{i}");
    n.subject_id = format!("subject_{i}");
    (n.id.clone(), serde_json::to_string(&n).unwrap())
}

/// The ids of each request the vendor accepted, in order.
fn requests(vendor: &FakeServer) -> Vec<Vec<String>> {
    vendor
        .accepted()
        .iter()
        .map(|r| {
            r.json().unwrap()["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

async fn batch(
    d: &Dispatcher<'_>,
    messages: &[(String, String)],
    receives: u32,
    now: DateTime<Utc>,
) -> (Vec<String>, MemoryQueue) {
    let records: Vec<(String, String, u32)> = messages
        .iter()
        .map(|(id, body)| (id.clone(), body.clone(), receives))
        .collect();
    let queue = MemoryQueue::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = handle_batch(d, &queue, &event_of(&records), MAX_RECEIVES, now, deadline).await;
    let back = response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    (back, queue)
}

#[tokio::test]
async fn a_full_window_holds_and_a_last_receive_goes_through_carrying_the_held_as_one_digest() {
    let vendor = FakeServer::start(Endpoint::accepting(TOKEN)).await;
    let window = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    // Expiry judged at the window's start, before every moment of the test (January 2027): on
    // the system clock the window's count and the held envelopes would expire for real.
    let state = MemoryState::with_clock(Arc::new(ManualClock::new(window)));
    let config = json!({"destinations": {"ops": {"webhook_url": support::url(TOKEN)}}});
    let d = Dispatcher::builder(entry::<Hook>().load(config).unwrap(), &state)
        .endpoint(Some(url::Url::parse(&vendor.url()).unwrap()))
        .digest_from(2)
        .storm(StormLimit {
            messages: 1,
            window: chrono::Duration::seconds(60),
        })
        .build()
        .await
        .unwrap();
    let all: Vec<(String, String)> = (0..7).map(envelope).collect();

    // The window's one message: a digest of the first batch.
    let (back, _) = batch(&d, &all[0..2], 1, window).await;
    assert!(back.is_empty());
    // The window is full: the next batch waits for the window's end, to the second.
    let (back, queue) = batch(&d, &all[2..5], 1, window + chrono::Duration::seconds(10)).await;
    assert_eq!(back, [all[2].0.clone(), all[3].0.clone(), all[4].0.clone()]);
    let delays = queue.delays.lock().unwrap().clone();
    assert!(
        delays
            .iter()
            .all(|(_, after)| *after == Duration::from_secs(51)),
        "{delays:?}"
    );
    // A message at its last receive is sent although the window is full, and the held
    // envelopes go with it as one digest.
    let (back, queue) = batch(
        &d,
        &all[5..6],
        MAX_RECEIVES,
        window + chrono::Duration::seconds(20),
    )
    .await;
    assert!(back.is_empty() && queue.dead.lock().unwrap().is_empty());
    let sent = requests(&vendor);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let mut digest = sent[1].clone();
    digest.sort();
    let ids =
        |range: &[usize]| -> Vec<String> { range.iter().map(|i| all[*i].0.clone()).collect() };
    assert_eq!(digest, ids(&[2, 3, 4, 5]));

    // Next window: nothing is held any more; a new envelope goes on its own.
    let next = window + chrono::Duration::seconds(61);
    let (back, _) = batch(&d, &all[6..7], 1, next).await;
    assert!(back.is_empty());
    assert_eq!(requests(&vendor)[2], ids(&[6]));
    // The held envelopes' own messages come back and find them sent.
    let (back, _) = batch(&d, &all[2..5], 2, next + chrono::Duration::seconds(1)).await;
    assert!(back.is_empty());
    assert_eq!(requests(&vendor).len(), 3, "nothing sent twice");
    let mut every: Vec<String> = requests(&vendor).concat();
    every.sort();
    let mut ids: Vec<String> = all.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(every, ids, "each envelope exactly once");
}
