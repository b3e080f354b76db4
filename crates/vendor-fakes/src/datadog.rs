//! Datadog's intake as its documentation describes it, for `POST /api/v2/series` and
//! `POST /api/v1/events`: the API key in the `DD-API-KEY` header (a missing or unknown key is 403
//! `{"errors": ["Forbidden"]}`); series payloads up to 500 KB (512,000 bytes; larger is 413
//! `{"errors": ["Payload too large"]}`), each series with a valid metric name, a type of 0–3 and
//! points of integer timestamp and numeric value (otherwise 400 with the reason in `errors`),
//! accepted with 202 `{"errors": []}`; events need `title` and `text` (text ≤ 4,000 characters,
//! `aggregation_key` ≤ 100, `alert_type` and `priority` from their enums) and are accepted with
//! 202 and the event created. While rate-limited ([`DatadogIntake::rate_limit_for`]) every
//! request is 429 with `X-RateLimit-Limit`, `-Period`, `-Remaining: 0`, `-Reset` (seconds until
//! the period ends) and `-Name`, as Datadog sends them.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

/// The API key the fake accepts (Datadog's format: 32 hexadecimal characters).
pub const API_KEY: &str = "5f1e0c8d2b7a49e6a3c4d5e6f7a8b9c0";
/// Datadog's series payload limit.
pub const MAX_SERIES_BYTES: usize = 512_000;
pub const MAX_EVENT_TEXT: usize = 4_000;
pub const MAX_AGGREGATION_KEY: usize = 100;

#[derive(Default)]
pub struct DatadogIntake {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    limited_until: Option<Instant>,
    throttled: u32,
    refuse_next: Option<(u16, String)>,
    series: Vec<Value>,
    events: Vec<Value>,
    next_event: u64,
}

impl DatadogIntake {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every request in the next `period` is answered 429 (the organisation's limit is used up).
    pub fn rate_limit_for(&self, period: Duration) {
        self.lock().limited_until = Some(Instant::now() + period);
    }

    /// The next request is answered `status` with `{"errors": [message]}` (a payload Datadog
    /// refuses for a reason the fake does not model).
    pub fn refuse_next(&self, status: u16, message: &str) {
        self.lock().refuse_next = Some((status, message.to_owned()));
    }

    /// Every series accepted, in order (the same series twice if it was posted twice).
    pub fn series(&self) -> Vec<Value> {
        self.lock().series.clone()
    }

    /// Every event accepted, as posted.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.clone()
    }

    /// Requests answered 429.
    pub fn throttled(&self) -> u32 {
        self.lock().throttled
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn errors(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({"errors": [message]}))
}

impl Vendor for DatadogIntake {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let path = request.path.split('?').next().unwrap_or_default();
        let endpoint = match (request.method.as_str(), path) {
            ("POST", "/api/v2/series") => "submit_metrics",
            ("POST", "/api/v1/events") => "post_event",
            _ => return errors(404, "Not found"),
        };
        if request.header("dd-api-key") != Some(API_KEY) {
            return errors(403, "Forbidden");
        }
        let mut state = self.lock();
        if let Some((status, message)) = state.refuse_next.take() {
            return errors(status, &message);
        }
        if let Some(until) = state.limited_until {
            let left = until.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                state.throttled += 1;
                return errors(429, "Rate limit exceeded")
                    .with_header("x-ratelimit-limit", "100")
                    .with_header("x-ratelimit-period", "60")
                    .with_header("x-ratelimit-remaining", "0")
                    .with_header(
                        "x-ratelimit-reset",
                        &left.as_secs_f64().ceil().max(1.0).to_string(),
                    )
                    .with_header("x-ratelimit-name", endpoint);
            }
            state.limited_until = None;
        }
        if request
            .header("content-encoding")
            .is_some_and(|e| e != "identity")
        {
            return errors(400, "fake: compressed payloads are not modelled");
        }
        if endpoint == "submit_metrics" && request.body.len() > MAX_SERIES_BYTES {
            return errors(413, "Payload too large");
        }
        let Some(body) = request.json() else {
            return errors(400, "Malformed JSON");
        };
        if endpoint == "submit_metrics" {
            if let Err(why) = check_series(&body) {
                return errors(400, &why);
            }
            let series = body["series"].as_array().cloned().unwrap_or_default();
            state.series.extend(series);
            return Reply::json(202, json!({"errors": []}));
        }
        if let Err(why) = check_event(&body) {
            return errors(400, &why);
        }
        state.next_event += 1;
        let id = 7_000_000_000_000_000_000u64 + state.next_event;
        state.events.push(body.clone());
        Reply::json(
            202,
            json!({
                "status": "ok",
                "event": {
                    "id": id,
                    "id_str": id.to_string(),
                    "title": body["title"],
                    "text": body["text"],
                    "date_happened": body.get("date_happened").cloned().unwrap_or(json!(0)),
                    "priority": body.get("priority").cloned().unwrap_or(json!("normal")),
                    "tags": body.get("tags").cloned().unwrap_or(json!([])),
                    "url": format!("https://app.datadoghq.com/event/event?id={id}"),
                }
            }),
        )
    }
}

