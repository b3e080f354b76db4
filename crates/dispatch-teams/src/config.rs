//! `[teams]` config: named destinations, each a Workflows webhook URL (the whole URL is the
//! credential: its `sig=` parameter authorises the post), and routing. Checked without I/O:
//! unknown fields are errors, and an inline URL must be a Workflows trigger URL, not one of the
//! retired Office 365 connector URLs (`*.webhook.office.com`), which no longer post.

use costwatch_dispatch::{Secret, WebhookConfig, WebhookDestination};
use serde::Deserialize;

pub type TeamsConfig = WebhookConfig<Destination>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// `https://….logic.azure.com/workflows/…/triggers/manual/paths/invoke?…&sig=…` or
    /// `https://….environment.api.powerplatform.com/…`.
    pub webhook_url: Secret,
}

impl WebhookDestination for Destination {
    const TABLE: &'static str = "teams";

    fn webhook_url(&self) -> &Secret {
        &self.webhook_url
    }

    fn webhook_url_mut(&mut self) -> &mut Secret {
        &mut self.webhook_url
    }

    fn check_url(url: &str) -> Result<(), String> {
        check_url(url)
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
