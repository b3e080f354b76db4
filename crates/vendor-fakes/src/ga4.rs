//! Google Analytics 4's Measurement Protocol as Google documents it (there is no official
//! schema). `POST /mp/collect?measurement_id=…&api_secret=…` answers 204 to everything — a wrong
//! secret, an invalid event — and keeps only valid events of the right stream ([`Ga4Collect::events`];
//! the rest is counted in [`Ga4Collect::dropped`]). `POST /debug/mp/collect` answers 200 with
//! `validationMessages` ([`validation_messages`]: `client_id` required; at most 25 events; event
//! and parameter names of letters, digits and `_`, starting with a letter, at most 40
//! characters, not reserved (`session_start`, `first_visit` …; prefixes `_`, `firebase_`,
//! `ga_`, `google_`, `gtag.`); at most 25 parameters; string values of at most 100 characters;
//! `user_id` of at most 256; bodies under 130 kB). Like Google's, the validation server does
//! not check the API secret. Timestamps are not checked (Google drops events older than 72
//! hours; the fake keeps them).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

pub const MEASUREMENT_ID: &str = "G-7K2Q9XW4TB";
/// GA4 API secrets are 22 URL-safe characters.
pub const API_SECRET: &str = "Xk3_Vq9LmT2pZr8sYw5N1a";
pub const MAX_EVENTS: usize = 25;
pub const MAX_PARAMS: usize = 25;
pub const MAX_NAME: usize = 40;
pub const MAX_VALUE: usize = 100;
pub const MAX_USER_ID: usize = 256;
pub const MAX_BYTES: usize = 130_000;

const RESERVED_EVENTS: &[&str] = &[
    "ad_activeview",
    "ad_click",
    "ad_exposure",
    "ad_query",
    "ad_reward",
    "adunit_exposure",
    "app_background",
    "app_clear_data",
    "app_exception",
    "app_remove",
    "app_store_refund",
    "app_store_subscription_cancel",
    "app_store_subscription_convert",
    "app_store_subscription_renew",
    "app_uninstall",
    "app_update",
    "app_upgrade",
    "dynamic_link_app_open",
    "dynamic_link_app_update",
    "dynamic_link_first_open",
    "error",
    "firebase_campaign",
    "firebase_in_app_message_action",
    "firebase_in_app_message_dismiss",
    "firebase_in_app_message_impression",
    "first_open",
    "first_visit",
    "in_app_purchase",
    "notification_dismiss",
    "notification_foreground",
    "notification_open",
    "notification_receive",
    "os_update",
    "session_start",
    "session_start_with_rollout",
    "user_engagement",
];
const RESERVED_PREFIXES: &[&str] = &["_", "firebase_", "ga_", "google_", "gtag."];

#[derive(Default)]
pub struct Ga4Collect {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    events: Vec<Value>,
    dropped: usize,
    validated: usize,
    flag_next: Option<String>,
}

impl Ga4Collect {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event collected (with the request's `client_id` and `user_id` added), in order.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.clone()
    }

    /// Events `/mp/collect` answered 2xx and threw away (invalid, or a wrong stream or secret).
    pub fn dropped(&self) -> usize {
        self.lock().dropped
    }

    /// Requests the validation server answered.
    pub fn validated(&self) -> usize {
        self.lock().validated
    }

