//! The built `dispatch-amplitude` binary under the Runtime API emulator, on moto, against the
//! Amplitude (HTTP V2 API) fake: the sample of events/dispatch-amplitude/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::amplitude::{API_KEY, AmplitudeHttpApi};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "amplitude",
        binary: env!("CARGO_BIN_EXE_dispatch-amplitude"),
        config: json!({"destinations": {"product": {"api_key": API_KEY}}}),
        secrets: &[API_KEY],
        fake: Arc::new(AmplitudeHttpApi::new()),
    });
}
