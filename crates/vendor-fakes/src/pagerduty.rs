//! PagerDuty's Events API v2 as its documentation describes it: `POST /v2/enqueue` (alert
//! events) and `POST /v2/change/enqueue` (change events), the routing key in the JSON body.
//!
//! - 202 `{"status":"success","message":"Event processed","dedup_key":…}` for an accepted alert
//!   event (the key PagerDuty generated when a trigger had none), 202 for a change event.
//! - 400 `{"status":"invalid event","message":"Event object is invalid","errors":[…]}` for an
//!   event that breaks the documented rules: a routing key that is not 32 letters and digits
//!   (PagerDuty's own wording), or one no integration has ("Invalid routing key"); a missing or
//!   unknown `event_action`; a trigger without `payload.summary`, `payload.source` or a valid
//!   `payload.severity`; `summary` over 1,024 characters; `dedup_key` over 255 or missing on an
//!   acknowledge/resolve; an event over 512 KB. A body that is not JSON gets the spec's
//!   `{"status":"Unrecognized object","message":"Event object format is unrecognized",
//!   "errors":["JSON parse error"]}`. (The error wording for the limits is the fake's: PagerDuty
//!   documents the limits, not its messages for them.)
//! - 429 with an empty body when over the rate limit ([`PagerDutyEvents::rate_limit`], per
//!   routing key; PagerDuty sends no `Retry-After`) or while [`PagerDutyEvents::throttle`]d.
//!
//! Alerts behave as PagerDuty's do: a trigger opens an alert (and its incident) for a
//! `dedup_key` with none open, and is deduplicated into the open one otherwise; acknowledge and
//! resolve change an open alert and are discarded for a resolved or unknown one.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

/// The Integration Key the fake knows unless told others (32 letters and digits).
pub const ROUTING_KEY: &str = "fakeroutingkey000000000000000001";
pub const MAX_SUMMARY: usize = 1024;
pub const MAX_DEDUP_KEY: usize = 255;
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Triggered,
    Acknowledged,
    Resolved,
}

/// One alert, by routing key and `dedup_key`.
#[derive(Debug, Clone)]
pub struct Alert {
    pub routing_key: String,
    pub dedup_key: String,
    pub status: Status,
    /// Times an incident was opened for this key (a trigger after a resolve opens another).
    pub incidents: u32,
    /// The payload of the trigger that opened the current alert.
    pub payload: Value,
    /// Every event applied to it, in order (`trigger`, `trigger (deduplicated)`, `resolve` …).
    pub log: Vec<String>,
}

pub struct PagerDutyEvents {
    keys: Vec<String>,
    rate: Option<(usize, Duration)>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    throttle: u32,
    alerts: BTreeMap<(String, String), Alert>,
    changes: Vec<Value>,
    /// Every accepted event, alert or change, in order.
    accepted: Vec<Value>,
    /// Times of accepted events per routing key, for the rate limit.
    recent: BTreeMap<String, Vec<Instant>>,
    generated: u64,
}

impl Default for PagerDutyEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl PagerDutyEvents {
    /// Knows [`ROUTING_KEY`]; no rate limit.
    pub fn new() -> Self {
        Self {
            keys: vec![ROUTING_KEY.to_owned()],
            rate: None,
            state: Mutex::default(),
        }
    }

    /// Knows `key` as well (another service's integration).
    pub fn with_key(mut self, key: &str) -> Self {
        self.keys.push(key.to_owned());
        self
    }

    /// At most `events` per `per` for each routing key; the rest get 429.
    pub fn rate_limit(mut self, events: usize, per: Duration) -> Self {
        self.rate = Some((events, per));
        self
    }

    /// The next `n` requests get 429.
    pub fn throttle(&self, n: u32) {
        self.lock().throttle += n;
    }

    pub fn alerts(&self) -> Vec<Alert> {
        self.lock().alerts.values().cloned().collect()
    }

    pub fn alert(&self, dedup_key: &str) -> Option<Alert> {
        self.alerts().into_iter().find(|a| a.dedup_key == dedup_key)
    }

