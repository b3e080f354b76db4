//! The built `dispatch-zapier` binary under the Runtime API emulator, on moto, against the
//! Zapier (catch hook) fake: the sample of events/dispatch-zapier/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::zapier::{CatchHook, HOOK};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "zapier",
        binary: env!("CARGO_BIN_EXE_dispatch-zapier"),
        config: json!({"destinations": {"tickets": {"webhook_url": CatchHook::hook_url("https://hooks.zapier.com")}}}),
        secrets: &[HOOK],
        fake: Arc::new(CatchHook::new()),
    });
}
