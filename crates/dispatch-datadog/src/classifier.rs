//! What Datadog's intake answers. Series and events are accepted with 202 (series:
//! `{"errors": []}`, events: the event created). 429 means the organisation's rate limit for the
//! endpoint is used up: `X-RateLimit-Reset` says in how many seconds it refills (Datadog sends
//! `X-RateLimit-Limit`, `-Period`, `-Remaining`, `-Reset` and `-Name`), `Retry-After` is honoured
//! too. 408 and 5xx are retried. 400 is a payload Datadog refuses, quoted from its `errors`; 403
//! an API key it does not know (a wrong or revoked key, or a key of another site's organisation);
//! 413 a payload over the size limit. None of those is retried.

use std::time::{Duration, SystemTime};

use costwatch_dispatch::outcome::{classify_http_at, retry_after, wait_seconds};
use costwatch_dispatch::{Outcome, VendorRequest, VendorResponse};

use crate::config::Site;

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    classify_at(request, response, SystemTime::now())
}

pub fn classify_at(request: &VendorRequest, response: &VendorResponse, now: SystemTime) -> Outcome {
    let status = response.status;
    match status {
        429 => Outcome::Retry {
            after: rate_limit_reset(response).or_else(|| retry_after(response, now)),
            reason: format!(
                "Datadog rate limit{} (HTTP 429{})",
                response
                    .header("x-ratelimit-name")
                    .map(|n| format!(" `{n}`"))
                    .unwrap_or_default(),
                errors(response)
            ),
        },
        400 => Outcome::Fail(format!(
            "Datadog refused the {} payload (HTTP 400{})",
            request.step,
            errors(response)
        )),
        401 | 403 => Outcome::Fail(format!(
            "Datadog refused the API key (HTTP {status}{}): set `api_key` to an API key (not an application key) of the organisation on {}, from Organization Settings → API Keys; keys of one site are refused by every other",
            errors(response),
            site_of(request)
        )),
        413 => Outcome::Fail(format!(
            "Datadog refused the {} payload as too large (HTTP 413{})",
            request.step,
            errors(response)
        )),
        _ => classify_http_at(response, now),
    }
}

/// `X-RateLimit-Reset`: seconds until the limit's period ends.
fn rate_limit_reset(response: &VendorResponse) -> Option<Duration> {
    let seconds = response
        .header("x-ratelimit-reset")?
        .trim()
        .parse::<f64>()
        .ok()?;
    wait_seconds(seconds)
}

/// `: first error; second error` from Datadog's `{"errors": [...]}`, or the body's start.
fn errors(response: &VendorResponse) -> String {
    let listed: Vec<String> = response
        .json()
        .and_then(|v| v.get("errors").and_then(|e| e.as_array().cloned()))
        .unwrap_or_default()
        .iter()
        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
        .collect();
    let text = if listed.is_empty() {
        response.snippet()
    } else {
        let joined = listed.join("; ");
        joined.chars().take(300).collect()
    };
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// `the EU1 site (api.datadoghq.eu)`, from the request's host.
fn site_of(request: &VendorRequest) -> String {
    let host = url::Url::parse(request.url.expose())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    match Site::of_host(&host) {
        Some(site) => format!("the {} site ({host})", site.name()),
        None => format!("`{host}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> VendorRequest {
        VendorRequest::post_json(
            "series",
            "https://api.datadoghq.eu/api/v2/series".into(),
            serde_json::json!({}),
        )
    }

    fn at(status: u16, headers: &[(&str, &str)], body: &str) -> Outcome {
        classify_at(
            &series(),
            &VendorResponse::new(status, headers, body),
            SystemTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn accepted_throttled_refused() {
        assert!(matches!(
            at(202, &[], r#"{"errors":[]}"#),
            Outcome::Delivered(_)
        ));
        let Outcome::Retry { after, reason } = at(
            429,
            &[
                ("X-RateLimit-Reset", "7"),
                ("X-RateLimit-Name", "metrics"),
                ("Retry-After", "99"),
            ],
            r#"{"errors":["Rate limit exceeded"]}"#,
        ) else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_secs(7)), "the reset header wins");
        assert!(
            reason.contains("metrics") && reason.contains("Rate limit exceeded"),
            "{reason}"
        );
        let Outcome::Retry { after, .. } = at(429, &[("Retry-After", "3")], "") else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_secs(3)));
        assert!(matches!(at(503, &[], ""), Outcome::Retry { .. }));
        assert!(matches!(at(408, &[], ""), Outcome::Retry { .. }));
        let Outcome::Fail(reason) = at(400, &[], r#"{"errors":["Invalid metric name"]}"#) else {
            panic!()
        };
        assert!(
            reason.contains("Invalid metric name") && reason.contains("series"),
            "{reason}"
        );
        let Outcome::Fail(reason) = at(403, &[], r#"{"errors":["Forbidden"]}"#) else {
            panic!()
        };
        assert!(
            reason.contains("api_key")
                && reason.contains("EU1")
                && reason.contains("api.datadoghq.eu"),
            "{reason}"
        );
        assert!(matches!(at(413, &[], ""), Outcome::Fail(_)));
    }
}