    /// Incidents opened, over every alert.
    pub fn incidents(&self) -> u32 {
        self.lock().alerts.values().map(|a| a.incidents).sum()
    }

    pub fn changes(&self) -> Vec<Value> {
        self.lock().changes.clone()
    }

    /// Every accepted event (with its routing key), in order.
    pub fn accepted(&self) -> Vec<Value> {
        self.lock().accepted.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn invalid(errors: Vec<String>) -> Reply {
    Reply::json(
        400,
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors}),
    )
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn blank(v: &Value, pointer: &str) -> bool {
    text(v, pointer).is_none_or(|s| s.trim().is_empty())
}

/// The documented rules of the routing key.
fn key_errors(event: &Value) -> Vec<String> {
    let Some(key) = text(event, "/routing_key") else {
        return vec!["'routing_key' is missing or blank".into()];
    };
    let mut errors = Vec::new();
    if key.chars().count() != 32 {
        errors.push("Length of 'routing_key' is incorrect (should be 32 characters)".into());
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        errors.push("'routing_key' cannot contain non-alphanumeric characters.".into());
    }
    errors
}

fn summary_errors(event: &Value) -> Vec<String> {
    if blank(event, "/payload/summary") {
        return vec!["'payload.summary' is missing or blank".into()];
    }
    let length = text(event, "/payload/summary").map_or(0, |s| s.chars().count());
    if length > MAX_SUMMARY {
        return vec![format!(
            "'payload.summary' is too long ({length} characters, at most {MAX_SUMMARY})"
        )];
    }
    Vec::new()
}

fn link_errors(event: &Value) -> Vec<String> {
    let links = event.get("links").and_then(Value::as_array);
    links
        .into_iter()
        .flatten()
        .filter(|l| blank(l, "/href"))
        .map(|_| "every link needs an 'href'".to_owned())
        .collect()
}

fn alert_errors(event: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let action = text(event, "/event_action");
    match action {
        None => errors.push("'event_action' is missing or blank".into()),
        Some("trigger" | "acknowledge" | "resolve") => {}
        Some(_) => errors.push("'event_action' must be trigger, acknowledge or resolve".into()),
    }
    match text(event, "/dedup_key") {
        Some(key) if key.chars().count() > MAX_DEDUP_KEY => errors.push(format!(
            "'dedup_key' is too long (at most {MAX_DEDUP_KEY} characters)"
        )),
        None if matches!(action, Some("acknowledge" | "resolve")) => {
            errors.push("'dedup_key' is missing or blank".into());
        }
        _ => {}
    }
    if action == Some("trigger") {
        errors.extend(summary_errors(event));
        if blank(event, "/payload/source") {
            errors.push("'payload.source' is missing or blank".into());
        }
        if !text(event, "/payload/severity").is_some_and(|s| SEVERITIES.contains(&s)) {
            errors.push(
                "'payload.severity' is invalid (must be one of critical, error, warning, info)"
                    .into(),
            );
        }
    }
    errors
}

impl PagerDutyEvents {
    /// Applies an accepted alert event; the `dedup_key` it concerned.
    fn apply(&self, state: &mut State, event: &Value) -> String {
        let key = text(event, "/routing_key").unwrap_or_default().to_owned();
        let dedup = match text(event, "/dedup_key") {
            Some(d) => d.to_owned(),
            None => {
                state.generated += 1;
                format!("{:032x}", state.generated)
            }
        };
        let action = text(event, "/event_action").unwrap_or_default();
        let slot = state.alerts.get_mut(&(key.clone(), dedup.clone()));
        match (action, slot) {
            ("trigger", Some(alert)) if alert.status != Status::Resolved => {
                alert.log.push("trigger (deduplicated)".into());
            }
            ("trigger", existing) => {
                let incidents = existing.map_or(0, |a| a.incidents);
                let mut log = state
                    .alerts
                    .remove(&(key.clone(), dedup.clone()))
                    .map(|a| a.log)
                    .unwrap_or_default();
                log.push("trigger".into());
                state.alerts.insert(
                    (key.clone(), dedup.clone()),
                    Alert {
                        routing_key: key,
                        dedup_key: dedup.clone(),
                        status: Status::Triggered,
                        incidents: incidents + 1,
                        payload: event.get("payload").cloned().unwrap_or(Value::Null),
                        log,
                    },
                );
            }
            ("acknowledge", Some(alert)) if alert.status == Status::Triggered => {
                alert.status = Status::Acknowledged;
                alert.log.push("acknowledge".into());
            }
            ("resolve", Some(alert)) if alert.status != Status::Resolved => {
                alert.status = Status::Resolved;
                alert.log.push("resolve".into());
            }
            (other, Some(alert)) => alert.log.push(format!("{other} (discarded)")),
            // Discarded: nothing open under that key.
            (_, None) => {}
        }
        dedup
    }

