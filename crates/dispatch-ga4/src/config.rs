//! `[integrations.ga4]`: named destinations, each a GA4 data stream by its measurement id and a
//! Measurement Protocol API secret, the collection region and whether to validate first, and
//! routing. Checked without I/O: unknown fields are errors and the measurement id must be a
//! web stream's (`G-` and letters or digits).

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ga4Config {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the rate (tests).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides Google's (a proxy, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The web stream's measurement id (Admin → Data streams → the stream), `G-XXXXXXXXXX`;
    /// not the stream id.
    pub measurement_id: String,
    /// A Measurement Protocol API secret of that stream (Admin → Data streams → the stream →
    /// Measurement Protocol API secrets → Create).
    pub api_secret: Secret,
    /// `global` (default, `www.google-analytics.com`) or `EU` (`region1.google-analytics.com`:
    /// collected and processed in the EU).
    #[serde(default)]
    pub region: Region,
    /// Send every payload to the validation server first and dead-letter the message with its
    /// `validationMessages` instead of collecting it (one more request per message).
    #[serde(default)]
    pub validate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Region {
    #[default]
    #[serde(rename = "global", alias = "GLOBAL", alias = "US")]
    Global,
    #[serde(rename = "EU", alias = "eu")]
    Eu,
}

impl Region {
    pub fn base(self) -> &'static str {
        match self {
            Region::Global => "https://www.google-analytics.com",
            Region::Eu => "https://region1.google-analytics.com",
        }
    }
}

/// `G-` and letters or digits: a GA4 web stream's measurement id.
pub fn looks_like_measurement_id(id: &str) -> bool {
    id.strip_prefix("G-")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl IntegrationConfig for Ga4Config {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[ga4.destinations.{name}]");
            if !looks_like_measurement_id(&d.measurement_id) {
                return Err(ConfigError::Invalid(format!(
                    "{what} measurement_id must be a web stream's measurement id (`G-` and letters or digits, Admin → Data streams); the stream id is not one"
                )));
            }
            if d.api_secret.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} api_secret is empty")));
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[ga4] rate_per_second must be at least 1".into(),
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
            .map(|d| &mut d.api_secret)
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}
