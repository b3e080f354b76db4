//! A Zapier "Catch Hook" trigger (Webhooks by Zapier) as Zapier documents it: the hook URL
//! `https://hooks.zapier.com/hooks/catch/{account}/{hook}/` is the credential; a POST of a JSON
//! object answers 200 `{"attempt","id","request_id","status":"success"}` and starts the Zap with
//! the object's fields (a Zap maps top-level fields without code; nested arrays arrive as
//! awkward line items, so the dispatcher sends a flat object). An unknown hook is 404, a body
//! that is not a JSON object 400; `throttle(n, secs)` answers 429 with `Retry-After`, as
//! Zapier's webhook rate limits do.

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value, json};

use crate::server::{Received, Reply, Vendor};

pub const ACCOUNT: &str = "1234567";
pub const HOOK: &str = "3fkq9zx";

#[derive(Default)]
pub struct CatchHook {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    throttle: Vec<u32>,
    runs: Vec<Map<String, Value>>,
}

impl CatchHook {
    pub fn new() -> Self {
        Self::default()
    }

    /// The catch hook's URL on `base`.
    pub fn hook_url(base: &str) -> String {
        format!("{base}/hooks/catch/{ACCOUNT}/{HOOK}/")
    }

    pub fn throttle(&self, n: usize, secs: u32) {
        self.lock().throttle.extend(std::iter::repeat_n(secs, n));
    }

    /// The objects that started a Zap run, in order.
    pub fn runs(&self) -> Vec<Map<String, Value>> {
        self.lock().runs.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Vendor for CatchHook {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let path = request.path.split('?').next().unwrap_or_default();
        if request.method != "POST"
            || path.trim_end_matches('/') != format!("/hooks/catch/{ACCOUNT}/{HOOK}")
        {
            return Reply::json(404, json!({"status": "error", "message": "hook not found"}));
        }
        let mut state = self.lock();
        if !state.throttle.is_empty() {
            let secs = state.throttle.remove(0);
            return Reply::json(429, json!({"status": "error", "message": "rate limited"}))
                .with_header("retry-after", &secs.to_string());
        }
        let Some(Value::Object(fields)) = request.json() else {
            return Reply::json(
                400,
                json!({"status": "error", "message": "expected a JSON object"}),
            );
        };
        state.runs.push(fields);
        let n = state.runs.len();
        Reply::json(
            200,
            json!({"attempt": format!("attempt-{n}"), "id": format!("run-{n}"), "request_id": format!("req-{n}"), "status": "success"}),
        )
    }
}
