//! `[teams]` config: named destinations, each a Workflows webhook URL (the whole URL is the
//! credential: its `sig=` parameter authorises the post), and routing. Checked without I/O:
//! unknown fields are errors, and an inline URL must be a Workflows trigger URL, not one of the
//! retired Office 365 connector URLs (`*.webhook.office.com`), which no longer post.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the documented rate (tests, a flow with a higher plan).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// `https://….logic.azure.com/workflows/…/triggers/manual/paths/invoke?…&sig=…` or
    /// `https://….environment.api.powerplatform.com/…`.
    pub webhook_url: Secret,
}

impl IntegrationConfig for TeamsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            if d.webhook_url.is_blank() {
                return Err(ConfigError::Invalid(format!(
                    "[teams.destinations.{name}] webhook_url is empty"
                )));
            }
            // Inline URLs can be checked now; referenced ones hold what the operator stored.
            if let Some(Ok(url)) = d.webhook_url.value().map(|_| d.webhook_url.expose()) {
                check_url(url).map_err(|why| {
                    ConfigError::Invalid(format!("[teams.destinations.{name}] webhook_url {why}"))
                })?;
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[teams] rate_per_second must be at least 1".into(),
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
            .map(|d| &mut d.webhook_url)
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }
}

/// Why `url` cannot be a Workflows webhook (never echoing it: it is the credential).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
    let host = parsed.host_str().unwrap_or_default();
    if host.ends_with("webhook.office.com") || host == "outlook.office.com" {
        return Err("is an Office 365 connector URL; those connectors are retired: create a Workflows webhook (\"When a Teams webhook request is received\") and use its URL".into());
    }
    if parsed.scheme() != "https" {
        return Err("must be https".into());
    }
    Ok(())
}
