//! Zapier through a "Catch Hook" trigger (Webhooks by Zapier): every envelope is POSTed as one
//! flat JSON object — nested fields joined by `__`, arrays numbered with stable keys, every
//! string escaped as plain text — plus `headline`, `text` and `link`, so a Zap maps the fields
//! into any app (a ticket, a chat message, a row) without a code step
//! ([`costwatch_dispatch_webhook::tools`]). The catch hook URL is the credential.
//!
//! 2xx is delivered; 429 and 5xx are retried (Zapier asks senders to retry any non-200 with
//! backoff); 404 (a deleted hook) and 410 re-read the secret, then dead-letter or disable the
//! destination.

pub mod config;

use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, Text, VendorRequest,
    VendorResponse,
};
use serde_json::Value;

pub use config::{Destination, ZapierConfig};

pub struct Zapier;

impl Integration for Zapier {
    type Config = ZapierConfig;
    const NAME: &'static str = "zapier";
    /// Zapier allows 10,000 webhook requests per 5 minutes per user (about 33 a second); ten a
    /// second per hook leaves room for the user's other Zaps.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(10);
    const ALLOWED_HOSTS: &'static [&'static str] = &["hooks.zapier.com"];

    fn render(
        config: &ZapierConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let url = d.webhook_url.expose()?;
        // One Zap run per envelope: a Zap maps one object's fields; a digest would hide them.
        message
            .envelopes()
            .iter()
            .map(|n| {
                let fields = costwatch_dispatch_webhook::tools::fields(n)?;
                Ok(VendorRequest::post_json(
                    "catch_hook",
                    Text::secret(url),
                    Value::Object(fields),
                ))
            })
            .collect()
    }

    fn classify(_request: &VendorRequest, response: &VendorResponse) -> Outcome {
        costwatch_dispatch_webhook::classify(response)
    }
}
