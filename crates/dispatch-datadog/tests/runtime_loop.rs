//! The built `dispatch-datadog` binary under the Runtime API emulator, on moto, against the
//! Datadog fake: the sample of events/dispatch-datadog/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::datadog::{API_KEY, DatadogIntake};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "datadog",
        binary: env!("CARGO_BIN_EXE_dispatch-datadog"),
        config: json!({"destinations": {"prod": {"api_key": API_KEY, "site": "US1"}}}),
        secrets: &[API_KEY],
        fake: Arc::new(DatadogIntake::new()),
    });
}
