//! What Amplitude's HTTP V2 API answers. 200 `{"code": 200, "events_ingested": n, …}`. 400 with
//! `error` and, when it is about events, `events_with_invalid_fields` /
//! `events_with_missing_fields` / `events_with_invalid_id_lengths` (field → indices) and
//! `silenced_events` (indices): nothing of the request was ingested, and Amplitude asks to remove
//! the events it names and send the rest — [`remainder`] builds that request; a 400 that names
//! every event, or none (a missing `api_key`, an invalid key), is dead-lettered. 413 (over 2,000
//! events or 1 MB) is dead-lettered. 429 means a user or device went over 30 events a second
//! (`throttled_users`, `throttled_devices`, `throttled_events`) or a daily quota: Amplitude asks
//! to wait 30 seconds (a `Retry-After`, which Amplitude does not send, is honoured instead);
//! the whole request is sent again then (`insert_id` makes that safe).

use std::collections::BTreeSet;
use std::time::Duration;

use costwatch_dispatch::outcome::retry_after;
use costwatch_dispatch::product_event::without_refused;
use costwatch_dispatch::{Delivered, Outcome, VendorRequest, VendorResponse, classify_http};
use serde_json::Value;

/// How long Amplitude asks a throttled sender to pause.
pub const THROTTLE_WAIT: Duration = Duration::from_secs(30);

/// The body fields of a 400 that name events by index.
const NAMING_FIELDS: [&str; 3] = [
    "events_with_invalid_fields",
    "events_with_missing_fields",
    "events_with_invalid_id_lengths",
];

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    let status = response.status;
    let body = response.json().unwrap_or(Value::Null);
    match status {
        400 => {
            let named = named_events(&body);
            let total = events_of(request).map_or(0, Vec::len);
            if is_key_refused(&body) {
                Outcome::CredentialRefused(format!(
                    "Amplitude refused the API key (HTTP 400{}): set `api_key` to the API key of the project (not its secret key), from the project's General settings, and `region` to where the project lives",
                    error(&body, response)
                ))
            } else if !named.is_empty() && named.len() < total {
                // Refused in part: `remainder` sends the rest.
                Outcome::Delivered(Delivered {
                    status,
                    body: Some(body),
                })
            } else {
                Outcome::Fail(format!(
                    "Amplitude refused {} (HTTP 400{}{})",
                    if named.is_empty() {
                        "the request".to_owned()
                    } else {
                        format!("all {total} events")
                    },
                    error(&body, response),
                    naming(&body)
                ))
            }
        }
        413 => Outcome::Fail(format!(
            "Amplitude refused the request as too large (HTTP 413{})",
            error(&body, response)
        )),
        429 => Outcome::Retry {
            // Amplitude sends no `Retry-After`; one from a proxy in front of it is honoured.
            after: Some(
                retry_after(response, std::time::SystemTime::now()).unwrap_or(THROTTLE_WAIT),
            ),
            reason: format!(
                "Amplitude throttled the request (HTTP 429{}{})",
                error(&body, response),
                throttled(&body)
            ),
        },
        _ => classify_http(response),
    }
}

/// After a 400 that named some of the events: the same request without them, or `None` when
/// the answer asks for nothing more.
pub fn remainder(request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest> {
    if answer.status != 400 {
        return None;
    }
    let body = answer.body.as_ref()?;
    let why = format!(
        "Amplitude: {}{}",
        body["error"].as_str().unwrap_or("HTTP 400"),
        naming(body)
    );
    without_refused(request, "/events", &named_events(body), &why)
}

fn events_of(request: &VendorRequest) -> Option<&Vec<Value>> {
    request.body.json()?.get("events")?.as_array()
}

/// Every event index a 400 names.
pub fn named_events(body: &Value) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for field in NAMING_FIELDS {
        if let Some(map) = body.get(field).and_then(Value::as_object) {
            for indices in map.values() {
                out.extend(indices.as_array().into_iter().flatten().filter_map(index));
            }
        }
    }
    out.extend(
        body.get("silenced_events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(index),
    );
    out
}

fn index(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|i| usize::try_from(i).ok())
}

fn is_key_refused(body: &Value) -> bool {
    body.get("error").and_then(Value::as_str).is_some_and(|e| {
        e.to_ascii_lowercase().contains("api key") || e.to_ascii_lowercase().contains("api_key")
    }) && body.get("missing_field").is_none()
}

