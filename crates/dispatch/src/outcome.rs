//! What a vendor's answer means. The shared policy ([`classify_http`]: 2xx delivered; 408, 425,
//! 429 and 5xx retried, honouring `Retry-After`; everything else failed for good) is data every
//! integration starts from; a vendor's classifier adds only its quirks (Slack's HTTP 200 with
//! `ok: false`, Discord's `X-RateLimit-Reset-After`).

use std::time::{Duration, SystemTime};

use serde_json::Value;

/// A vendor's HTTP response as the classifier sees it.
#[derive(Debug, Clone, Default)]
pub struct VendorResponse {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl VendorResponse {
    /// A response from its parts, header names lower-cased (for fakes and tests; the sender
    /// builds its own from the wire).
    pub fn new(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text, cut for error messages (vendor bodies never carry our secrets).
    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut s: String = text.chars().take(200).collect();
        if text.chars().count() > 200 {
            s.push('…');
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Delivered(Delivered),
    /// Worth trying again, not before `after` when the vendor said so.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Retrying cannot help (a payload the vendor refuses): to the DLQ.
    Fail(String),
    /// The vendor refused the credential. The shared policy says so for 401 and 403; a vendor
    /// with its own way (PagerDuty's 400 "Invalid routing key") says so in its classifier. The
    /// dispatcher re-reads the secrets once (they may have been rotated) before the DLQ.
    CredentialRefused(String),
    /// The destination is gone for good (a webhook receiver's `410 Gone`): the dispatcher
    /// disables it ([`crate::disabled`]) and dead-letters this and every later message to it,
    /// saying how to re-enable it. Only a classifier that knows its vendor means it says so.
    Gone(String),
}

/// A vendor accepted the request; `body` is its JSON answer (message ts, file id …) if any.
/// Serialized as a multi-step message's progress ([`crate::ledger::Progress`]).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Delivered {
    pub status: u16,
    #[serde(default)]
    pub body: Option<Value>,
}

/// The shared policy (see the module docs).
pub fn classify_http(response: &VendorResponse) -> Outcome {
    classify_http_at(response, SystemTime::now())
}

pub fn classify_http_at(response: &VendorResponse, now: SystemTime) -> Outcome {
    let status = response.status;
    match status {
        200..=299 => Outcome::Delivered(Delivered {
            status,
            body: response.json(),
        }),
        408 | 425 | 429 | 500..=599 => Outcome::Retry {
            after: retry_after(response, now),
            reason: format!("HTTP {status}: {}", response.snippet()),
        },
        401 | 403 => Outcome::CredentialRefused(format!("HTTP {status}: {}", response.snippet())),
        _ => Outcome::Fail(format!("HTTP {status}: {}", response.snippet())),
    }
}

/// The longest wait a vendor can ask for: a longer one (or an absurd one, like `1e20`) is taken
/// as a day. The message waits on the queue, not in the function (see [`crate::sqs`]).
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A vendor's wait in seconds (fractions allowed), clamped to [`MAX_WAIT`]; `None` when it is
/// not a number of seconds at all (negative, NaN).
pub fn wait_seconds(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    // Clamped before the conversion: `Duration::from_secs_f64` panics past u64::MAX seconds.
    Some(Duration::from_secs_f64(seconds.min(MAX_WAIT.as_secs_f64())))
}

/// `Retry-After` as delta-seconds (fractions allowed, as Discord sends them) or an HTTP-date,
/// at most [`MAX_WAIT`].
pub fn retry_after(response: &VendorResponse, now: SystemTime) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return wait_seconds(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default().min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> VendorResponse {
        VendorResponse::new(status, headers, br#"{"ok":true}"#.as_slice())
    }

    #[test]
    fn the_shared_policy_retries_throttling_and_server_errors_only() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(matches!(
            classify_http_at(&response(200, &[]), now),
            Outcome::Delivered(Delivered {
                status: 200,
                body: Some(_)
            })
        ));
        assert_eq!(
            classify_http_at(&response(429, &[("Retry-After", "30")]), now),
            Outcome::Retry {
                after: Some(Duration::from_secs(30)),
                reason: r#"HTTP 429: {"ok":true}"#.into()
            }
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        let Outcome::Retry { after, .. } =
            classify_http_at(&response(503, &[("retry-after", &date)]), now)
        else {
            panic!("503 is retried");
        };
        assert_eq!(after, Some(Duration::from_secs(90)));
        let Outcome::Retry { after, .. } =
            classify_http_at(&response(429, &[("retry-after", "0.25")]), now)
        else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_millis(250)));
        assert!(matches!(
            classify_http_at(&response(500, &[]), now),
            Outcome::Retry { after: None, .. }
        ));
        // Absurd waits are a day, never a panic; nonsense is no wait at all.
        for huge in ["1e20", "inf", "18446744073709551616", "99999999"] {
            let Outcome::Retry { after, .. } =
                classify_http_at(&response(429, &[("retry-after", huge)]), now)
            else {
                panic!()
            };
            assert_eq!(after, Some(MAX_WAIT), "{huge}");
        }
        let far = httpdate::fmt_http_date(now + Duration::from_secs(90 * 24 * 3600));
        let Outcome::Retry { after, .. } =
            classify_http_at(&response(503, &[("retry-after", &far)]), now)
        else {
            panic!()
        };
        assert_eq!(after, Some(MAX_WAIT));
        for nonsense in ["-5", "NaN", "soon"] {
            let Outcome::Retry { after, .. } =
                classify_http_at(&response(429, &[("retry-after", nonsense)]), now)
            else {
                panic!()
            };
            assert_eq!(after, None, "{nonsense}");
        }
        assert!(matches!(
            classify_http_at(&response(404, &[]), now),
            Outcome::Fail(_)
        ));
        assert!(matches!(
            classify_http_at(&response(400, &[]), now),
            Outcome::Fail(_)
        ));
    }
}
