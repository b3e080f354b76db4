//! The built `dispatch-pagerduty` binary under the Runtime API emulator, on moto, against the
//! PagerDuty Events API v2 fake: the sample of events/dispatch-pagerduty/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::pagerduty::{PagerDutyEvents, ROUTING_KEY};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "pagerduty",
        binary: env!("CARGO_BIN_EXE_dispatch-pagerduty"),
        config: json!({"destinations": {"oncall": {"routing_key": ROUTING_KEY}}}),
        secrets: &[ROUTING_KEY],
        fake: Arc::new(PagerDutyEvents::new()),
    });
}
