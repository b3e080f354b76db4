//! The shared conformance suite (costwatch-dispatch-kit) on PagerDuty: every event checked
//! against the request schema of its endpoint in PagerDuty's own Events API v2 document
//! (`specs/pagerduty/events-v2.openapiv3.json`, strict) and the limits it documents, within
//! 512 KB; the routing key, which travels in the body, never printed, logged or dead-lettered;
//! the fault and crash drills against the Events API fake.

mod support;

use std::sync::Arc;

use costwatch_dispatch::entry;
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_dispatch_pagerduty::{MAX_EVENT_BYTES, PagerDuty};
use costwatch_vendor_fakes::pagerduty::{PagerDutyEvents, ROUTING_KEY};

fn suite() -> Conformance {
    Conformance {
        entry: entry::<PagerDuty>(),
        config: support::config(),
        destination: "oncall",
        secrets: &[ROUTING_KEY],
        max_body_bytes: MAX_EVENT_BYTES,
        validate: support::check,
        fake: || Arc::new(PagerDutyEvents::new()),
    }
}

conformance_tests!(suite);
