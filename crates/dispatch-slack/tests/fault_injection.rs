//! 1,000 envelopes to two Slack destinations through a server that fails at random (429 with
//! Retry-After, 500, hung requests, dropped connections) before Slack sees the request. Every
//! batch is handled as the Lambda handles it and every message the handler gives back is
//! redelivered, as SQS would, until none is left: each envelope must reach each destination
//! exactly once, and nothing secret may appear in the logs.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::sqs::{MemoryQueue, redeliver_until_drained};
use costwatch_vendor_fakes::faults::{Faults, exactly_once};
use costwatch_vendor_fakes::logs::LogCapture;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_envelopes_arrive_exactly_once_per_destination_through_random_faults() {
    let (logs, _guard) = LogCapture::start();

    let slack = Arc::new(fake_slack());
    let faults = Arc::new(Faults::new(slack.clone(), 0.3, 20261202));
    let fake = serve(faults.clone()).await;
    let mut config = config(1_000_000);
    config["routing"] = json!({"rules": [{"destinations": ["finops", "ml-team"]}]});
    // Short timeouts keep hung requests cheap; the digest is off so every envelope is a message.
    let mut rig = Rig::new(config, &fake, Duration::from_millis(150), quick_retries()).await;
    rig.settings.digest_from = usize::MAX;
    rig.settings.lease = chrono::Duration::zero();

    let queue: Vec<(String, String)> = (0..1000)
        .map(|i| {
            let mut n = sample("anomaly");
            n.id = format!("ntf_fault_{i:04}");
            n.title = format!("Spike #{i:04}");
            (n.id.clone(), serde_json::to_string(&n).unwrap())
        })
        .collect();
    let sqs = MemoryQueue::default();
    let rounds = redeliver_until_drained(&rig.dispatcher().await, &sqs, queue, 50)
        .await
        .unwrap_or_else(|left| panic!("{} messages still failing after 50 rounds", left.len()));
    assert!(
        sqs.dead.lock().unwrap().is_empty(),
        "nothing is dead-lettered: {:?}",
        sqs.dead.lock().unwrap()
    );

    let counts = faults.counts();
    assert!(counts.each_over(50), "{counts:?}");
    // Each message's text opens with its envelope's title.
    let delivered = slack.messages().into_iter().map(|m| {
        let title: String = m.text.chars().take("Spike #0000".len()).collect();
        format!("{} {title}", m.channel)
    });
    let expected = ["C0FINOPS", "C0MLTEAM"]
        .iter()
        .flat_map(|c| (0..1000).map(move |i| format!("{c} Spike #{i:04}")));
    exactly_once(delivered, expected).unwrap();
    eprintln!("faults: {counts:?}, redelivery rounds: {rounds}");

    let logs = logs.text();
    assert!(logs.contains("retrying"), "the retries were logged");
    for secret in ["hooksecretAAAA", "hooksecretBBBB", "tokensecretXYZ"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}
