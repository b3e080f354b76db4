//! 300 envelopes through a Workflows webhook that fails at random (429 with Retry-After, 500,
//! hung requests, dropped connections) before the flow sees them, handled batch by batch as the
//! Lambda handles them, with every message the handler gives back redelivered as SQS would:
//! each envelope is posted exactly once, and the webhook signature never reaches the logs.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use costwatch_dispatch::dispatcher::{Dispatcher, Settings};
use costwatch_dispatch::entry;
use costwatch_dispatch::rate::Limiter;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sender::Sender;
use costwatch_dispatch::sqs::{MemoryQueue, handle_batch};
use costwatch_dispatch_teams::Teams;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::faults::Faults;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::teams::{SIGNATURE, TeamsWorkflow};
use serde_json::json;

/// The sample envelope of `kind` (`anomaly`, `budget`, `report` …).
fn sample(kind: &str) -> costwatch_core::Notification {
    costwatch_core::samples::all()
        .into_iter()
        .find(|(stem, _)| *stem == kind)
        .map(|(_, n)| n)
        .expect("a sample of every kind")
}

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
async fn every_envelope_is_posted_exactly_once_through_random_faults() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let flow = Arc::new(TeamsWorkflow::new());
    let faults = Arc::new(Faults::new(flow.clone(), 0.3, 20261202));
    let server = FakeServer::start(faults.clone()).await;
    let url = TeamsWorkflow::webhook_url("https://prod-00.westus.logic.azure.com:443");
    let integration = entry::<Teams>()
        .load(
            json!({"rate_per_second": 1_000_000, "destinations": {"finops": {"webhook_url": url}}}),
        )
        .unwrap();
    let policy = RetryPolicy {
        max_attempts: 5,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    };
    let sender = Sender::new(
        Duration::from_millis(150),
        Some(url::Url::parse(&server.url()).unwrap()),
        policy,
    )
    .unwrap();
    let limiter = Limiter::new(integration.rate_limit());
    let state = MemoryState::default();
    // The digest is off so that every envelope is a message of its own.
    let settings = Settings {
        digest_from: usize::MAX,
        lease: chrono::Duration::zero(),
    };
    let dispatcher = Dispatcher {
        integration: integration.as_ref(),
        state: &state,
        sender: &sender,
        limiter: &limiter,
        settings,
    };

    let base = sample("anomaly");
    let mut queue: Vec<(String, String, u32)> = (0..300)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("ntf_fault_{i:04}");
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
                &dispatcher,
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
        "nothing is dead-lettered"
    );
    let counts = faults.counts();
    assert!(
        counts.throttled > 10
            && counts.server_errors > 10
            && counts.dropped > 10
            && counts.hung > 10,
        "{counts:?}"
    );
    let mut posted: BTreeMap<String, u32> = BTreeMap::new();
    for card in flow.posted() {
        let text = card.to_string();
        let id = text
            .split("ntf_fault_")
            .nth(1)
            .map(|s| s[..4].to_owned())
            .expect("the card names its envelope");
        *posted.entry(id).or_default() += 1;
    }
    assert_eq!(posted.len(), 300);
    assert!(
        posted.values().all(|n| *n == 1),
        "{:?}",
        posted.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
    eprintln!("faults: {counts:?}, redelivery rounds: {rounds}");
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"));
    assert!(
        !logs.contains(SIGNATURE),
        "the webhook signature leaked into the logs"
    );
}
