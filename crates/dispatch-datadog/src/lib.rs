//! Datadog: costs, forecasts, budgets, anomalies and savings as gauges through
//! `POST /api/v2/series` (names under `costwatch.`, see [`series::NAMES`]), and anomalies,
//! budget breaches and test notifications as events through `POST /api/v1/events`, grouped per
//! subject by `aggregation_key`; on any Datadog site, with the API key as a secret header.
//!
//! [`config`] (destinations, sites and routing, no I/O), [`series`] and [`encoder`] (pure
//! render: gauges in payloads within 500 KB, the event last), [`tags`] (Datadog's tag rules for
//! user values), [`classifier`] (202 delivered; 429 after `X-RateLimit-Reset`; 400 with
//! Datadog's errors; 403 names the key and site to fix).

pub mod classifier;
pub mod config;
pub mod encoder;
pub mod series;
pub mod tags;

use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};

pub use config::{DatadogConfig, Destination, Site, Timestamp};

pub struct Datadog;

impl Integration for Datadog {
    type Config = DatadogConfig;
    const NAME: &'static str = "datadog";
    /// Datadog publishes no fixed intake rate (it answers 429 with `X-RateLimit-*` headers when
    /// an organisation exceeds its limit): 10 messages a second per destination is far below it
    /// and keeps a backlog's series and events flowing steadily.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(10);
    /// The API hosts of every Datadog site (US1, US3, US5, EU1, AP1, AP2, US1-FED).
    const ALLOWED_HOSTS: &'static [&'static str] = &[
        "api.datadoghq.com",
        "api.us3.datadoghq.com",
        "api.us5.datadoghq.com",
        "api.datadoghq.eu",
        "api.ap1.datadoghq.com",
        "api.ap2.datadoghq.com",
        "api.ddog-gov.com",
    ];

    fn render(
        config: &DatadogConfig,
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
}
