//! The Slack integration: [`config`] (the `[slack]` table), [`blocks`] (Block Kit from the
//! shared `View`), [`encoder`] (pure render), [`classifier`] (Slack's answers); `main.rs` is the
//! Lambda.

pub mod blocks;
pub mod classifier;
pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Delivered, Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};
use serde_json::Value;

pub use config::SlackConfig;

pub struct Slack;

impl Integration for Slack {
    type Config = SlackConfig;
    const NAME: &'static str = "slack";
    /// "1 message per second per channel, short bursts allowed" (chat.postMessage, webhooks).
    const RATE_LIMIT: RateLimit = RateLimit::per_second(1);
    /// Incoming webhooks, the Web API, and the upload URLs files.getUploadURLExternal hands out.
    const ALLOWED_HOSTS: &'static [&'static str] =
        &["hooks.slack.com", "slack.com", "files.slack.com"];

    fn render(
        config: &SlackConfig,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        encoder::render(config, destination, message, context)
    }

    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(request, response)
    }

    /// After a bot's first post of a subject: its channel and `ts`, for updates and threads.
    fn remember(
        config: &SlackConfig,
        destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value> {
        let dest = config.destinations.get(destination)?;
        dest.channel.as_ref()?;
        let Message::One(_) = message else {
            return None;
        };
        let first = delivered.first()?.body.as_ref()?;
        Some(encoder::memo(
            first["channel"].as_str()?,
            first["ts"].as_str()?,
        ))
    }
}