    fn over_rate(&self, state: &mut State, key: &str) -> bool {
        let Some((events, per)) = self.rate else {
            return false;
        };
        let now = Instant::now();
        let recent = state.recent.entry(key.to_owned()).or_default();
        recent.retain(|t| now.duration_since(*t) < per);
        if recent.len() >= events {
            return true;
        }
        recent.push(now);
        false
    }
}

impl Vendor for PagerDutyEvents {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let path = request.path.split('?').next().unwrap_or_default();
        let change = match (request.method.as_str(), path) {
            ("POST", "/v2/enqueue") => false,
            ("POST", "/v2/change/enqueue") => true,
            _ => return Reply::text(404, "Not Found"),
        };
        let Some(event) = request.json().filter(Value::is_object) else {
            return Reply::json(
                400,
                json!({
                    "status": "Unrecognized object",
                    "message": "Event object format is unrecognized",
                    "errors": ["JSON parse error"],
                }),
            );
        };
        let mut state = self.lock();
        if state.throttle > 0 {
            state.throttle -= 1;
            return Reply::text(429, "");
        }
        let mut errors = key_errors(&event);
        if request.body.len() > MAX_EVENT_BYTES {
            errors.push(format!(
                "Event object is {} bytes, over the {} KB limit",
                request.body.len(),
                MAX_EVENT_BYTES / 1024
            ));
        }
        errors.extend(if change {
            summary_errors(&event)
        } else {
            alert_errors(&event)
        });
        errors.extend(link_errors(&event));
        if !errors.is_empty() {
            return invalid(errors);
        }
        let key = text(&event, "/routing_key").unwrap_or_default();
        if !self.keys.iter().any(|k| k == key) {
            return invalid(vec!["Invalid routing key".into()]);
        }
        if self.over_rate(&mut state, key) {
            return Reply::text(429, "");
        }
        state.accepted.push(event.clone());
        if change {
            state.changes.push(event);
            return Reply::json(
                202,
                json!({"status": "success", "message": "Change event processed"}),
            );
        }
        let dedup_key = self.apply(&mut state, &event);
        Reply::json(
            202,
            json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(fake: &PagerDutyEvents, path: &str, body: Value) -> (u16, Value) {
        let request = Received {
            method: "POST".into(),
            path: path.into(),
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        };
        match fake.handle(&request, "http://fake") {
            Reply::Respond { status, body, .. } => {
                (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
            }
            other => panic!("{other:?}"),
        }
    }

    fn trigger(dedup: &str) -> Value {
        json!({
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {"summary": "s", "source": "x", "severity": "error"},
        })
    }

    #[test]
    fn an_alert_lives_from_trigger_to_resolve_on_its_dedup_key() {
        let fake = PagerDutyEvents::new();
        let (status, body) = post(&fake, "/v2/enqueue", trigger("k1"));
        assert_eq!(status, 202);
        assert_eq!(
            body,
            json!({"status": "success", "message": "Event processed", "dedup_key": "k1"})
        );
        post(&fake, "/v2/enqueue", trigger("k1"));
        let ack =
            json!({"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": "k1"});
        assert_eq!(post(&fake, "/v2/enqueue", ack).0, 202);
        let resolve =
            json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "k1"});
        assert_eq!(post(&fake, "/v2/enqueue", resolve.clone()).0, 202);
        let alert = fake.alert("k1").unwrap();
        assert_eq!(alert.status, Status::Resolved);
        assert_eq!(alert.incidents, 1);
        assert_eq!(
            alert.log,
            [
                "trigger",
                "trigger (deduplicated)",
                "acknowledge",
                "resolve"
            ]
        );
        // A resolve for nothing open is discarded; a new trigger opens a second incident.
        post(&fake, "/v2/enqueue", resolve);
        post(&fake, "/v2/enqueue", trigger("k1"));
        assert_eq!(fake.alert("k1").unwrap().incidents, 2);
        // A trigger without a key gets one.
        let mut keyless = trigger("");
        keyless.as_object_mut().unwrap().remove("dedup_key");
        let (_, body) = post(&fake, "/v2/enqueue", keyless);
        assert_eq!(body["dedup_key"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn invalid_events_are_refused_with_pagerdutys_error_shape() {
        let fake = PagerDutyEvents::new();
        let mut e = trigger("k");
        e["routing_key"] = json!("short-key!");
        let (status, body) = post(&fake, "/v2/enqueue", e);
        assert_eq!(status, 400);
        assert_eq!(body["status"], "invalid event");
        assert_eq!(
            body["errors"],
            json!([
                "Length of 'routing_key' is incorrect (should be 32 characters)",
                "'routing_key' cannot contain non-alphanumeric characters."
            ])
        );
        let mut e = trigger("k");
        e["routing_key"] = json!("0123456789abcdef0123456789abcdef");
        assert_eq!(
            post(&fake, "/v2/enqueue", e).1["errors"],
            json!(["Invalid routing key"])
        );
        let mut e = trigger(&"d".repeat(256));
        e["payload"]["severity"] = json!("high");
        e["payload"]["summary"] = json!("s".repeat(1025));
        let errors = post(&fake, "/v2/enqueue", e).1["errors"].to_string();
        assert!(
            errors.contains("dedup_key")
                && errors.contains("severity")
                && errors.contains("summary"),
            "{errors}"
        );
        let ack = json!({"routing_key": ROUTING_KEY, "event_action": "acknowledge"});
        assert_eq!(
            post(&fake, "/v2/enqueue", ack).1["errors"],
            json!(["'dedup_key' is missing or blank"])
        );
        let mut big = trigger("k");
        big["payload"]["custom_details"] = json!({"x": "y".repeat(MAX_EVENT_BYTES)});
        assert_eq!(post(&fake, "/v2/enqueue", big).0, 400);
        let request = Received {
            method: "POST".into(),
            path: "/v2/enqueue".into(),
            headers: Vec::new(),
            body: b"{not json".to_vec(),
        };
        assert!(matches!(
            fake.handle(&request, ""),
            Reply::Respond { status: 400, .. }
        ));
        assert!(fake.alerts().is_empty() && fake.accepted().is_empty());
    }

    #[test]
    fn change_events_and_the_rate_limit() {
        let fake = PagerDutyEvents::new().rate_limit(2, Duration::from_secs(60));
        let change = json!({"routing_key": ROUTING_KEY, "payload": {"summary": "Daily report"}});
        assert_eq!(post(&fake, "/v2/change/enqueue", change.clone()).0, 202);
        assert_eq!(post(&fake, "/v2/enqueue", trigger("k")).0, 202);
        assert_eq!(post(&fake, "/v2/enqueue", trigger("k")).0, 429);
        assert_eq!(fake.changes().len(), 1);
        let fake = PagerDutyEvents::new();
        fake.throttle(1);
        assert_eq!(post(&fake, "/v2/change/enqueue", change.clone()).0, 429);
        assert_eq!(post(&fake, "/v2/change/enqueue", change).0, 202);
    }
}
