//! 1,000 envelopes to two Slack destinations through a server that fails at random (429 with
//! Retry-After, 500, hung requests, dropped connections) before Slack sees the request. Every
//! batch is handled as the Lambda handles it and every message the handler gives back is
//! redelivered, as SQS would, until none is left: each envelope must reach each destination
//! exactly once, and nothing secret may appear in the logs.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use costwatch_dispatch::sqs::{MemoryQueue, handle_batch};
use costwatch_vendor_fakes::faults::Faults;
use serde_json::json;
use support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn event(batch: &[(String, String, u32)]) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = batch
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
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_envelopes_arrive_exactly_once_per_destination_through_random_faults() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let slack = Arc::new(fake_slack());
    let faults = Arc::new(Faults::new(slack.clone(), 0.3, 20261202));
    let fake = serve(faults.clone()).await;
    let mut config = config(1_000_000);
    config["routing"] = json!({"rules": [{"destinations": ["finops", "ml-team"]}]});
    // Short timeouts keep hung requests cheap; the digest is off so every envelope is a message.
    let mut rig = Rig::new(config, &fake, Duration::from_millis(150), quick_retries()).await;
    rig.settings.digest_from = usize::MAX;
    rig.settings.lease = chrono::Duration::zero();

    let mut queue: Vec<(String, String, u32)> = (0..1000)
        .map(|i| {
            let mut n = sample("anomaly");
            n.id = format!("ntf_fault_{i:04}");
            n.title = format!("Spike #{i:04}");
            (n.id.clone(), serde_json::to_string(&n).unwrap(), 1)
        })
        .collect();
    let sqs = MemoryQueue::default();
    let mut rounds = 0;
    while !queue.is_empty() {
        rounds += 1;
        assert!(
            rounds < 50,
            "{} messages still failing after 50 rounds",
            queue.len()
        );
        let mut again = Vec::new();
        for batch in queue.chunks(10) {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            let response = handle_batch(
                &rig.dispatcher(),
                &sqs,
                &event(batch),
                1000,
                chrono::Utc::now(),
                deadline,
            )
            .await;
            for failure in response.batch_item_failures {
                let (id, body, receives) = batch
                    .iter()
                    .find(|(id, ..)| *id == failure.item_identifier)
                    .unwrap()
                    .clone();
                again.push((id, body, receives + 1));
            }
        }
        queue = again;
    }
    assert!(
        sqs.dead.lock().unwrap().is_empty(),
        "nothing is dead-lettered: {:?}",
        sqs.dead.lock().unwrap()
    );

    let mut per_channel: BTreeMap<(String, String), u32> = BTreeMap::new();
    for m in slack.messages() {
        *per_channel
            .entry((m.channel.clone(), m.text.clone()))
            .or_default() += 1;
    }
    let counts = faults.counts();
    assert!(
        counts.throttled > 50
            && counts.server_errors > 50
            && counts.dropped > 50
            && counts.hung > 50,
        "{counts:?}"
    );
    for channel in ["C0FINOPS", "C0MLTEAM"] {
        for i in 0..1000 {
            let title = format!("Spike #{i:04}");
            let n = per_channel
                .iter()
                .filter(|((c, t), _)| c == channel && t.starts_with(&title))
                .map(|(_, n)| *n)
                .sum::<u32>();
            assert_eq!(n, 1, "{title} reached {channel} {n} times");
        }
    }
    assert_eq!(slack.messages().len(), 2000);
    eprintln!("faults: {counts:?}, redelivery rounds: {rounds}");

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "the retries were logged");
    for secret in ["hooksecretAAAA", "hooksecretBBBB", "tokensecretXYZ"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}