/// `: <error>` from Amplitude's body, or the body's start.
fn error(body: &Value, response: &VendorResponse) -> String {
    let text = body
        .get("error")
        .and_then(Value::as_str)
        .map_or_else(|| response.snippet(), str::to_owned);
    let missing = body
        .get("missing_field")
        .and_then(Value::as_str)
        .map(|f| format!(" (missing field `{f}`)"))
        .unwrap_or_default();
    if text.is_empty() {
        missing
    } else {
        format!(": {text}{missing}")
    }
}

/// `; invalid: time → [3, 4]` from the naming fields.
pub fn naming(body: &Value) -> String {
    let mut parts = Vec::new();
    for field in NAMING_FIELDS {
        if let Some(map) = body.get(field).and_then(Value::as_object) {
            for (name, indices) in map {
                parts.push(format!(
                    "{}: {name} {indices}",
                    field.trim_start_matches("events_with_")
                ));
            }
        }
    }
    if let Some(s) = body.get("silenced_events") {
        parts.push(format!("silenced devices' events {s}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join("; "))
    }
}

fn throttled(body: &Value) -> String {
    let mut parts = Vec::new();
    for (field, what) in [
        ("throttled_users", "users"),
        ("throttled_devices", "devices"),
        ("exceeded_daily_quota_users", "users over the daily quota"),
        (
            "exceeded_daily_quota_devices",
            "devices over the daily quota",
        ),
    ] {
        if let Some(map) = body
            .get(field)
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
        {
            let ids: Vec<&str> = map.keys().map(String::as_str).take(5).collect();
            parts.push(format!("{what} {}", ids.join(", ")));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; throttled {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn three() -> VendorRequest {
        crate::encoder::request(
            "https://api2.amplitude.com/2/httpapi",
            "0123456789abcdef0123456789abcdef",
            vec![
                json!({"insert_id": "a"}),
                json!({"insert_id": "b"}),
                json!({"insert_id": "c"}),
            ],
        )
    }

    fn at(status: u16, body: Value) -> Outcome {
        classify(
            &three(),
            &VendorResponse::new(status, &[], body.to_string()),
        )
    }

    #[test]
    fn a_400_naming_some_events_sends_the_rest_without_them() {
        let body = json!({"code": 400, "error": "Request missing required field",
            "events_with_invalid_fields": {"time": [0]}, "events_with_missing_fields": {"event_type": [2]}});
        let Outcome::Delivered(answer) = at(400, body) else {
            panic!()
        };
        let rest = remainder(&three(), &answer).unwrap();
        assert_eq!(
            rest.body.json().unwrap()["events"],
            json!([{"insert_id": "b"}])
        );
        assert_eq!(rest.body.json().unwrap()["api_key"], "[REDACTED]");
        let wire: Value = serde_json::from_slice(&rest.body.encode()).unwrap();
        assert_eq!(wire["api_key"], "0123456789abcdef0123456789abcdef");
        let accepted = Delivered {
            status: 200,
            body: None,
        };
        assert!(remainder(&three(), &accepted).is_none());
    }

    #[test]
    fn refused_whole_throttled_or_too_large() {
        let Outcome::Fail(reason) = at(
            400,
            json!({"code": 400, "error": "bad",
            "events_with_invalid_fields": {"time": [0, 1, 2]}}),
        ) else {
            panic!()
        };
        assert!(
            reason.contains("all 3 events") && reason.contains("invalid_fields: time"),
            "{reason}"
        );
        assert!(matches!(
            at(400, json!({"code": 400, "error": "Invalid API key: x"})),
            Outcome::CredentialRefused(_)
        ));
        let Outcome::Fail(reason) = at(
            400,
            json!({"code": 400, "error": "Request missing required field", "missing_field": "api_key"}),
        ) else {
            panic!()
        };
        assert!(reason.contains("`api_key`"), "{reason}");
        let Outcome::Retry { after, reason } = at(
            429,
            json!({"code": 429, "error": "Too many requests for some devices and users",
            "eps_threshold": 30, "throttled_users": {"costwatch:org": 31}, "throttled_events": [0]}),
        ) else {
            panic!()
        };
        assert_eq!(after, Some(THROTTLE_WAIT));
        assert!(reason.contains("costwatch:org"), "{reason}");
        assert!(matches!(
            at(413, json!({"code": 413, "error": "Payload too large"})),
            Outcome::Fail(_)
        ));
        assert!(matches!(at(503, json!({})), Outcome::Retry { .. }));
        assert!(matches!(
            at(200, json!({"code": 200, "events_ingested": 3})),
            Outcome::Delivered(_)
        ));
    }
}
