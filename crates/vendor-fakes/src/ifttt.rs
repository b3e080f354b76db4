//! IFTTT's Webhooks service (Maker) as its documentation page describes it: `POST
//! /trigger/{event}/with/key/{key}` with a JSON body of up to three ingredients `value1`,
//! `value2`, `value3` (anything else is ignored), and `POST /trigger/{event}/json/with/key/{key}`
//! ("Receive a web request with a JSON payload") with any JSON object. A fired event answers 200
//! `Congratulations! You've fired the {event} event` (text); a wrong key 401 with IFTTT's
//! `{"errors":[{"message":"You sent an invalid key."}]}`; `throttle(n, secs)` answers 429.

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

pub const KEY: &str = "dQw4w9WgXcQ-fake_ifttt_key";

/// One fired event: its name, whether it came in the JSON form, and the ingredients/payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub event: String,
    pub json_form: bool,
    pub payload: Value,
}

#[derive(Default)]
pub struct Maker {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    throttle: Vec<u32>,
    fired: Vec<Fired>,
}

impl Maker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The URL of `event` on `base`, in the values form or the JSON form.
    pub fn trigger_url(base: &str, event: &str, json_form: bool) -> String {
        let json = if json_form { "json/" } else { "" };
        format!("{base}/trigger/{event}/{json}with/key/{KEY}")
    }

    pub fn throttle(&self, n: usize, secs: u32) {
        self.lock().throttle.extend(std::iter::repeat_n(secs, n));
    }

    pub fn fired(&self) -> Vec<Fired> {
        self.lock().fired.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Vendor for Maker {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let path = request.path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (event, json_form, key) = match segments.as_slice() {
            ["trigger", event, "with", "key", key] => (*event, false, *key),
            ["trigger", event, "json", "with", "key", key] => (*event, true, *key),
            _ => return Reply::text(404, "Not found"),
        };
        if key != KEY {
            return Reply::json(
                401,
                json!({"errors": [{"message": "You sent an invalid key."}]}),
            );
        }
        let mut state = self.lock();
        if !state.throttle.is_empty() {
            let secs = state.throttle.remove(0);
            return Reply::json(429, json!({"errors": [{"message": "Too many requests"}]}))
                .with_header("retry-after", &secs.to_string());
        }
        let payload = match request.json() {
            Some(Value::Object(map)) if json_form => Value::Object(map),
            Some(Value::Object(map)) => Value::Object(
                map.into_iter()
                    .filter(|(k, _)| matches!(k.as_str(), "value1" | "value2" | "value3"))
                    .collect(),
            ),
            _ if request.body.is_empty() && !json_form => json!({}),
            _ => return Reply::json(400, json!({"errors": [{"message": "Invalid JSON"}]})),
        };
        state.fired.push(Fired {
            event: event.to_owned(),
            json_form,
            payload,
        });
        Reply::text(
            200,
            &format!("Congratulations! You've fired the {event} event"),
        )
    }
}
