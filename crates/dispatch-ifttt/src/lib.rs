//! IFTTT through its Webhooks service (Maker): the URL from the service's documentation page
//! names the event and carries the key. `…/trigger/{event}/with/key/{key}` ("Receive a web
//! request") gets the three ingredients IFTTT passes on — `value1` the headline, `value2` the
//! message as plain text, `value3` the first link (or the envelope id); `…/trigger/{event}/json/
//! with/key/{key}` ("Receive a web request with a JSON payload") gets the flat, escaped fields
//! of [`costwatch_dispatch_webhook::tools`] for filter code. One event per envelope.
//!
//! 2xx is delivered; 429 and 5xx retried; 401 (a wrong key) re-reads the secret, then
//! dead-letters; 410 disables the destination.

pub mod config;

use costwatch_dispatch::view::View;
use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, Text, VendorRequest,
    VendorResponse,
};
use costwatch_dispatch_webhook::tools;
use serde_json::{Value, json};

pub use config::{Destination, IftttConfig, is_json_form};

pub struct Ifttt;

impl Integration for Ifttt {
    type Config = IftttConfig;
    const NAME: &'static str = "ifttt";
    /// IFTTT publishes no rate for the Webhooks service; one event a second per Applet keeps a
    /// storm from flooding a phone with notifications.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(1);
    const ALLOWED_HOSTS: &'static [&'static str] = &["maker.ifttt.com"];

    fn render(
        config: &IftttConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let url = d.webhook_url.expose()?;
        let json_form = is_json_form(url);
        message
            .envelopes()
            .iter()
            .map(|n| {
                let body = if json_form {
                    Value::Object(tools::fields(n)?)
                } else {
                    values(n)
                };
                Ok(VendorRequest::post_json("trigger", Text::secret(url), body))
            })
            .collect()
    }

    fn classify(_request: &VendorRequest, response: &VendorResponse) -> Outcome {
        costwatch_dispatch_webhook::classify(response)
    }
}

/// The three ingredients of the values form.
pub fn values(n: &costwatch_core::Notification) -> Value {
    let view = View::of(n);
    json!({
        "value1": tools::headline(&view),
        "value2": tools::text(&view),
        "value3": tools::first_link(&view).unwrap_or_else(|| n.id.clone()),
    })
}
