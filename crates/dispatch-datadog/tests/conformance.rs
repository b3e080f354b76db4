//! The shared conformance suite (costwatch-dispatch-kit) on Datadog: every sample, variant,
//! hostile copy and digest renders requests that Datadog's OpenAPI documents accept within the
//! 500 KB series limit; the API key never reaches `render` output, dead letters, the ledger or
//! the logs; a fault drill delivers every envelope's event exactly once.
//!
//! The kit's crash-mid-batch checks are not run here: they count one request per envelope (the
//! crash is at request 4 = envelope 4), while a Datadog anomaly is two requests (its series,
//! then its event), so request 4 is envelope 2's event and the kit's expectation does not apply.
//! Their Datadog form is in tests/delivery.rs (`a_crash_between_series_and_event_repeats_only_the_series`):
//! a crash after the series or before the event repeats only the series (a gauge point with the
//! same metric, tags and timestamp overwrites itself) and posts the event once.

mod support;

use std::sync::Arc;

use costwatch_dispatch::entry;
use costwatch_dispatch_datadog::Datadog;
use costwatch_dispatch_datadog::encoder::MAX_PAYLOAD_BYTES;
use costwatch_dispatch_kit::{Conformance, delivery, render, run};
use costwatch_vendor_fakes::datadog::{API_KEY, DatadogIntake};
use serde_json::json;

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Datadog>(),
        config: json!({"destinations": {"prod": {"api_key": API_KEY, "site": "US1"}}}),
        destination: "prod",
        secrets: &[API_KEY],
        max_body_bytes: MAX_PAYLOAD_BYTES,
        validate: support::check_schema,
        fake: || Arc::new(DatadogIntake::new()),
    }
}

#[test]
fn every_sample_and_hostile_copy_renders_valid_within_the_size_limit() {
    render::renders_valid_within_limits(&suite());
}

#[test]
fn render_output_prints_no_secret() {
    render::prints_no_secret(&suite());
}

#[test]
fn validate_rejects_an_empty_message() {
    render::validate_rejects_an_empty_message(&suite());
}

#[test]
fn refusals_and_an_unreachable_vendor_dead_letter_without_secrets() {
    run(delivery::refusals_keep_secrets(&suite()));
}

#[test]
fn fault_drill_accepts_every_envelope_exactly_once() {
    run(delivery::fault_drill(&suite()));
}

#[test]
fn alert_storm_reaches_the_destination_as_a_bounded_number_of_digests() {
    run(costwatch_dispatch_kit::drill::storm_drill(&suite()));
}
