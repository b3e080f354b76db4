//! Amplitude's HTTP V2 API (`POST /2/httpapi`) as its documentation describes it (there is no
//! official schema): the project's API key in the body (`api_key` missing: 400 with
//! `missing_field`; unknown: 400 `Invalid API key`); at most 2,000 events and under 1 MB per
//! request (413 `Payload too large` past that); each event needs `event_type`, a `user_id` or
//! `device_id` of at least 5 characters and an integer `time` in milliseconds when given — an
//! invalid event makes the whole request 400 with `events_with_invalid_fields`,
//! `events_with_missing_fields` or `events_with_invalid_id_lengths` (field → event indices) and
//! nothing is ingested; 200 `{"code": 200, "events_ingested": n, "payload_size_bytes": b,
//! "server_upload_time": ms}`. An event whose `insert_id` was ingested before is ignored (the
//! 7-day deduplication). [`AmplitudeHttpApi::throttle_user`] throttles a user: every request
//! with an event of it is 429 with `eps_threshold`, `throttled_users` and `throttled_events`,
//! nothing ingested.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value, json};

use crate::server::{Received, Reply, Vendor};

/// The API key the fake accepts (Amplitude's format: 32 hexadecimal characters).
pub const API_KEY: &str = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";
pub const MAX_EVENTS: usize = 2_000;
pub const MAX_BYTES: usize = 1_000_000;
/// Events per second per user or device before Amplitude throttles.
pub const EPS_THRESHOLD: u32 = 30;

#[derive(Default)]
pub struct AmplitudeHttpApi {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    ingested: Vec<Value>,
    insert_ids: BTreeSet<String>,
    duplicates: usize,
    throttled_users: BTreeSet<String>,
    /// `event_type`s refused as invalid (a vendor-side rule the fake cannot derive).
    refused_types: BTreeSet<String>,
}

impl AmplitudeHttpApi {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every request with an event of `user_id` is throttled until [`Self::release_user`].
    pub fn throttle_user(&self, user_id: &str) {
        self.lock().throttled_users.insert(user_id.to_owned());
    }

    pub fn release_user(&self, user_id: &str) {
        self.lock().throttled_users.remove(user_id);
    }

    /// Events of `event_type` are invalid (`events_with_invalid_fields.event_type`).
    pub fn refuse_event_type(&self, event_type: &str) {
        self.lock().refused_types.insert(event_type.to_owned());
    }

    /// Every event ingested, in order (an ignored repeat of an `insert_id` is not).
    pub fn events(&self) -> Vec<Value> {
        self.lock().ingested.clone()
    }

