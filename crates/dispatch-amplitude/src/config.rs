//! `[integrations.amplitude]`: named destinations, each an Amplitude project by its API key and
//! data center, and routing. Checked without I/O: unknown fields are errors and an inline API
//! key must look like one (32 hexadecimal characters).

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmplitudeConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the rate (tests, a paid plan).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides Amplitude's (a proxy, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The project's API key (Organization settings → Projects → the project → General), not
    /// its secret key.
    pub api_key: Secret,
    /// `US` (default, `api2.amplitude.com`) or `EU` (`api.eu.amplitude.com`).
    #[serde(default)]
    pub region: Region,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Region {
    #[default]
    #[serde(rename = "US", alias = "us")]
    Us,
    #[serde(rename = "EU", alias = "eu")]
    Eu,
}

impl Region {
    pub fn base(self) -> &'static str {
        match self {
            Region::Us => "https://api2.amplitude.com",
            Region::Eu => "https://api.eu.amplitude.com",
        }
    }
}

/// Amplitude API keys are 32 hexadecimal characters.
pub fn looks_like_api_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

impl IntegrationConfig for AmplitudeConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[amplitude.destinations.{name}]");
            if d.api_key.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} api_key is empty")));
            }
            if let Ok(inline) = d.api_key.expose()
                && !looks_like_api_key(inline.trim())
            {
                return Err(ConfigError::Invalid(format!(
                    "{what} api_key is not an Amplitude API key (32 hexadecimal characters, from the project's General settings)"
                )));
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[amplitude] rate_per_second must be at least 1".into(),
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
