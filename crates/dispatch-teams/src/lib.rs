//! Microsoft Teams through a Workflows (Power Automate) webhook: the "When a Teams webhook
//! request is received" trigger posts an Adaptive Card 1.5 to a channel or chat. The retired
//! Office 365 connectors (`*.webhook.office.com`, MessageCard) are refused by config validation.
//!
//! [`config`] (destinations and routing, no I/O), [`encoder`] (pure render: a card for every
//! kind, ≤ 28 KB), [`classifier`] (202 delivered; 429 with Retry-After; 4xx configuration errors
//! not retried).

pub mod card;
pub mod classifier;
pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};

pub use config::{Destination, TeamsConfig};
pub use encoder::MAX_MESSAGE_BYTES;

pub struct Teams;

impl Integration for Teams {
    type Config = TeamsConfig;
    const NAME: &'static str = "teams";
    /// Power Automate throttles a flow's trigger well above this; one card a second per
    /// channel keeps a storm readable and away from the connector's per-minute limits.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(1);
    /// Workflows trigger URLs: Logic Apps regions and Power Platform environments.
    const ALLOWED_HOSTS: &'static [&'static str] =
        &["*.logic.azure.com", "*.environment.api.powerplatform.com"];

    fn render(
        config: &TeamsConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let url = costwatch_dispatch::Text::secret(d.webhook_url.expose()?);
        Ok(vec![encoder::request(url, &encoder::view_of(message))?])
    }

    fn classify(_request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(response)
    }
}
