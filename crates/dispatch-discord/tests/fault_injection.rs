//! 300 envelopes through a Discord webhook that fails at random (429 with Retry-After, 500,
//! hung requests, dropped connections) before Discord sees them, handled batch by batch as the
//! Lambda handles them, with every message the handler gives back redelivered as SQS would:
//! each envelope is posted exactly once, and the webhook token never reaches the logs.

use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::entry;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, redeliver_until_drained};
use costwatch_dispatch_discord::Discord;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::discord::{DiscordWebhook, TOKEN};
use costwatch_vendor_fakes::faults::{Faults, exactly_once};
use costwatch_vendor_fakes::logs::LogCapture;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_envelope_is_posted_exactly_once_through_random_faults() {
    let (logs, _guard) = LogCapture::start();
    // A bucket too large to empty: the throttling here is the injected 429s.
    let hook = Arc::new(DiscordWebhook::new(1_000_000, Duration::from_secs(60)));
    let faults = Arc::new(Faults::new(hook.clone(), 0.3, 20261203));
    let server = FakeServer::start(faults.clone()).await;
    let url = DiscordWebhook::webhook_url("https://discord.com");
    let integration = entry::<Discord>()
        .load(json!({"rate_per_second": 1_000_000, "destinations": {"ops": {"webhook_url": url}}}))
        .unwrap();
    let policy = RetryPolicy {
        max_attempts: 5,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    };
    let state = MemoryState::default();
    // Short timeouts keep hung requests cheap; the digest is off so that every envelope is a
    // message of its own.
    let dispatcher = Dispatcher::builder(integration, &state)
        .timeout(Duration::from_millis(150))
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(policy)
        .digest_from(usize::MAX)
        .lease(chrono::Duration::zero())
        .build()
        .await
        .unwrap();

    let base = costwatch_core::samples::of_kind("anomaly");
    let queue: Vec<(String, String)> = (0..300)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("ntf_fault_{i:04}");
            n.title = format!("Spike {i:04}");
            (n.id.clone(), serde_json::to_string(&n).unwrap())
        })
        .collect();
    let sqs = MemoryQueue::default();
    let rounds = redeliver_until_drained(&dispatcher, &sqs, queue, 50)
        .await
        .unwrap_or_else(|left| panic!("{} messages still failing after 50 rounds", left.len()));
    assert!(
        sqs.dead.lock().unwrap().is_empty(),
        "nothing is dead-lettered"
    );
    let counts = faults.counts();
    assert!(counts.each_over(10), "{counts:?}");
    let delivered = hook.posted().into_iter().map(|message| {
        let text = message.payload.to_string();
        let at = text.find("Spike ").expect("the message names its envelope");
        text[at..at + "Spike ".len() + 4].to_owned()
    });
    let expected = (0..300).map(|i| format!("Spike {i:04}"));
    exactly_once(delivered, expected).unwrap();
    eprintln!("faults: {counts:?}, redelivery rounds: {rounds}");
    let logs = logs.text();
    assert!(logs.contains("retrying"));
    assert!(
        !logs.contains(TOKEN),
        "the webhook token leaked into the logs"
    );
}
