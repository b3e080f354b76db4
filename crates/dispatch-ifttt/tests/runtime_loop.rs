//! The built `dispatch-ifttt` binary under the Runtime API emulator, on moto, against the
//! IFTTT (Maker webhooks) fake: the sample of events/dispatch-ifttt/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::ifttt::{KEY, Maker};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "ifttt",
        binary: env!("CARGO_BIN_EXE_dispatch-ifttt"),
        config: json!({"destinations": {"phone": {"webhook_url": Maker::trigger_url("https://maker.ifttt.com", "costwatch_alert", true)}}}),
        secrets: &[KEY],
        fake: Arc::new(Maker::new()),
    });
}
