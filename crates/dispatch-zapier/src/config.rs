//! `[integrations.zapier]`: named destinations, each a catch hook URL
//! (`https://hooks.zapier.com/hooks/catch/<account>/<hook>/`: the whole URL is the credential),
//! and routing. An inline URL must be a catch hook URL.

use costwatch_dispatch::{Secret, WebhookConfig, WebhookDestination};
use serde::Deserialize;

pub type ZapierConfig = WebhookConfig<Destination>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub webhook_url: Secret,
}

impl WebhookDestination for Destination {
    const TABLE: &'static str = "zapier";

    fn webhook_url(&self) -> &Secret {
        &self.webhook_url
    }

    fn webhook_url_mut(&mut self) -> &mut Secret {
        &mut self.webhook_url
    }

    fn check_url(url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
        if parsed.scheme() != "https" {
            return Err("must be https".into());
        }
        if !parsed.path().starts_with("/hooks/catch/") {
            return Err("is not a catch hook URL (https://hooks.zapier.com/hooks/catch/…): copy it from the Zap's \"Catch Hook\" trigger".into());
        }
        Ok(())
    }
}
