//! `[discord]` config: named destinations, each a channel webhook URL
//! (`https://discord.com/api/webhooks/{id}/{token}`: the token in the path is the credential),
//! optionally a thread to post in, and routing. Checked without I/O; unknown fields are errors.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the documented rate (tests).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub webhook_url: Secret,
    /// Post into this thread of the webhook's channel (`?thread_id=`), e.g. a forum post.
    #[serde(default)]
    pub thread_id: Option<String>,
}

impl IntegrationConfig for DiscordConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in &self.destinations {
            let what = format!("[discord.destinations.{name}]");
            if d.webhook_url.is_blank() {
                return Err(ConfigError::Invalid(format!("{what} webhook_url is empty")));
            }
            if let Some(Ok(url)) = d.webhook_url.value().map(|_| d.webhook_url.expose()) {
                check_url(url)
                    .map_err(|why| ConfigError::Invalid(format!("{what} webhook_url {why}")))?;
            }
            if let Some(t) = &d.thread_id
                && (t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(ConfigError::Invalid(format!(
                    "{what} thread_id must be a snowflake (digits)"
                )));
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[discord] rate_per_second must be at least 1".into(),
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

/// Why `url` is not an execute-webhook URL (never echoing it: the token is in the path).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
    if parsed.scheme() != "https" {
        return Err("must be https".into());
    }
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let tail = match segments.as_slice() {
        ["api", "webhooks", id, token] | ["api", _, "webhooks", id, token] => (id, token),
        _ => return Err("must look like https://discord.com/api/webhooks/{id}/{token}".into()),
    };
    if !tail.0.bytes().all(|b| b.is_ascii_digit()) || tail.1.is_empty() {
        return Err("must look like https://discord.com/api/webhooks/{id}/{token}".into());
    }
    Ok(())
}
