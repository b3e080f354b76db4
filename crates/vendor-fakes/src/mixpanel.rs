//! Mixpanel's `POST /import` as its documentation and OpenAPI document describe it: a service
//! account as HTTP basic auth with the project in `project_id` (unknown credentials: 401
//! `{"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}`); `strict=1`
//! validation of each event (`event`, `properties.time` an integer, `distinct_id` a string,
//! `$insert_id` of at most 36 letters, digits and `-`): the valid events are imported and a
//! batch with invalid ones is answered 400 with `failed_records` and `num_records_imported`; at
//! most 2,000 events and 10 MB per request (413 past that); 200 `{"code": 200,
//! "num_records_imported": n, "status": "OK"}`. Events with the same event, time, distinct_id and
//! `$insert_id` are one event ([`MixpanelImport::events`] keeps the latest), as Mixpanel
//! deduplicates them. While rate-limited every request is 429 with Mixpanel's body.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

pub const PROJECT_ID: &str = "3141592";
pub const SERVICE_ACCOUNT: &str = "costwatch.7f3a9c.mp-service-account";
pub const SECRET: &str = "Zq4kT9vB2nX7mW1pR8sL3dF6hJ0yC5aE";
/// base64 of `SERVICE_ACCOUNT:SECRET`, what the Authorization header carries after `Basic `.
pub const BASIC: &str =
    "Y29zdHdhdGNoLjdmM2E5Yy5tcC1zZXJ2aWNlLWFjY291bnQ6WnE0a1Q5dkIyblg3bVcxcFI4c0wzZEY2aEoweUM1YUU=";
pub const MAX_EVENTS: usize = 2_000;
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Default)]
pub struct MixpanelImport {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// (event, time, distinct_id, $insert_id) → the latest event imported with them.
    events: BTreeMap<(String, i64, String, String), Value>,
    imported: usize,
    limited: u32,
}

impl MixpanelImport {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `n` requests are answered 429.
    pub fn rate_limit_next(&self, n: u32) {
        self.lock().limited = n;
    }

    /// The events as Mixpanel counts them (duplicates merged), in key order.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.values().cloned().collect()
    }

    /// Every event imported, duplicates included.
    pub fn imported(&self) -> usize {
        self.lock().imported
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn answer(code: u16, status: &str, extra: Value) -> Reply {
    let mut body = json!({"code": code, "status": status});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    Reply::json(code, body)
}

/// What `strict=1` says of one event, if it is invalid: (field, message).
pub fn invalid(event: &Value) -> Option<(&'static str, String)> {
    if event["event"].as_str().is_none_or(str::is_empty) {
        return Some(("event", "'event' must be a non-empty string".into()));
    }
    let p = &event["properties"];
    if !p.is_object() {
        return Some(("properties", "'properties' must be an object".into()));
    }
    if !p["time"].is_i64() {
        return Some((
            "properties.time",
            "'properties.time' is invalid: must be specified as seconds since epoch".into(),
        ));
    }
    if !p["distinct_id"].is_string() {
        return Some((
            "properties.distinct_id",
            "'properties.distinct_id' must be a string".into(),
        ));
    }
    let insert = p["$insert_id"].as_str().unwrap_or_default();
    if insert.is_empty()
        || insert.len() > 36
        || !insert
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Some((
            "properties.$insert_id",
            "'properties.$insert_id' must be at most 36 letters, digits or '-'".into(),
        ));
    }
    if serde_json::to_vec(event).map_or(0, |b| b.len()) >= 1024 * 1024 {
        return Some(("event", "event exceeds 1MB".into()));
    }
    None
}

impl Vendor for MixpanelImport {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        if request.method != "POST" || path != "/import" {
            return answer(404, "Not Found", json!({"error": "not found"}));
        }
        let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let basic = request
            .header("authorization")
            .and_then(|a| a.strip_prefix("Basic "));
        if basic != Some(BASIC) || params.get("project_id").map(String::as_str) != Some(PROJECT_ID)
        {
            return answer(401, "Unauthorized", json!({"error": "Invalid credentials"}));
        }
        let mut state = self.lock();
        if state.limited > 0 {
            state.limited -= 1;
            return answer(
                429,
                "Too Many Requests",
                json!({"error": "Project exceeded rate limits. Please retry the request with exponential backoff."}),
            );
        }
        if request.body.len() > MAX_BYTES {
            return answer(
                413,
                "Request Entity Too Large",
                json!({"error": format!("request exceeds max limit of {MAX_BYTES} bytes")}),
            );
        }
        let Some(Value::Array(events)) = request.json() else {
            return answer(
                400,
                "Bad Request",
                json!({"error": "body must be a JSON array of events"}),
            );
        };
        if events.is_empty() || events.len() > MAX_EVENTS {
            return answer(
                400,
                "Bad Request",
                json!({"error": format!("a batch holds 1 to {MAX_EVENTS} events")}),
            );
        }
        let strict = params.get("strict").map(String::as_str) == Some("1");
        let mut failed = Vec::new();
        let mut imported = 0;
        for (index, event) in events.iter().enumerate() {
            if let Some((field, message)) = invalid(event) {
                if strict {
                    failed.push(json!({"index": index, "insert_id": event["properties"]["$insert_id"], "field": field, "message": message}));
                }
                continue;
            }
            let p = &event["properties"];
            let key = (
                event["event"].as_str().unwrap_or_default().to_owned(),
                p["time"].as_i64().unwrap_or_default(),
                p["distinct_id"].as_str().unwrap_or_default().to_owned(),
                p["$insert_id"].as_str().unwrap_or_default().to_owned(),
            );
            state.events.insert(key, event.clone());
            imported += 1;
        }
        state.imported += imported;
        if failed.is_empty() {
            answer(200, "OK", json!({"num_records_imported": imported}))
        } else {
            answer(
                400,
                "Bad Request",
                json!({"num_records_imported": imported, "failed_records": failed}),
            )
        }
    }
}