    /// The next validation answer carries this message too (a rule of Google's the fake does not
    /// model).
    pub fn flag_next_validation(&self, description: &str) {
        self.lock().flag_next = Some(description.to_owned());
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn message(field: &str, description: String, code: &str) -> Value {
    json!({"fieldPath": field, "description": description, "validationCode": code})
}

/// Whether `name` may name an event or a parameter, else the validation code and why.
fn name_problem(name: &str, reserved: &[&str]) -> Option<(&'static str, &'static str)> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Some(("NAME_INVALID", "Names must be 1 to 40 characters."));
    }
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) || reserved.contains(&name) {
        return Some(("NAME_RESERVED", "The name is reserved."));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some((
            "NAME_INVALID",
            "Names must start with an alphabetic character.",
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some((
            "NAME_INVALID",
            "Names may contain only letters, digits and underscores.",
        ));
    }
    None
}

/// What the validation server says of a request body: empty when valid.
pub fn validation_messages(body: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let Some(obj) = body.as_object() else {
        return vec![message(
            "",
            "Unable to parse the request body as an object.".into(),
            "VALUE_INVALID",
        )];
    };
    if obj
        .get("client_id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(message(
            "client_id",
            "client_id is required.".into(),
            "VALUE_REQUIRED",
        ));
    }
    if let Some(u) = obj.get("user_id")
        && u.as_str().is_none_or(|u| u.chars().count() > MAX_USER_ID)
    {
        out.push(message(
            "user_id",
            format!("user_id must be a string of at most {MAX_USER_ID} characters."),
            "VALUE_OUT_OF_BOUNDS",
        ));
    }
    let events = obj
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if events.is_empty() {
        out.push(message(
            "events",
            "events is required.".into(),
            "VALUE_REQUIRED",
        ));
    }
    if events.len() > MAX_EVENTS {
        out.push(message(
            "events",
            format!("A request may hold at most {MAX_EVENTS} events."),
            "EXCEED_MAX_ENTITIES",
        ));
    }
    for (i, e) in events.iter().enumerate() {
        let name = e["name"].as_str().unwrap_or_default();
        if let Some((code, why)) = name_problem(name, RESERVED_EVENTS) {
            out.push(message(
                "events",
                format!("Event at index: [{i}] has invalid name [{name}]. {why}"),
                code,
            ));
        }
        let Some(params) = e.get("params") else {
            continue;
        };
        let Some(params) = params.as_object() else {
            out.push(message(
                &format!("events[{i}].params"),
                "params must be an object.".into(),
                "VALUE_INVALID",
            ));
            continue;
        };
        if params.len() > MAX_PARAMS {
            out.push(message(
                &format!("events[{i}].params"),
                format!(
                    "Event at index: [{i}] has {} parameters, more than {MAX_PARAMS}.",
                    params.len()
                ),
                "EXCEED_MAX_ENTITIES",
            ));
        }
        for (k, v) in params {
            if let Some((code, why)) = name_problem(k, &[]) {
                out.push(message(
                    &format!("events[{i}].params"),
                    format!("Event at index: [{i}] has invalid param [{k}]. {why}"),
                    code,
                ));
            }
            match v {
                Value::String(s) if s.chars().count() > MAX_VALUE => out.push(message(
                    &format!("events[{i}].params.{k}"),
                    format!("Event at index: [{i}] has param [{k}] with a value longer than {MAX_VALUE} characters."),
                    "VALUE_OUT_OF_BOUNDS",
                )),
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
                Value::Array(_) if k == "items" => {}
                _ => out.push(message(&format!("events[{i}].params.{k}"), format!("Event at index: [{i}] has param [{k}] of an invalid type."), "VALUE_INVALID")),
            }
        }
    }
    out
}

impl Vendor for Ga4Collect {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let debug = match (request.method.as_str(), path) {
            ("POST", "/mp/collect") => false,
            ("POST", "/debug/mp/collect") => true,
            _ => return Reply::text(404, "Not Found"),
        };
        let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let body = request.json().unwrap_or(Value::Null);
        let mut messages = validation_messages(&body);
        if request.body.len() >= MAX_BYTES {
            messages.push(message(
                "",
                format!("The request body is larger than {MAX_BYTES} bytes."),
                "VALUE_OUT_OF_BOUNDS",
            ));
        }
        let mut state = self.lock();
        if debug {
            state.validated += 1;
            if let Some(flag) = state.flag_next.take() {
                messages.push(message("events", flag, "VALUE_INVALID"));
            }
            return Reply::json(200, json!({"validationMessages": messages}));
        }
        let events = body["events"].as_array().cloned().unwrap_or_default();
        let right_stream = params.get("measurement_id").map(String::as_str) == Some(MEASUREMENT_ID)
            && params.get("api_secret").map(String::as_str) == Some(API_SECRET);
        if !right_stream || !messages.is_empty() {
            state.dropped += events.len();
        } else {
            for mut e in events {
                e["client_id"] = body["client_id"].clone();
                e["user_id"] = body["user_id"].clone();
                state.events.push(e);
            }
        }
        Reply::Respond {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}
