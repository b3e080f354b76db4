//! Amplitude: every envelope as an event through the HTTP V2 API (`POST /2/httpapi`) with the
//! project's API key in the body, `insert_id` = the envelope id (Amplitude ignores an event whose
//! `insert_id` it saw in the past 7 days, so a retry never double-counts) and `time` = when
//! costwatch raised it; in the US or the EU data center.
//!
//! [`config`] (projects, region, routing, no I/O), [`encoder`] (pure render: at most 2,000
//! events and under 1 MB per request), [`classifier`] (200 delivered; a 400 that names some of
//! the events drops only those and sends the rest, see [`Amplitude::remainder`]; 429 waits 30
//! seconds, naming the throttled users; 413 and other 400s are dead-lettered).

pub mod classifier;
pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Delivered, Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};

pub use config::{AmplitudeConfig, Destination, Region};

pub struct Amplitude;

impl Integration for Amplitude {
    type Config = AmplitudeConfig;
    const NAME: &'static str = "amplitude";
    /// Amplitude asks Starter projects for at most 100 batches a second (and 30 events a second
    /// per user or device); 10 messages a second per project stays well inside both.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(10);
    /// The HTTP V2 hosts of the default and the EU data center.
    const ALLOWED_HOSTS: &'static [&'static str] = &["api2.amplitude.com", "api.eu.amplitude.com"];

    fn render(
        config: &AmplitudeConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let key = d.api_key.expose()?.trim();
        Ok(encoder::requests(d, key, message))
    }

    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(request, response)
    }

    fn remainder(request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest> {
        classifier::remainder(request, answer)
    }
}