    /// Events ignored because their `insert_id` was ingested before.
    pub fn duplicates(&self) -> usize {
        self.lock().duplicates
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn bad(extra: Value) -> Reply {
    let mut body = json!({"code": 400});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    Reply::json(400, body)
}

/// What Amplitude's 400 would name in `body` (field → indices, per naming field), or a whole-
/// request problem: the check the fake applies, for tests to apply to rendered requests too.
pub fn problems(body: &Value) -> Result<Map<String, Value>, String> {
    let Some(obj) = body.as_object() else {
        return Err("the body is not a JSON object".into());
    };
    for field in ["api_key", "events"] {
        if !obj.contains_key(field) {
            return Err(format!("missing_field {field}"));
        }
    }
    let Some(events) = obj["events"].as_array() else {
        return Err("events is not an array".into());
    };
    if events.is_empty() {
        return Err("events is empty".into());
    }
    if events.len() > MAX_EVENTS {
        return Err(format!("{} events, over {MAX_EVENTS}", events.len()));
    }
    let mut invalid: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut missing: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut short: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        match e.get("event_type") {
            Some(Value::String(t)) if !t.is_empty() => {}
            None => missing.entry("event_type").or_default().push(i),
            Some(_) => invalid.entry("event_type").or_default().push(i),
        }
        let ids: Vec<(&str, &str)> = ["user_id", "device_id"]
            .into_iter()
            .filter_map(|f| e.get(f).and_then(Value::as_str).map(|v| (f, v)))
            .collect();
        if ids.is_empty() {
            missing.entry("user_id").or_default().push(i);
        }
        for (f, v) in ids {
            if v.chars().count() < 5 {
                short.entry(f).or_default().push(i);
            }
        }
        if e.get("time").is_some_and(|t| !t.is_i64()) {
            invalid.entry("time").or_default().push(i);
        }
        if e.get("insert_id").is_some_and(|t| !t.is_string()) {
            invalid.entry("insert_id").or_default().push(i);
        }
        for props in ["event_properties", "user_properties"] {
            if e.get(props).is_some_and(|p| !p.is_object()) {
                invalid.entry(props).or_default().push(i);
            }
        }
    }
    let mut out = Map::new();
    for (name, map) in [
        ("events_with_invalid_fields", invalid),
        ("events_with_missing_fields", missing),
        ("events_with_invalid_id_lengths", short),
    ] {
        if !map.is_empty() {
            out.insert(name.into(), json!(map));
        }
    }
    Ok(out)
}

impl Vendor for AmplitudeHttpApi {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        if request.method != "POST" || request.path.split('?').next() != Some("/2/httpapi") {
            return Reply::json(404, json!({"code": 404, "error": "Not found"}));
        }
        if request.body.len() >= MAX_BYTES {
            return Reply::json(413, json!({"code": 413, "error": "Payload too large"}));
        }
        let Some(body) = request.json() else {
            return bad(json!({"error": "Invalid JSON request body"}));
        };
        if let Some(events) = body.get("events").and_then(Value::as_array)
            && events.len() > MAX_EVENTS
        {
            return Reply::json(413, json!({"code": 413, "error": "Payload too large"}));
        }
        let mut naming = match problems(&body) {
            Ok(naming) => naming,
            Err(why) => {
                let field = why.strip_prefix("missing_field ").map(str::to_owned);
                return match field {
                    Some(f) => {
                        bad(json!({"error": "Request missing required field", "missing_field": f}))
                    }
                    None => bad(json!({"error": why})),
                };
            }
        };
        if body["api_key"] != json!(API_KEY) {
            return bad(json!({"error": "Invalid API key: the key is not a project's API key"}));
        }
        let events = body["events"].as_array().cloned().unwrap_or_default();
        let mut state = self.lock();
        let refused: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e["event_type"]
                    .as_str()
                    .is_some_and(|t| state.refused_types.contains(t))
            })
            .map(|(i, _)| i)
            .collect();
        if !refused.is_empty() {
            let invalid = naming
                .entry("events_with_invalid_fields")
                .or_insert_with(|| json!({}));
            invalid["event_type"] = json!(refused);
        }
        if !naming.is_empty() {
            let mut extra = json!({"error": "Invalid field values on some events"});
            if let Some(e) = extra.as_object_mut() {
                e.extend(naming);
            }
            return bad(extra);
        }
        let user_of = |e: &Value| e["user_id"].as_str().unwrap_or_default().to_owned();
        let throttled: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| state.throttled_users.contains(&user_of(e)))
            .map(|(i, _)| i)
            .collect();
        if !throttled.is_empty() {
            let users: Map<String, Value> = throttled
                .iter()
                .map(|&i| (user_of(&events[i]), json!(EPS_THRESHOLD + 1)))
                .collect();
            return Reply::json(
                429,
                json!({"code": 429, "error": "Too many requests for some devices and users",
                    "eps_threshold": EPS_THRESHOLD, "throttled_devices": {}, "throttled_users": users,
                    "throttled_events": throttled}),
            );
        }
        for e in &events {
            if let Some(id) = e["insert_id"].as_str()
                && !state.insert_ids.insert(id.to_owned())
            {
                state.duplicates += 1;
                continue;
            }
            state.ingested.push(e.clone());
        }
        Reply::json(
            200,
            json!({"code": 200, "events_ingested": events.len(),
                "payload_size_bytes": request.body.len(), "server_upload_time": 1_796_000_000_000_u64}),
        )
    }
}
