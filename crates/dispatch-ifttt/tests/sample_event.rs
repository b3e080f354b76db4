//! events/dispatch-ifttt/sqs.json (what `sam local invoke` feeds the function) through the
//! SQS batch handler to the Webhooks service fake (JSON form): no failure, one event per envelope.

use std::sync::Arc;

use costwatch_dispatch::entry;
use costwatch_dispatch_ifttt::Ifttt;
use costwatch_dispatch_kit::sample_event::deliver_sample_event;
use costwatch_vendor_fakes::ifttt::Maker;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};

#[tokio::test]
async fn the_sample_sqs_event_is_delivered() {
    let receiver = Arc::new(Maker::new());
    let server = FakeServer::start(receiver.clone()).await;
    let trigger = Maker::trigger_url("https://maker.ifttt.com", "costwatch_alert", true);
    let config = json!({"destinations": {"phone": {"webhook_url": trigger}}});
    let configured = entry::<Ifttt>().load(config).unwrap();
    let sent = deliver_sample_event("ifttt", configured, &server.url()).await;
    let ids: Vec<Value> = receiver
        .fired()
        .iter()
        .map(|e| e.payload["id"].clone())
        .collect();
    assert_eq!(ids, sent);
}
