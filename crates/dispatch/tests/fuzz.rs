//! Fuzz targets for what every dispatcher reads from outside (issue 17): the SQS batch and the
//! notification envelopes in its bodies (read and routed as the dispatcher does), and a
//! vendor's `Retry-After` under the shared policy. Each gets arbitrary bytes and mutations of a
//! valid sample; the answer is a value or a typed error, never a panic, within
//! `costwatch_testkit::fuzz::memory_bound`. `PROPTEST_CASES` sets the number of cases
//! (`make fuzz`).

use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, Utc};
use costwatch_core::Notification;
use costwatch_dispatch::outcome::{MAX_WAIT, classify_http_at};
use costwatch_dispatch::{Outcome, Routing, VendorResponse, sqs};
use costwatch_testkit::fuzz;
use costwatch_testkit::repo_file;
use proptest::prelude::*;
use serde_json::{Value, json};

costwatch_testkit::counting_allocator!();

fn sample(path: &str) -> Value {
    serde_json::from_str(&repo_file(path)).unwrap()
}

const KINDS: [&str; 6] = [
    "anomaly",
    "budget",
    "forecast",
    "recommendation",
    "report",
    "test",
];

/// Rules on every field an envelope is routed by, and quiet hours in a zone with summer time.
fn routing() -> Routing {
    serde_json::from_value(json!({
        "rules": [
            {"services": ["Amazon SageMaker"], "min_severity": "high", "destinations": ["ml"]},
            {"kinds": ["budget", "report"], "accounts": ["444455556666"], "destinations": ["finops"]},
            {"tags": {"team": "web"}, "cost_categories": {"Product": "Checkout"}, "destinations": ["web"]}
        ],
        "fallback": "finops",
        "quiet_hours": {"start": "22:00:00", "end": "07:00:00", "time_zone": "Europe/Berlin",
                        "min_severity": "critical"}
    }))
    .unwrap()
}

/// An SQS batch damaged outside (the record) or inside (an envelope in a body).
fn sqs_input() -> impl Strategy<Value = String> {
    let batch = sample("events/dispatch-discord/sqs.json");
    let envelopes: Vec<Value> = KINDS
        .iter()
        .map(|k| sample(&format!("events/notifications/{k}.json")))
        .collect();
    let body = proptest::sample::select(envelopes).prop_flat_map(|e| fuzz::json_input(&e));
    prop_oneof![
        1 => fuzz::json_input(&batch),
        3 => (body, any::<bool>()).prop_map(move |(body, first)| {
            let mut event = batch.clone();
            event["Records"][usize::from(!first)]["body"] = Value::String(body);
            event.to_string()
        }),
    ]
}

/// A moment of this century: the dispatcher's clock, not an input.
fn now() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// A vendor's answer: any status (the retried ones most often), a `Retry-After` as seconds, an
/// HTTP-date or junk, and any body.
fn response() -> impl Strategy<Value = VendorResponse> {
    let status = prop_oneof![
        Just(429u16),
        Just(503),
        Just(408),
        Just(425),
        Just(200),
        any::<u16>()
    ];
    let retry_after = prop_oneof![
        fuzz::text_input("30"),
        fuzz::text_input("0.25"),
        fuzz::text_input("Sun, 06 Nov 1994 08:49:37 GMT"),
        fuzz::text_input("Wed, 21 Oct 2099 07:28:00 GMT"),
        any::<f64>().prop_map(|s| s.to_string()),
    ];
    let body = fuzz::input(br#"{"message": "slow down", "retry_after": 1.5}"#);
    (status, retry_after, body).prop_map(|(status, after, body)| {
        VendorResponse::new(status, &[("Retry-After", after.as_str())], body.0)
    })
}

proptest! {
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn fuzz_sqs_event(text in sqs_input(), now in now()) {
        let routing = routing();
        let all = ["finops".to_string(), "ml".to_string(), "web".to_string()];
        fuzz::bounded(text.len(), || {
            // What the runtime does with the invocation, then the dispatcher with each body.
            let Ok(event) = serde_json::from_str::<SqsEvent>(&text) else {
                return;
            };
            for record in sqs::records(&event) {
                if let Ok(envelope) = serde_json::from_str::<Notification>(&record.incoming.body) {
                    if let Some(until) = routing.hold_until(&envelope, now) {
                        assert!(until > now, "held until {until}, before {now}");
                    }
                    let to = routing.destinations(&envelope, &all);
                    assert!(to.iter().all(|d| all.contains(d)), "{to:?}");
                }
            }
        })?;
    }

    #[test]
    fn fuzz_retry_after(response in response(), now in now()) {
        let now = SystemTime::from(now);
        let len = response.body.len() + response.headers.iter().map(|(_, v)| v.len()).sum::<usize>();
        let outcome = fuzz::bounded(len, || classify_http_at(&response, now))?;
        if let Outcome::Retry { after: Some(after), .. } = outcome {
            prop_assert!(after <= MAX_WAIT, "{after:?}");
            prop_assert!(after >= Duration::ZERO);
        }
    }
}
