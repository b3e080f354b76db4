//! Fuzz targets for what the Discord dispatcher reads from outside (issue 17): Discord's
//! rate-limit answers (the JSON body's `retry_after`, the `X-RateLimit-*` and `Retry-After`
//! headers) and the `[discord]` config the Lambda gets as JSON (`COSTWATCH_DISPATCH_CONFIG`:
//! destinations, secrets, routing, quiet hours). Each gets arbitrary bytes and mutations of a
//! valid sample; the answer is an outcome or a `ConfigError`, never a panic, within
//! `costwatch_testkit::fuzz::memory_bound`. `PROPTEST_CASES` sets the number of cases
//! (`make fuzz`).

use std::time::SystemTime;

use chrono::DateTime;
use costwatch_dispatch::outcome::MAX_WAIT;
use costwatch_dispatch::{Outcome, VendorResponse, entry};
use costwatch_dispatch_discord::Discord;
use costwatch_dispatch_discord::classifier::{bucket_pause, classify_at};
use costwatch_testkit::fuzz;
use proptest::prelude::*;
use serde_json::{Value, json};

costwatch_testkit::counting_allocator!();

/// A 429 as Discord sends it: the wait in the body and in three headers.
fn rate_limited() -> impl Strategy<Value = VendorResponse> {
    let body = json!({"message": "You are being rate limited.", "retry_after": 0.75,
                      "global": false, "code": 0});
    let header = |sample: &'static str| fuzz::text_input(sample);
    (
        prop_oneof![4 => Just(429u16), 1 => any::<u16>()],
        fuzz::json_input(&body),
        header("0.75"),
        header("1"),
        header("0"),
        header("abcd1234"),
    )
        .prop_map(
            |(status, body, reset_after, retry_after, remaining, bucket)| {
                VendorResponse::new(
                    status,
                    &[
                        ("X-RateLimit-Reset-After", reset_after.as_str()),
                        ("Retry-After", retry_after.as_str()),
                        ("X-RateLimit-Remaining", remaining.as_str()),
                        ("X-RateLimit-Bucket", bucket.as_str()),
                    ],
                    body,
                )
            },
        )
}

/// The `[discord]` table as the Lambda receives it, in both spellings of quiet hours' zone.
fn configs() -> [Value; 2] {
    let destinations = json!({
        "ops": {"webhook_url": "https://discord.com/api/webhooks/100000000000000000/token-0",
                "thread_id": "1234567890", "interactive": true},
        "ml": {"webhook_url": {"secrets_manager": "costwatch/discord/ml"}}
    });
    let routing = |quiet: Value| {
        json!({
            "rules": [{"kinds": ["anomaly"], "services": ["Amazon SageMaker"],
                       "min_severity": "high", "tags": {"team": "ml"}, "destinations": ["ml"]}],
            "fallback": "ops",
            "quiet_hours": quiet
        })
    };
    [
        json!({"destinations": destinations, "rate_per_second": 5,
               "allow_hosts": ["*.example.com"],
               "routing": routing(json!({"start": "22:00:00", "end": "07:00:00",
                                         "time_zone": "Europe/Berlin"}))}),
        json!({"destinations": destinations,
               "routing": routing(json!({"start": "23:30:00", "end": "06:00:00",
                                         "utc_offset_minutes": -300, "min_severity": "high"}))}),
    ]
}

proptest! {
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn fuzz_rate_limit_body(response in rate_limited(), now in 946_684_800i64..4_102_444_800) {
        let now = SystemTime::from(DateTime::from_timestamp(now, 0).unwrap());
        let len = response.body.len() + response.headers.iter().map(|(_, v)| v.len()).sum::<usize>();
        let (outcome, pause) =
            fuzz::bounded(len, || (classify_at(&response, now), bucket_pause(&response)))?;
        if let Outcome::Retry { after: Some(after), .. } = outcome {
            prop_assert!(after <= MAX_WAIT, "{after:?}");
        }
        if let Some(pause) = pause {
            prop_assert!(pause <= MAX_WAIT, "{pause:?}");
        }
    }

    #[test]
    fn fuzz_dispatch_config(text in prop_oneof![
        fuzz::json_input(&configs()[0]),
        fuzz::json_input(&configs()[1]),
    ]) {
        // What the dispatcher's cold start does with COSTWATCH_DISPATCH_CONFIG.
        let loaded = fuzz::bounded(text.len(), || {
            let table: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let integration = entry::<Discord>().load(table).map_err(|e| e.to_string())?;
            integration.require_references().map_err(|e| e.to_string())?;
            Ok::<_, String>(integration.destinations())
        })?;
        if let Ok(destinations) = loaded {
            prop_assert!(!destinations.is_empty());
        }
    }
}

// Regression tests: each finding of the targets above, as its minimal input.

/// Quiet hours `utc_offset_minutes = -2147483648` overflowed the ±14 h check (`i32::MIN.abs()`):
/// a panic at cold start in a debug build; in a release build the check wrapped, passed, and the
/// offset was taken as UTC. Refused with the reason now.
#[test]
fn quiet_hours_offset_of_i32_min_is_refused() {
    let mut config = configs()[1].clone();
    config["routing"]["quiet_hours"]["utc_offset_minutes"] = json!(i32::MIN);
    let err = entry::<Discord>().load(config).err().expect("refused");
    assert!(err.to_string().contains("beyond ±14 h"), "{err}");
}
