//! Google Analytics 4: every envelope as an event through the Measurement Protocol
//! (`POST /mp/collect?measurement_id=…&api_secret=…`), one client per scope, names and values
//! within GA4's limits; with `validate = true`, every payload is first sent to the validation
//! server (`/debug/mp/collect`) and the message is dead-lettered with its `validationMessages`
//! instead of being collected — because `/mp/collect` itself answers 2xx to everything, valid
//! or not, and drops what it does not like without a word.
//!
//! [`config`] (streams, region, validate, routing, no I/O), [`encoder`] (pure render: one
//! request per scope and 25 events, the validation requests first), [`classifier`] (the
//! validation server's `validationMessages`).

pub mod classifier;
pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};

pub use config::{Destination, Ga4Config, Region};

pub struct Ga4;

impl Integration for Ga4 {
    type Config = Ga4Config;
    const NAME: &'static str = "ga4";
    /// Google publishes no request rate for the Measurement Protocol (its limits are per event
    /// and per property a day); 10 messages a second per stream is far below anything it throttles.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(10);
    /// The collection hosts: global and the EU-only one.
    const ALLOWED_HOSTS: &'static [&'static str] =
        &["www.google-analytics.com", "region1.google-analytics.com"];

    fn render(
        config: &Ga4Config,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let secret = d.api_secret.expose()?.trim();
        Ok(encoder::requests(d, secret, message))
    }

    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(request, response)
    }
}
