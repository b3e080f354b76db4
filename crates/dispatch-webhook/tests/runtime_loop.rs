//! The built `dispatch-webhook` binary under the Runtime API emulator, on moto, against the
//! custom webhook (Standard Webhooks) fake: the sample of events/dispatch-webhook/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::standard_webhooks::Receiver;
use serde_json::json;

/// Test credentials, in the vendor's format.
const TOKEN: &str = "rcv-token-runtime-loop";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "webhook",
        binary: env!("CARGO_BIN_EXE_dispatch-webhook"),
        config: json!({"destinations": {"ops": {
            "url": format!("https://hooks.example.com/costwatch/{TOKEN}"),
            "signing_secrets": [SECRET],
        }}}),
        secrets: &[TOKEN, SECRET],
        fake: Arc::new(Receiver::new(SECRET)),
    });
}
