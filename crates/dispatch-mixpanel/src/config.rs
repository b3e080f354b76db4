//! `[integrations.mixpanel]`: named destinations, each a Mixpanel project (its numeric id) with a
//! service account (username and secret) and the project's data residency, and routing. Checked
//! without I/O: unknown fields are errors, the project id is digits, the username is a service
//! account's (`<name>.<id>.mp-service-account`).

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixpanelConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the rate (tests, a large backlog).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides Mixpanel's (a proxy, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The project's id (Project Settings → Overview → Project ID), digits.
    pub project_id: String,
    /// The service account's username (Organization Settings → Service Accounts), e.g.
    /// `costwatch.7f3a9c.mp-service-account`; it needs the Owner or Admin role on the project.
    pub service_account: String,
    /// The service account's secret, shown once when the account is created.
    pub secret: Secret,
    /// Where the project's data lives: `US` (default), `EU` or `IN`.
    #[serde(default)]
    pub region: Region,
}

/// Mixpanel's data residencies, each with its own ingestion host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Region {
    #[default]
    #[serde(rename = "US", alias = "us")]
    Us,
    #[serde(rename = "EU", alias = "eu")]
    Eu,
    #[serde(rename = "IN", alias = "in")]
    In,
}

impl Region {
    /// `https://api.mixpanel.com`, `https://api-eu.mixpanel.com`, `https://api-in.mixpanel.com`.
    pub fn base(self) -> &'static str {
        match self {
            Region::Us => "https://api.mixpanel.com",
            Region::Eu => "https://api-eu.mixpanel.com",
            Region::In => "https://api-in.mixpanel.com",
        }
    }
}

impl IntegrationConfig for MixpanelConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[mixpanel.destinations.{name}]");
            if d.project_id.is_empty() || !d.project_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError::Invalid(format!(
                    "{what} project_id must be the project's numeric id (Project Settings → Overview)"
                )));
            }
            if !d.service_account.ends_with(".mp-service-account") {
                return Err(ConfigError::Invalid(format!(
                    "{what} service_account must be a service account's username (`<name>.<id>.mp-service-account`, Organization Settings → Service Accounts); a project token or API secret is not one"
                )));
            }
            if d.secret.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} secret is empty")));
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[mixpanel] rate_per_second must be at least 1".into(),
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
            .map(|d| &mut d.secret)
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}
