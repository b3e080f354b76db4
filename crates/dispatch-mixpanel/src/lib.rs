//! Mixpanel: every envelope as an event through `POST /import` (the server-side API), with a
//! service account of the project, `strict=1` so Mixpanel validates each event and names the ones
//! it refuses, a `$insert_id` derived from the envelope id and `time` = when costwatch raised it,
//! so a retried or redelivered batch is never counted twice; in the US, EU or India residency.
//!
//! [`config`] (projects, residency, routing, no I/O), [`encoder`] (pure render: the events of a
//! message in batches of at most 2,000 events and 10 MB), [`classifier`] (200 delivered; a 400 whose
//! `failed_records` name some of the events drops only those and sends again what was not
//! imported, see [`Mixpanel::remainder`]; 401/403 name the service account to fix; 429 retried).

pub mod classifier;
pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Delivered, Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};

pub use config::{Destination, MixpanelConfig, Region};

pub struct Mixpanel;

impl Integration for Mixpanel {
    type Config = MixpanelConfig;
    const NAME: &'static str = "mixpanel";
    /// Mixpanel's ingestion limit is per project and large (2 GB of JSON a minute, ~30,000 events
    /// a second); 20 messages a second per project keeps a backlog far below it.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(20);
    /// The ingestion hosts of the three residencies.
    const ALLOWED_HOSTS: &'static [&'static str] = &[
        "api.mixpanel.com",
        "api-eu.mixpanel.com",
        "api-in.mixpanel.com",
    ];

    fn render(
        config: &MixpanelConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let secret = d.secret.expose()?.trim();
        Ok(encoder::requests(d, secret, message))
    }

    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(request, response)
    }

    fn remainder(request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest> {
        classifier::remainder(request, answer)
    }
}
