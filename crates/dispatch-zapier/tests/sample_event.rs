//! events/dispatch-zapier/sqs.json (what `sam local invoke` feeds the function) through the
//! SQS batch handler to the catch hook fake: no failure, one Zap run per envelope.

use std::sync::Arc;

use costwatch_dispatch::entry;
use costwatch_dispatch_kit::sample_event::deliver_sample_event;
use costwatch_dispatch_zapier::Zapier;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::zapier::CatchHook;
use serde_json::{Value, json};

#[tokio::test]
async fn the_sample_sqs_event_is_delivered() {
    let receiver = Arc::new(CatchHook::new());
    let server = FakeServer::start(receiver.clone()).await;
    let hook = CatchHook::hook_url("https://hooks.zapier.com");
    let config = json!({"destinations": {"tickets": {"webhook_url": hook}}});
    let configured = entry::<Zapier>().load(config).unwrap();
    let sent = deliver_sample_event("zapier", configured, &server.url()).await;
    let ids: Vec<Value> = receiver.runs().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, sent);
}
