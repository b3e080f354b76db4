//! events/dispatch-<name>/sqs.json — what `sam local invoke` feeds a dispatcher — through the
//! real SQS batch handler to a vendor fake: the one set-up every integration's sample-event test
//! shares.

use std::time::Duration;

use chrono::Utc;
use costwatch_dispatch::Configured;
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_store::memory::MemoryState;
use serde_json::Value;
use tokio::time::Instant;

/// Delivers the integration's sample SQS event to `endpoint` (the fake's URL; every request goes
/// there) and checks no message came back or was dead-lettered. Returns the sample envelopes'
/// ids in order, for the caller to compare with what its fake received.
pub async fn deliver_sample_event(
    integration: &str,
    configured: Box<dyn Configured>,
    endpoint: &str,
) -> Vec<Value> {
    let path = format!(
        "{}/../../events/dispatch-{integration}/sqs.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sample: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let messages: Vec<(String, String, u32)> = sample["Records"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: no Records"))
        .iter()
        .map(|r| {
            let field = |k: &str| {
                r[k].as_str()
                    .unwrap_or_else(|| panic!("{path}: {k}"))
                    .to_owned()
            };
            (field("messageId"), field("body"), 1)
        })
        .collect();
    assert!(!messages.is_empty(), "{path} holds no message");
    let state = MemoryState::default();
    let dispatcher = Dispatcher::builder(configured, &state)
        .endpoint(Some(url::Url::parse(endpoint).expect("the fake's URL")))
        .build()
        .await
        .expect("the dispatcher builds");
    let queue = MemoryQueue::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let event = event_of(&messages);
    let response = handle_batch(&dispatcher, &queue, &event, 5, Utc::now(), deadline).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let dead = queue.dead.lock().map(|d| d.len()).unwrap_or_default();
    assert_eq!(dead, 0, "dead-lettered from the sample event");
    messages
        .iter()
        .map(|(_, body, _)| serde_json::from_str::<Value>(body).map(|n| n["id"].clone()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{path}: a body is not JSON: {e}"))
}
