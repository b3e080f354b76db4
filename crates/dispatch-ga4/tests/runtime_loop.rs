//! The built `dispatch-ga4` binary under the Runtime API emulator, on moto, against the
//! Google Analytics 4 (Measurement Protocol) fake: the sample of events/dispatch-ga4/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::ga4::{API_SECRET, Ga4Collect, MEASUREMENT_ID};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "ga4",
        binary: env!("CARGO_BIN_EXE_dispatch-ga4"),
        config: json!({"destinations": {"web": {"measurement_id": MEASUREMENT_ID, "api_secret": API_SECRET}}}),
        secrets: &[API_SECRET],
        fake: Arc::new(Ga4Collect::new()),
    });
}
