//! Custom webhooks signed per Standard Webhooks: every envelope is POSTed to the user's own
//! receiver as is (`schemas/notification.v1.json`) or flat, with `webhook-id` (the envelope id,
//! for deduplication), `webhook-timestamp` and `webhook-signature` (`v1,` HMAC-SHA256 with a
//! `whsec_` secret; one signature per secret during a rotation).
//!
//! Destinations are any public https host: loopback, private, link-local and metadata addresses
//! are refused unless the config names the host in `allow_hosts` — checked on IP-literal URLs
//! and after every DNS resolution by the kit's sender — and redirects are never followed. 2xx is
//! delivered, 429 and 5xx are retried, 410 disables the destination until it is re-enabled
//! ([`costwatch_dispatch::disabled`]), other answers dead-letter the message.
//!
//! [`config`] (no I/O), [`signature`], [`flat`], [`encoder`] (render: the one impure input is the
//! clock, for the attempt's timestamp).

pub mod config;
pub mod encoder;
pub mod flat;
pub mod signature;
pub mod tools;

use costwatch_dispatch::hosts::ANY_PUBLIC_HOST;
use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse, classify_http,
};

pub use config::{Destination, Payload, WebhookConfig};

pub struct Webhook;

impl Integration for Webhook {
    type Config = WebhookConfig;
    const NAME: &'static str = "webhook";
    /// A receiver is the user's own server; ten events a second per destination keeps a storm
    /// from overrunning a small one (`rate_per_second` raises it).
    const RATE_LIMIT: RateLimit = RateLimit::per_second(10);
    /// Any public host (never an internal address unless allowed: see the crate docs).
    const ALLOWED_HOSTS: &'static [&'static str] = &[ANY_PUBLIC_HOST];

    fn render(
        config: &WebhookConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        encoder::requests(d, message, encoder::now())
    }

    fn classify(_request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classify(response)
    }
}

/// The shared policy, and `410 Gone`: the receiver says this endpoint is gone for good.
pub fn classify(response: &VendorResponse) -> Outcome {
    if response.status == 410 {
        return Outcome::Gone(format!(
            "HTTP 410 Gone: the receiver says this endpoint no longer exists ({})",
            response.snippet()
        ));
    }
    classify_http(response)
}
