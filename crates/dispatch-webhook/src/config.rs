//! `[integrations.webhook]`: named destinations, each a receiver's URL (a [`Secret`]: receivers
//! often put a token in it), its signing secret(s) and the payload form; routing; hosts allowed
//! besides the public internet. Checked without I/O: unknown fields are errors, an inline URL
//! must be https to a public host (unless allowed), an inline secret a valid `whsec_` secret.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

use crate::signature;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the default rate (a receiver that takes more, tests).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts that may be loopback, private or link-local (an internal receiver, a local test
    /// server); every other destination must be a public host.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// `https://…`: the receiver's endpoint.
    pub url: Secret,
    /// The `whsec_…` secret the receiver verifies with. To rotate, store `"whsec_new whsec_old"`
    /// (or list both): every secret signs until the old one is removed.
    pub signing_secrets: Vec<Secret>,
    #[serde(default)]
    pub payload: Payload,
}

/// What the body holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    /// The notification envelope as is (`schemas/notification.v1.json`).
    #[default]
    Envelope,
    /// The envelope as one flat object of scalars ([`crate::flat`]).
    Flat,
}

impl IntegrationConfig for WebhookConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[webhook.destinations.{name}]");
            if d.url.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} url is empty")));
            }
            // An inline URL can be checked now (hosts and addresses are checked by the kit).
            if d.url.value().is_some()
                && let Ok(url) = d.url.expose()
                && !url::Url::parse(url).is_ok_and(|u| u.has_host())
            {
                return Err(ConfigError::Invalid(format!(
                    "{what} url is not an https:// URL"
                )));
            }
            if d.signing_secrets.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "{what} needs signing_secrets: a `whsec_` secret the receiver verifies with"
                )));
            }
            for secret in &d.signing_secrets {
                if secret.is_blank() {
                    return Err(ConfigError::Invalid(format!(
                        "{what} a signing secret is empty"
                    )));
                }
                // Inline values can be checked now; referenced ones when they are read.
                if secret.value().is_some()
                    && let Ok(value) = secret.expose()
                {
                    signature::keys_in(value)
                        .map_err(|why| ConfigError::Invalid(format!("{what} {why}")))?;
                }
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[webhook] rate_per_second must be at least 1".into(),
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
            .flat_map(|d| std::iter::once(&mut d.url).chain(d.signing_secrets.iter_mut()))
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}
