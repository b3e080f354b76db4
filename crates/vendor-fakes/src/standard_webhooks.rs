//! A receiver of Standard Webhooks (`specs/standard-webhooks/standard-webhooks.md`) as the spec
//! tells a consumer to verify: the three `webhook-*` headers must be there; the timestamp must
//! be within five minutes of now (replays are refused); one of the space-separated `v1,`
//! signatures must be HMAC-SHA256 of `{id}.{timestamp}.{body}` with the key of its `whsec_`
//! secret, compared in constant time; a `webhook-id` seen before is acknowledged and not
//! processed again. Refusals answer 401. Its operator can make it answer `410 Gone` (the endpoint
//! was removed) or 429 with `Retry-After` for the next requests. Verification is written here
//! independently of the dispatcher's signer, so the two check each other.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::server::{Received, Reply, Vendor};

/// The spec's suggested tolerance for `webhook-timestamp`.
pub const TOLERANCE_SECS: u64 = 5 * 60;

pub struct Receiver {
    key: Vec<u8>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    gone: bool,
    throttle: Vec<u32>,
    seen: Vec<String>,
    /// Bodies processed, once per webhook-id, in order.
    events: Vec<Value>,
    refused: Vec<String>,
}

impl Receiver {
    /// A receiver that verifies with `secret` (`whsec_…`).
    pub fn new(secret: &str) -> Self {
        let encoded = secret.strip_prefix("whsec_").expect("a whsec_ secret");
        Self {
            key: STANDARD.decode(encoded).expect("base64 after whsec_"),
            state: Mutex::default(),
        }
    }

    /// From now on every request gets `410 Gone`.
    pub fn remove_endpoint(&self) {
        self.lock().gone = true;
    }

    /// The next `n` requests get 429 with `Retry-After: secs`.
    pub fn throttle(&self, n: usize, secs: u32) {
        self.lock().throttle.extend(std::iter::repeat_n(secs, n));
    }

    /// The events processed (verified, first delivery of their id), in order.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.clone()
    }

    /// Why requests were refused, in order.
    pub fn refused(&self) -> Vec<String> {
        self.lock().refused.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why `request` does not verify at `now` (Unix seconds).
    pub fn verify(&self, request: &Received, now: u64) -> Result<(), String> {
        let header = |name: &str| {
            request
                .header(name)
                .ok_or_else(|| format!("missing {name}"))
        };
        let id = header("webhook-id")?;
        let timestamp = header("webhook-timestamp")?;
        let signatures = header("webhook-signature")?;
        let at: u64 = timestamp
            .parse()
            .map_err(|_| "webhook-timestamp is not Unix seconds".to_owned())?;
        if at.abs_diff(now) > TOLERANCE_SECS {
            return Err(format!("webhook-timestamp {at} is outside the tolerance"));
        }
        let mut signed = format!("{id}.{timestamp}.").into_bytes();
        signed.extend_from_slice(&request.body);
        let any = signatures.split(' ').any(|s| {
            let Some(encoded) = s.strip_prefix("v1,") else {
                return false;
            };
            let Ok(given) = STANDARD.decode(encoded) else {
                return false;
            };
            let mut mac =
                <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("any key length");
            mac.update(&signed);
            mac.verify_slice(&given).is_ok()
        });
        if any {
            Ok(())
        } else {
            Err("no signature verifies".into())
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Vendor for Receiver {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        if self.lock().gone {
            return Reply::json(410, json!({"error": "this endpoint was removed"}));
        }
        if let Some(secs) = {
            let mut state = self.lock();
            (!state.throttle.is_empty()).then(|| state.throttle.remove(0))
        } {
            return Reply::json(429, json!({"error": "slow down"}))
                .with_header("retry-after", &secs.to_string());
        }
        if let Err(why) = self.verify(request, unix_now()) {
            self.lock().refused.push(why.clone());
            return Reply::json(401, json!({"error": why}));
        }
        let Some(body) = request.json() else {
            return Reply::json(400, json!({"error": "the body is not JSON"}));
        };
        let id = request.header("webhook-id").unwrap_or_default().to_owned();
        let mut state = self.lock();
        if !state.seen.contains(&id) {
            state.seen.push(id);
            state.events.push(body);
        }
        Reply::json(200, json!({"ok": true}))
    }
}
