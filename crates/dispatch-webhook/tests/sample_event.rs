//! events/dispatch-webhook/sqs.json (what `sam local invoke` feeds the function) through the
//! SQS batch handler to the receiver fake: no failure, every envelope verified once.

mod support;

use std::sync::Arc;

use costwatch_dispatch::entry;
use costwatch_dispatch_kit::sample_event::deliver_sample_event;
use costwatch_dispatch_webhook::Webhook;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::standard_webhooks::Receiver;
use serde_json::{Value, json};
use support::{SECRET, TOKEN};

#[tokio::test]
async fn the_sample_sqs_event_is_delivered() {
    let receiver = Arc::new(Receiver::new(SECRET));
    let server = FakeServer::start(receiver.clone()).await;
    let config = json!({"destinations": {"ops": {
        "url": format!("https://events.example.com/{TOKEN}"),
        "signing_secrets": [SECRET],
    }}});
    let configured = entry::<Webhook>().load(config).unwrap();
    let sent = deliver_sample_event("webhook", configured, &server.url()).await;
    let ids: Vec<Value> = receiver.events().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, sent);
}
