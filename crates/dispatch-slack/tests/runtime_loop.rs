//! The built `dispatch-slack` binary under the Runtime API emulator, on moto, against the
//! Slack (incoming webhook) fake: the sample of events/dispatch-slack/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::slack::FakeSlack;
use serde_json::json;

/// Test credentials, in the vendor's format.
const HOOK: &str = "/services/T0RUNTIME/B0RUNTIME/runt1meL00pH00kSecret";

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "slack",
        binary: env!("CARGO_BIN_EXE_dispatch-slack"),
        config: json!({"destinations": {"finops": {"webhook_url": format!("https://hooks.slack.com{HOOK}")}}}),
        secrets: &["runt1meL00pH00kSecret"],
        fake: Arc::new(FakeSlack::new().with_webhook(HOOK, "C0FINOPS")),
    });
}
