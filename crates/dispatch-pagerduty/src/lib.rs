//! PagerDuty through the Events API v2: an alert per subject (an anomaly, a budget threshold in a
//! period, a month's forecast) that `open` triggers and `resolved` resolves on one `dedup_key`,
//! and change events for what should inform a service rather than page it (recommendations,
//! reports, tests, and by default an `ongoing` state). The routing key of each destination (the
//! Integration Key of an Events API v2 integration) travels in the JSON body, as a secret the
//! printable form shows `[REDACTED]`.
//!
//! [`config`] (destinations, EU region, routing; no I/O), [`encoder`] (pure render within
//! PagerDuty's limits) and the classifier here: 202 delivered; 429 and 5xx retried (the shared
//! policy; PagerDuty sends no `Retry-After`); 400 dead-lettered with PagerDuty's own error text.

pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Body, ConfigError, Integration, Message, Outcome, RateLimit, RenderContext, RenderError,
    VendorRequest, VendorResponse, classify_http,
};
use secrecy::ExposeSecret;
use serde_json::Value;

pub use config::{Destination, EU_EVENTS, Ongoing, PagerDutyConfig, US_EVENTS};
pub use encoder::{MAX_EVENT_BYTES, MAX_SUMMARY};

pub struct PagerDuty;

impl Integration for PagerDuty {
    type Config = PagerDutyConfig;
    const NAME: &'static str = "pagerduty";
    /// Events API v2: 120 events a minute per integration key; PagerDuty adjusts its throttle
    /// to the traffic and answers 429 above it.
    const RATE_LIMIT: RateLimit = RateLimit {
        messages: 120,
        per: std::time::Duration::from_secs(60),
    };
    /// The US and EU service regions' events hosts.
    const ALLOWED_HOSTS: &'static [&'static str] =
        &["events.pagerduty.com", "events.eu.pagerduty.com"];

    /// One request per envelope; a digest of an alert storm is one event per envelope as well
    /// (each subject keeps its own alert), a subject's revisions in order.
    fn render(
        config: &PagerDutyConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let key = d.routing_key.expose()?;
        // A referenced key is first seen here: say what is wrong before PagerDuty does.
        config::check_routing_key(key).map_err(|why| {
            ConfigError::Invalid(format!(
                "[pagerduty.destinations.{destination}] routing_key ({}) {why}",
                d.routing_key.describe()
            ))
        })?;
        let mut envelopes: Vec<_> = message.envelopes().iter().collect();
        envelopes.sort_by_key(|n| n.revision);
        Ok(envelopes
            .into_iter()
            .map(|n| encoder::request(n, config.ongoing, d.events_origin(), key))
            .collect())
    }

    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classify(request, response)
    }
}

/// 400 is an event PagerDuty refused: dead-lettered with its `status`, `message` and `errors`
/// (an unknown or malformed routing key is one of them). Everything else is the shared policy.
pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    if response.status != 400 {
        return classify_http(response);
    }
    let said = match response.json() {
        Some(body) => error_text(&body),
        None => response.snippet(),
    };
    if said.to_ascii_lowercase().contains("routing") {
        // The key may have been rotated: the dispatcher re-reads it once before the DLQ.
        return Outcome::CredentialRefused(scrub(
            request,
            &format!(
                "PagerDuty refused the event (HTTP 400): {said}; check the destination's routing_key: the Integration Key of an Events API v2 integration on the service"
            ),
        ));
    }
    Outcome::Fail(scrub(
        request,
        &format!("PagerDuty refused the event (HTTP 400): {said}"),
    ))
}

/// `invalid event: Event object is invalid (Length of 'routing_key' is incorrect …)`.
fn error_text(body: &Value) -> String {
    let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
    let errors: Vec<&str> = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut text = format!("{}: {}", field("status"), field("message"));
    if !errors.is_empty() {
        text.push_str(&format!(" ({})", errors.join("; ")));
    }
    text
}

/// The reason without the routing key, should PagerDuty ever quote it back.
fn scrub(request: &VendorRequest, reason: &str) -> String {
    let Body::SecretJson { secrets, .. } = &request.body else {
        return reason.to_owned();
    };
    secrets.iter().fold(reason.to_owned(), |text, (_, value)| {
        let value = value.expose_secret();
        if value.is_empty() {
            text
        } else {
            text.replace(value, costwatch_dispatch::request::REDACTED)
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use costwatch_core::samples::of_kind as sample;
    use serde_json::json;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn request() -> VendorRequest {
        encoder::request(&sample("anomaly"), Ongoing::Change, US_EVENTS, KEY)
    }

    #[test]
    fn accepted_throttled_failed_and_refused_events() {
        let r = request();
        let accepted = json!({"status": "success", "message": "Event processed", "dedup_key": "k"});
        let Outcome::Delivered(d) =
            classify(&r, &VendorResponse::new(202, &[], accepted.to_string()))
        else {
            panic!()
        };
        assert_eq!(d.body.unwrap()["dedup_key"], "k");
        assert!(matches!(
            classify(&r, &VendorResponse::new(429, &[], "")),
            Outcome::Retry { after: None, .. }
        ));
        let Outcome::Retry { after, .. } =
            classify(&r, &VendorResponse::new(503, &[("retry-after", "3")], ""))
        else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_secs(3)));

        let refused = json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": [format!("Invalid routing key {KEY}"), "'payload.severity' is invalid"],
        });
        let Outcome::CredentialRefused(reason) =
            classify(&r, &VendorResponse::new(400, &[], refused.to_string()))
        else {
            panic!()
        };
        assert!(
            reason.starts_with("PagerDuty refused the event (HTTP 400): invalid event: Event object is invalid (Invalid routing key [REDACTED]; 'payload.severity' is invalid)"),
            "{reason}"
        );
        assert!(
            reason.contains("check the destination's routing_key"),
            "{reason}"
        );
        assert!(!reason.contains(KEY), "{reason}");
        let Outcome::Fail(reason) = classify(&r, &VendorResponse::new(400, &[], "not json")) else {
            panic!()
        };
        assert!(reason.ends_with("not json"), "{reason}");
    }
}
