//! events/dispatch-ifttt/sqs.json (what `sam local invoke` feeds the function) through the
//! SQS batch handler to the Webhooks service fake (JSON form): no failure, one event per envelope.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::entry;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch_ifttt::Ifttt;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::ifttt::Maker;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};

use tokio::time::Instant;

#[tokio::test]
async fn the_sample_sqs_event_is_delivered() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-ifttt/sqs.json"
    );
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let messages: Vec<(String, String, u32)> = sample["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["messageId"].as_str().unwrap().to_owned(),
                r["body"].as_str().unwrap().to_owned(),
                1,
            )
        })
        .collect();
    assert!(!messages.is_empty());
    let receiver = Arc::new(Maker::new());
    let server = FakeServer::start(receiver.clone()).await;
    let config = json!({"destinations": {"phone": {"webhook_url": Maker::trigger_url("https://maker.ifttt.com", "costwatch_alert", true)}}});
    let state = MemoryState::default();
    let d = Dispatcher::builder(entry::<Ifttt>().load(config).unwrap(), &state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .build()
        .await
        .unwrap();
    let queue = MemoryQueue::default();
    let response = handle_batch(
        &d,
        &queue,
        &event_of(&messages),
        5,
        Utc::now(),
        Instant::now() + Duration::from_secs(30),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let ids: Vec<Value> = receiver
        .fired()
        .iter()
        .map(|e| e.payload["id"].clone())
        .collect();
    let sent: Vec<Value> = messages
        .iter()
        .map(|(_, body, _)| serde_json::from_str::<Value>(body).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids, sent);
}
