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

/// A wait in seconds, at most a day (`1e20` must not panic the batch away).
fn seconds(s: f64) -> Option<Duration> {
    costwatch_dispatch::outcome::wait_seconds(s)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> VendorResponse {
        VendorResponse::new(status, headers, body)
    }

    #[test]
    fn a_429_waits_the_longest_of_body_and_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let r = response(
            429,
            &[
                ("Retry-After", "1"),
                ("X-RateLimit-Reset-After", "1.250"),
                ("X-RateLimit-Bucket", "abc"),
            ],
            r#"{"message": "You are being rate limited.", "retry_after": 0.75, "global": false}"#,
        );
        let Outcome::Retry { after, reason } = classify_at(&r, now) else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_millis(1250)));
        assert!(
            reason.contains("webhook bucket") && reason.contains("abc"),
            "{reason}"
        );
        let huge = response(
            429,
            &[("x-ratelimit-reset-after", "1e300")],
            r#"{"retry_after": 1e20}"#,
        );
        let Outcome::Retry { after, .. } = classify_at(&huge, now) else {
            panic!()
        };
        assert_eq!(after, Some(costwatch_dispatch::outcome::MAX_WAIT));
        let global = response(429, &[], r#"{"retry_after": 3.5, "global": true}"#);
        let Outcome::Retry { after, reason } = classify_at(&global, now) else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_millis(3500)));
        assert!(reason.contains("global"));
    }

    #[test]
    fn config_errors_fail_and_server_errors_retry() {
        let now = SystemTime::UNIX_EPOCH;
        for (status, body) in [
            (404, r#"{"code": 10015, "message": "Unknown Webhook"}"#),
            (
                401,
                r#"{"code": 50027, "message": "Invalid Webhook Token"}"#,
            ),
        ] {
            let Outcome::Fail(reason) = classify_at(&response(status, &[], body), now) else {
                panic!()
            };
            assert!(
                reason.contains("deleted or its token is wrong")
                    && reason.contains(&status.to_string()),
                "{reason}"
            );
        }
        let Outcome::Fail(reason) = classify_at(
            &response(
                400,
                &[],
                r#"{"code": 50035, "message": "Invalid Form Body"}"#,
            ),
            now,
        ) else {
            panic!()
        };
        assert!(reason.contains("50035"), "{reason}");
        assert!(matches!(
            classify_at(&response(502, &[], ""), now),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify_at(&response(200, &[], "{}"), now),
            Outcome::Delivered(_)
        ));
    }

    #[test]
    fn an_empty_bucket_says_how_long_to_pause() {
        let empty = response(
            200,
            &[
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset-After", "0.4"),
            ],
            "{}",
        );
        assert_eq!(bucket_pause(&empty), Some(Duration::from_millis(400)));
        let left = response(
            200,
            &[
                ("X-RateLimit-Remaining", "3"),
                ("X-RateLimit-Reset-After", "0.4"),
            ],
            "{}",
        );
        assert_eq!(bucket_pause(&left), None);
    }
}
