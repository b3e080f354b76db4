//! `[discord]` config: named destinations, each a channel webhook URL
//! (`https://discord.com/api/webhooks/{id}/{token}`: the token in the path is the credential),
//! optionally a thread to post in, and routing. Checked without I/O; unknown fields are errors.

use costwatch_dispatch::{ConfigError, Secret, WebhookConfig, WebhookDestination};
use serde::Deserialize;

pub type DiscordConfig = WebhookConfig<Destination>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub webhook_url: Secret,
    /// Post into this thread of the webhook's channel (`?thread_id=`), e.g. a forum post.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// Acknowledge / Snooze 24 h / Expected buttons on active anomaly embeds. Discord shows
    /// interactive buttons only on messages of an application-owned webhook, and the clicks go to
    /// the application's Interactions Endpoint URL (the stack's `ChatUrl` +
    /// `/discord/interactions`): docs/integrations/discord.md.
    #[serde(default)]
    pub interactive: bool,
}

impl WebhookDestination for Destination {
    const TABLE: &'static str = "discord";

    fn webhook_url(&self) -> &Secret {
        &self.webhook_url
    }

    fn webhook_url_mut(&mut self) -> &mut Secret {
        &mut self.webhook_url
    }

    fn check_url(url: &str) -> Result<(), String> {
        check_url(url)
    }

    fn check(&self, what: &str) -> Result<(), ConfigError> {
        match &self.thread_id {
            Some(t) if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) => Err(
                ConfigError::Invalid(format!("{what} thread_id must be a snowflake (digits)")),
            ),
            _ => Ok(()),
        }
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
