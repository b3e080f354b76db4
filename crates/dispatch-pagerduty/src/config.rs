//! `[integrations.pagerduty]`: named destinations, each the routing key (Integration Key) of an
//! Events API v2 integration on a PagerDuty service and, for accounts in the EU service region,
//! `events_url = "https://events.eu.pagerduty.com"`; routing rules that pick destinations per
//! service, team or kind; what an `ongoing` envelope does; `allow_hosts`. Checked without I/O:
//! unknown fields are errors, an inline routing key must look like one, and an events URL must be
//! a PagerDuty events origin (or one `allow_hosts` names).

use std::collections::BTreeMap;

use costwatch_dispatch::hosts;
use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

use crate::PagerDuty;
use costwatch_dispatch::Integration;

/// The US service region's events origin (PagerDuty's default).
pub const US_EVENTS: &str = "https://events.pagerduty.com";
/// The EU service region's.
pub const EU_EVENTS: &str = "https://events.eu.pagerduty.com";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// What an `ongoing` anomaly, budget or forecast sends (see [`Ongoing`]).
    #[serde(default)]
    pub ongoing: Ongoing,
    /// Overrides PagerDuty's documented 120 events a minute per integration key.
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Hosts allowed besides PagerDuty's (a proxy, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

/// One `[integrations.pagerduty.destinations.<name>]`: a PagerDuty service, by the key of its
/// Events API v2 integration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The 32-character Integration Key (`routing_key` in the Events API).
    pub routing_key: Secret,
    /// The service region's events origin: [`US_EVENTS`] (default) or [`EU_EVENTS`].
    #[serde(default)]
    pub events_url: Option<String>,
}

impl Destination {
    pub fn events_origin(&self) -> &str {
        self.events_url
            .as_deref()
            .unwrap_or(US_EVENTS)
            .trim_end_matches('/')
    }
}

/// What an `ongoing` envelope (the anomaly or breach is still there) sends for its alert.
/// PagerDuty's `acknowledge` means "someone is working on it" and stops the escalation, which a
/// cost that is still too high does not say; a repeated `trigger` would re-open an incident that
/// was resolved when SQS delivers it after the resolve. The default is a change event with the
/// current figures on the same service, which leaves the incident as the responders left it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ongoing {
    #[default]
    Change,
    /// `acknowledge` on the subject's `dedup_key`: for teams that treat a cost alert reported
    /// twice as taken in hand.
    Acknowledge,
}

/// Why `key` is not an Events API v2 routing key (never echoing it): PagerDuty refuses anything
/// but 32 letters and digits ("Length of 'routing_key' is incorrect").
pub fn check_routing_key(key: &str) -> Result<(), String> {
    let length = key.chars().count();
    if length != 32 {
        return Err(format!(
            "must be the 32-character Integration Key of an Events API v2 integration; this one has {length} characters (a REST API key has 20: it is not the one)"
        ));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            "must be the Integration Key of an Events API v2 integration: letters and digits only"
                .into(),
        );
    }
    Ok(())
}

/// Why `url` cannot be an events origin.
fn check_events_url(url: &str, allow_hosts: &[String]) -> Result<(), String> {
    hosts::check_url(PagerDuty::NAME, url, PagerDuty::ALLOWED_HOSTS, allow_hosts)?;
    let parsed = url::Url::parse(url).map_err(|_| "does not parse".to_owned())?;
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "must be the events origin only, such as {EU_EVENTS} (costwatch adds /v2/enqueue)"
        ));
    }
    Ok(())
}

impl IntegrationConfig for PagerDutyConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[pagerduty.destinations.{name}]");
            if d.routing_key.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} routing_key is empty")));
            }
            // Inline keys can be checked now; referenced ones when rendering.
            if let Some(Ok(inline)) = d.routing_key.value().map(|_| d.routing_key.expose()) {
                check_routing_key(inline)
                    .map_err(|why| ConfigError::Invalid(format!("{what} routing_key {why}")))?;
            }
            if let Some(url) = &d.events_url {
                check_events_url(url, &self.allow_hosts)
                    .map_err(|why| ConfigError::Invalid(format!("{what} events_url {why}")))?;
            }
        }
        if self.rate_per_minute == Some(0) {
            return Err(ConfigError::Invalid(
                "[pagerduty] rate_per_minute must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn destinations(&self) -> Vec<String> {
        self.destinations.keys().cloned().collect()
    }

    fn routing(&self) -> &Routing {
        &self.routing
    }

    fn secrets_mut(&mut self) -> Vec<&mut Secret> {
        self.destinations
            .values_mut()
            .map(|d| &mut d.routing_key)
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_minute.map(|messages| RateLimit {
            messages,
            per: std::time::Duration::from_secs(60),
        })
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_dispatch::load_config;
    use serde_json::json;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn load(table: serde_json::Value) -> Result<PagerDutyConfig, String> {
        load_config::<PagerDuty>(table).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_regions_and_options_are_checked_without_echoing_the_key() {
        let ok = load(json!({
            "destinations": {
                "us": {"routing_key": KEY},
                "eu": {"routing_key": KEY, "events_url": "https://events.eu.pagerduty.com/"},
                "sm": {"routing_key": {"secrets_manager": "costwatch/pagerduty/sm"}},
            },
            "ongoing": "acknowledge",
        }))
        .unwrap();
        assert_eq!(ok.destinations["eu"].events_origin(), EU_EVENTS);
        assert_eq!(ok.destinations["us"].events_origin(), US_EVENTS);
        assert_eq!(ok.ongoing, Ongoing::Acknowledge);

        let rest_key = "u+abcdefghijklmnopqr";
        let err = load(json!({"destinations": {"ops": {"routing_key": rest_key}}})).unwrap_err();
        assert!(
            err.contains("[pagerduty.destinations.ops] routing_key") && err.contains("20"),
            "{err}"
        );
        assert!(!err.contains(rest_key), "{err}");
        let err = load(
            json!({"destinations": {"ops": {"routing_key": "0123456789abcdef0123456789abcde!"}}}),
        )
        .unwrap_err();
        assert!(err.contains("letters and digits"), "{err}");

        for (url, why) in [
            ("https://events.pagerduty.com/v2/enqueue", "origin only"),
            ("http://events.pagerduty.com", "https"),
            (
                "https://events.pagerduty.com.evil.example",
                "not a pagerduty host",
            ),
        ] {
            let err =
                load(json!({"destinations": {"ops": {"routing_key": KEY, "events_url": url}}}))
                    .unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
        // A local test server named in allow_hosts may be plain http.
        load(json!({
            "destinations": {"ops": {"routing_key": KEY, "events_url": "http://127.0.0.1:9"}},
            "allow_hosts": ["127.0.0.1"],
        }))
        .unwrap();

        let err = load(json!({"destinations": {"ops": {"routing_key": KEY, "service_key": KEY}}}))
            .unwrap_err();
        assert!(err.contains("unknown field `service_key`"), "{err}");
        let err =
            load(json!({"destinations": {"ops": {"routing_key": KEY}}, "ongoing": "trigger"}))
                .unwrap_err();
        assert!(
            err.contains("ongoing") || err.contains("unknown variant"),
            "{err}"
        );
        let err =
            load(json!({"destinations": {"ops": {"routing_key": KEY}}, "rate_per_minute": 0}))
                .unwrap_err();
        assert!(err.contains("rate_per_minute"), "{err}");
    }
}
