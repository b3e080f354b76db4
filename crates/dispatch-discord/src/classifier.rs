//! Discord's answers. On top of the shared policy: a 429 says how long to wait in its body
//! (`retry_after`, seconds with fractions) and in `X-RateLimit-Reset-After` / `Retry-After`;
//! the longest of them is honoured. A success with `X-RateLimit-Remaining: 0` means the
//! webhook's bucket is empty: the next message to it must wait `X-RateLimit-Reset-After`.
//! 401/403/404 (an invalid token, a deleted webhook: codes 50027, 10015) and 400 (a form Discord
//! refuses, 50035) are not retried.

use std::time::{Duration, SystemTime};

use costwatch_dispatch::outcome::{classify_http_at, retry_after};
use costwatch_dispatch::{Outcome, VendorResponse};

pub fn classify(response: &VendorResponse) -> Outcome {
    classify_at(response, SystemTime::now())
}

pub fn classify_at(response: &VendorResponse, now: SystemTime) -> Outcome {
    match response.status {
        429 => {
            let body = response.json();
            let from_body = body
                .as_ref()
                .and_then(|b| b.get("retry_after"))
                .and_then(serde_json::Value::as_f64)
                .and_then(seconds);
            let global = body
                .as_ref()
                .and_then(|b| b.get("global"))
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            let after = [from_body, reset_after(response), retry_after(response, now)]
                .into_iter()
                .flatten()
                .max();
            Outcome::Retry {
                after,
                reason: format!(
                    "Discord rate limit ({}){}",
                    if global { "global" } else { "webhook bucket" },
                    response
                        .header("x-ratelimit-bucket")
                        .map(|b| format!(", bucket {b}"))
                        .unwrap_or_default()
                ),
            }
        }
        401 | 403 | 404 => Outcome::Fail(format!(
            "Discord refused the webhook (HTTP {}: {}): it was deleted or its token is wrong; create a new one and update the secret",
            response.status,
            error_text(response)
        )),
        400 => Outcome::Fail(format!(
            "Discord refused the message (HTTP 400: {})",
            error_text(response)
        )),
        _ => classify_http_at(response, now),
    }
}

/// How long the webhook's bucket stays empty after a response, when it is empty.
pub fn bucket_pause(response: &VendorResponse) -> Option<Duration> {
    let remaining = response
        .header("x-ratelimit-remaining")?
        .trim()
        .parse::<f64>()
        .ok()?;
    (remaining <= 0.0).then(|| reset_after(response)).flatten()
}

fn reset_after(response: &VendorResponse) -> Option<Duration> {
    response
        .header("x-ratelimit-reset-after")?
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(seconds)
}

fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s))
}

/// Discord's error JSON `{"code": 10015, "message": "Unknown Webhook"}` as text.
fn error_text(response: &VendorResponse) -> String {
    match response.json() {
        Some(v) => format!(
            "{} {}",
            v.get("code").map(ToString::to_string).unwrap_or_default(),
            v.get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        )
        .trim()
        .to_owned(),
        None => response.snippet(),
    }
}
