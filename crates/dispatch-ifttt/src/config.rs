//! `[integrations.ifttt]`: named destinations, each the Webhooks service URL of one event
//! (`https://maker.ifttt.com/trigger/<event>/with/key/<key>`, or `…/trigger/<event>/json/with/
//! key/<key>` for the JSON payload trigger): the key in it is the credential. An inline URL must
//! have that shape.

use costwatch_dispatch::{Secret, WebhookConfig, WebhookDestination};
use serde::Deserialize;

pub type IftttConfig = WebhookConfig<Destination>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub webhook_url: Secret,
}

impl WebhookDestination for Destination {
    const TABLE: &'static str = "ifttt";

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
        let segments: Vec<&str> = parsed.path().trim_matches('/').split('/').collect();
        let shaped = matches!(
            segments.as_slice(),
            ["trigger", event, "with", "key", key] | ["trigger", event, "json", "with", "key", key]
                if !event.is_empty() && !key.is_empty()
        );
        if shaped {
            Ok(())
        } else {
            Err("is not a Webhooks trigger URL (https://maker.ifttt.com/trigger/<event>/with/key/<key> or …/trigger/<event>/json/with/key/<key>): copy it from the Webhooks service's Documentation page".into())
        }
    }
}

/// Whether `url` is the JSON payload form (`/trigger/<event>/json/with/key/<key>`).
pub fn is_json_form(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        let segments: Vec<&str> = u.path().trim_matches('/').split('/').collect();
        segments.get(2) == Some(&"json")
    })
}