/// Metric names: start with a letter; ASCII letters, digits, `_` and `.`; at most 200.
fn valid_metric(name: &str) -> bool {
    name.len() <= 200
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

fn check_series(body: &Value) -> Result<(), String> {
    let Some(series) = body.get("series").and_then(Value::as_array) else {
        return Err("Missing series".into());
    };
    if series.is_empty() {
        return Err("Payload has no series".into());
    }
    for s in series {
        let metric = s["metric"].as_str().unwrap_or_default();
        if !valid_metric(metric) {
            return Err(format!("Invalid metric name: {metric:?}"));
        }
        if let Some(t) = s.get("type")
            && t.as_u64().is_none_or(|t| t > 3)
        {
            return Err(format!("Invalid metric type for {metric}"));
        }
        let points = s["points"].as_array().cloned().unwrap_or_default();
        if points.is_empty() {
            return Err(format!("No points for {metric}"));
        }
        if !points
            .iter()
            .all(|p| p["timestamp"].is_i64() && p["value"].is_number())
        {
            return Err(format!("Invalid point for {metric}"));
        }
        if let Some(tags) = s.get("tags")
            && !tags
                .as_array()
                .is_some_and(|t| t.iter().all(Value::is_string))
        {
            return Err(format!("Invalid tags for {metric}"));
        }
    }
    Ok(())
}

fn check_event(body: &Value) -> Result<(), String> {
    let len = |v: &Value| v.as_str().map(|s| s.chars().count());
    let (Some(_), Some(text)) = (len(&body["title"]), len(&body["text"])) else {
        return Err("Event title and text are required".into());
    };
    if text > MAX_EVENT_TEXT {
        return Err(format!(
            "Event text is limited to {MAX_EVENT_TEXT} characters"
        ));
    }
    if len(&body["aggregation_key"]).is_some_and(|n| n > MAX_AGGREGATION_KEY) {
        return Err(format!(
            "aggregation_key is limited to {MAX_AGGREGATION_KEY} characters"
        ));
    }
    let one_of = |key: &str, allowed: &[&str]| match body.get(key) {
        None | Some(Value::Null) => true,
        Some(v) => v.as_str().is_some_and(|s| allowed.contains(&s)),
    };
    if !one_of(
        "alert_type",
        &[
            "error",
            "warning",
            "info",
            "success",
            "user_update",
            "recommendation",
            "snapshot",
        ],
    ) {
        return Err("Invalid alert_type".into());
    }
    if !one_of("priority", &["normal", "low"]) {
        return Err("Invalid priority".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(path: &str, key: &str, body: &str) -> Received {
        Received {
            method: "POST".into(),
            path: path.into(),
            headers: vec![("dd-api-key".into(), key.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_as_datadog_documents() {
        let dd = DatadogIntake::new();
        let ok = r#"{"series":[{"metric":"costwatch.cost.daily","type":3,"points":[{"timestamp":1,"value":2.5}]}]}"#;
        assert_eq!(
            dd.handle(&post("/api/v2/series", API_KEY, ok), "").status(),
            Some(202)
        );
        assert_eq!(
            dd.handle(&post("/api/v2/series", "nope", ok), "").status(),
            Some(403)
        );
        let bad = r#"{"series":[{"metric":"1bad","points":[{"timestamp":1,"value":2}]}]}"#;
        assert_eq!(
            dd.handle(&post("/api/v2/series", API_KEY, bad), "")
                .status(),
            Some(400)
        );
        let huge = format!(
            r#"{{"series":[],"pad":"{}"}}"#,
            "x".repeat(MAX_SERIES_BYTES)
        );
        assert_eq!(
            dd.handle(&post("/api/v2/series", API_KEY, &huge), "")
                .status(),
            Some(413)
        );
        let event = r#"{"title":"t","text":"x","alert_type":"error"}"#;
        assert_eq!(
            dd.handle(&post("/api/v1/events", API_KEY, event), "")
                .status(),
            Some(202)
        );
        assert_eq!(
            dd.handle(&post("/api/v1/events", API_KEY, r#"{"title":"t"}"#), "")
                .status(),
            Some(400)
        );
        assert_eq!((dd.series().len(), dd.events().len()), (1, 1));
        dd.rate_limit_for(Duration::from_secs(30));
        let Reply::Respond {
            status: 429,
            headers,
            ..
        } = dd.handle(&post("/api/v1/events", API_KEY, event), "")
        else {
            panic!()
        };
        assert!(
            headers.contains(&("x-ratelimit-reset".into(), "30".into())),
            "{headers:?}"
        );
        assert_eq!(dd.throttled(), 1);
    }
}
