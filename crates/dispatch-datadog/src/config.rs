//! `[integrations.datadog]`: named destinations, each a Datadog organisation on one site with its
//! API key, and routing. Checked without I/O: unknown fields are errors, an inline API key must
//! look like one (32 hexadecimal characters) and extra tags must already be valid Datadog tags.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

use crate::tags;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatadogConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the rate below (tests, a large account).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides Datadog's API hosts (a proxy, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// An API key of the organisation (Organization Settings → API Keys), not an application key.
    pub api_key: Secret,
    /// Where the organisation lives: `US1` (default), `US3`, `US5`, `EU1`, `AP1`, `AP2`,
    /// `US1-FED`, or the site's domain (`datadoghq.eu`).
    #[serde(default)]
    pub site: Site,
    /// Extra tags on every metric and event (`env:prod`, `team:finops`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Which time a metric point carries (see [`Timestamp`]).
    #[serde(default)]
    pub timestamp: Timestamp,
    /// Whether anomalies and budget breaches are also posted as events (default: yes).
    #[serde(default = "yes")]
    pub events: bool,
}

fn yes() -> bool {
    true
}

/// The Datadog site an organisation is on; each has its own API host and its own API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Site {
    #[default]
    #[serde(rename = "US1", alias = "us1", alias = "datadoghq.com")]
    Us1,
    #[serde(rename = "US3", alias = "us3", alias = "us3.datadoghq.com")]
    Us3,
    #[serde(rename = "US5", alias = "us5", alias = "us5.datadoghq.com")]
    Us5,
    #[serde(rename = "EU1", alias = "eu1", alias = "EU", alias = "datadoghq.eu")]
    Eu1,
    #[serde(rename = "AP1", alias = "ap1", alias = "ap1.datadoghq.com")]
    Ap1,
    #[serde(rename = "AP2", alias = "ap2", alias = "ap2.datadoghq.com")]
    Ap2,
    #[serde(rename = "US1-FED", alias = "us1-fed", alias = "ddog-gov.com")]
    Us1Fed,
}

impl Site {
    pub const ALL: [Site; 7] = [
        Site::Us1,
        Site::Us3,
        Site::Us5,
        Site::Eu1,
        Site::Ap1,
        Site::Ap2,
        Site::Us1Fed,
    ];

    /// The site's domain (`datadoghq.eu`).
    pub fn domain(self) -> &'static str {
        match self {
            Site::Us1 => "datadoghq.com",
            Site::Us3 => "us3.datadoghq.com",
            Site::Us5 => "us5.datadoghq.com",
            Site::Eu1 => "datadoghq.eu",
            Site::Ap1 => "ap1.datadoghq.com",
            Site::Ap2 => "ap2.datadoghq.com",
            Site::Us1Fed => "ddog-gov.com",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Site::Us1 => "US1",
            Site::Us3 => "US3",
            Site::Us5 => "US5",
            Site::Eu1 => "EU1",
            Site::Ap1 => "AP1",
            Site::Ap2 => "AP2",
            Site::Us1Fed => "US1-FED",
        }
    }

    /// `https://api.<site>`: where the metrics and events APIs are.
    pub fn api_base(self) -> String {
        format!("https://api.{}", self.domain())
    }

    /// The site whose API host is `host`, if any.
    pub fn of_host(host: &str) -> Option<Site> {
        Site::ALL
            .into_iter()
            .find(|s| host.eq_ignore_ascii_case(&format!("api.{}", s.domain())))
    }
}

/// The time of a metric point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timestamp {
    /// Midnight UTC of the day the figure is about (the cost day, the forecast's or budget's
    /// `as_of`), so a day's cost lands on that day in graphs. Datadog keeps points older than an
    /// hour only for metrics with historical metrics ingestion enabled (see the docs page).
    #[default]
    CostDay,
    /// When costwatch created the envelope: the point lands at notification time instead.
    CreatedAt,
}

/// Datadog API keys are 32 hexadecimal characters.
pub fn looks_like_api_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

impl IntegrationConfig for DatadogConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[datadog.destinations.{name}]");
            if d.api_key.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} api_key is empty")));
            }
            // Inline keys can be checked now; referenced ones hold what the operator stored.
            if let Ok(inline) = d.api_key.expose()
                && !looks_like_api_key(inline.trim())
            {
                return Err(ConfigError::Invalid(format!(
                    "{what} api_key is not a Datadog API key (32 hexadecimal characters, from Organization Settings → API Keys; an application key is not one)"
                )));
            }
            for tag in &d.tags {
                if tags::normalize(tag).as_deref() != Some(tag.as_str()) {
                    return Err(ConfigError::Invalid(format!(
                        "{what} tag `{tag}` is not a Datadog tag as written: lowercase, starting with a letter, letters, digits and `_-:./` only, at most 200 characters (`{}` would be)",
                        tags::normalize(tag).unwrap_or_default()
                    )));
                }
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[datadog] rate_per_second must be at least 1".into(),
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
            .map(|d| &mut d.api_key)
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_has_its_api_host() {
        assert_eq!(Site::default().api_base(), "https://api.datadoghq.com");
        assert_eq!(Site::Eu1.api_base(), "https://api.datadoghq.eu");
        assert_eq!(Site::Us1Fed.api_base(), "https://api.ddog-gov.com");
        for site in Site::ALL {
            let by_name: Site = serde_json::from_value(site.name().into()).unwrap();
            let by_domain: Site = serde_json::from_value(site.domain().into()).unwrap();
            assert_eq!((by_name, by_domain), (site, site));
            assert_eq!(Site::of_host(&format!("api.{}", site.domain())), Some(site));
        }
        assert!(serde_json::from_value::<Site>("EU2".into()).is_err());
    }

    #[test]
    fn api_keys_are_32_hex_characters() {
        assert!(looks_like_api_key("0123456789abcdef0123456789ABCDEF"));
        assert!(!looks_like_api_key("0123456789abcdef0123456789abcde"));
        assert!(!looks_like_api_key("pubd0123456789abcdef0123456789ab"));
    }
}
