//! The config table of an integration whose destinations are webhook URLs (Teams, Discord):
//! named destinations, routing, an optional rate override. The URL is the credential, so it is
//! a [`Secret`] and is never echoed in an error. Each integration says what its destination
//! holds and which URLs it accepts ([`WebhookDestination`]); validation, the destination list,
//! the secrets and the rate override are the same for all of them.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "D: WebhookDestination")]
pub struct WebhookConfig<D> {
    pub destinations: BTreeMap<String, D>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the documented rate (tests, a higher plan).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides the vendor's (a proxy, a sovereign cloud, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

/// One `[<table>.destinations.<name>]` entry.
pub trait WebhookDestination: DeserializeOwned + Debug + Send + Sync + 'static {
    /// The config table, for error messages (`teams`).
    const TABLE: &'static str;

    fn webhook_url(&self) -> &Secret;
    fn webhook_url_mut(&mut self) -> &mut Secret;

    /// Why an inline `url` cannot be this vendor's webhook, without echoing it.
    fn check_url(url: &str) -> Result<(), String>;

    /// Further checks of the entry; `what` names it (`[discord.destinations.ops]`).
    fn check(&self, what: &str) -> Result<(), ConfigError> {
        let _ = what;
        Ok(())
    }
}

impl<D: WebhookDestination> IntegrationConfig for WebhookConfig<D> {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[{}.destinations.{name}]", D::TABLE);
            let url = d.webhook_url();
            if url.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} webhook_url is empty")));
            }
            // Inline URLs can be checked now; referenced ones hold what the operator stored.
            if let Some(Ok(inline)) = url.value().map(|_| url.expose()) {
                D::check_url(inline)
                    .map_err(|why| ConfigError::Invalid(format!("{what} webhook_url {why}")))?;
            }
            d.check(&what)?;
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(format!(
                "[{}] rate_per_second must be at least 1",
                D::TABLE
            )));
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
            .map(D::webhook_url_mut)
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}
