//! Discord through a channel webhook (execute webhook, `?wait=true` so Discord answers with the
//! message it created): embeds within Discord's limits, `allowed_mentions` that parses nothing,
//! a report's chart as a PNG attachment.
//!
//! [`config`] (destinations and routing, no I/O), [`encoder`] and [`message`] (pure render),
//! [`chart`] (the report's PNG), [`classifier`] (429 with `retry_after` / reset headers; an
//! empty bucket; 4xx configuration errors not retried).

pub mod chart;
pub mod classifier;
pub mod config;
pub mod encoder;
pub mod message;

use costwatch_core::NotificationBody;
use costwatch_dispatch::{
    Integration, Message, Method, Outcome, RateLimit, RenderContext, RenderError, Text,
    VendorRequest, VendorResponse,
};

pub use config::{Destination, DiscordConfig};
pub use encoder::limits;

pub struct Discord;

impl Integration for Discord {
    type Config = DiscordConfig;
    const NAME: &'static str = "discord";
    /// A channel takes about 30 webhook messages a minute (the bucket headers, 5 per 2 s, tell
    /// the short-term rest): one every 2 s per destination stays clear of both.
    const RATE_LIMIT: RateLimit = RateLimit {
        messages: 30,
        per: std::time::Duration::from_secs(60),
    };
    /// Discord's API hosts (webhook URLs are copied from any of them).
    const ALLOWED_HOSTS: &'static [&'static str] = &[
        "discord.com",
        "discordapp.com",
        "canary.discord.com",
        "ptb.discord.com",
    ];

    fn render(
        config: &DiscordConfig,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = costwatch_dispatch::destination(&config.destinations, destination)?;
        let mut url = url::Url::parse(d.webhook_url.expose()?).map_err(|_| {
            RenderError::Unsupported("the Discord webhook URL does not parse".into())
        })?;
        url.query_pairs_mut().append_pair("wait", "true");
        if let Some(thread) = &d.thread_id {
            url.query_pairs_mut().append_pair("thread_id", thread);
        }
        let mut payload = message::payload(message);
        if d.interactive
            && let Message::One(n) = message
            && let Some(row) = message::buttons(n)
        {
            payload["components"] = serde_json::json!([row]);
            url.query_pairs_mut().append_pair("with_components", "true");
        }
        let files = match message {
            Message::One(n) => match &n.body {
                NotificationBody::Report(f) => report_files(f, &n.currency),
                _ => Vec::new(),
            },
            Message::Digest(_) => Vec::new(),
        };
        Ok(vec![VendorRequest {
            step: "execute_webhook".into(),
            method: Method::Post,
            url: Text::secret(url.as_str()),
            headers: Vec::new(),
            body: message::body(payload, files),
            repeat: costwatch_dispatch::Repeat::InPlace,
        }])
    }

    fn classify(_request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(response)
    }
}

/// The report's chart: a PNG for the embed (Discord shows no SVG inline), then the labelled SVG
/// the other integrations attach, for the full picture.
fn report_files(
    report: &costwatch_core::notification::ReportFigures,
    currency: &str,
) -> Vec<message::File> {
    let mut files = Vec::new();
    if let Some(png) = chart::report_png(report) {
        files.push(("chart.png", "image/png", png));
    }
    if let Some(svg) = costwatch_dispatch::chart::report_svg(report, currency) {
        files.push(("chart.svg", "image/svg+xml", svg.into_bytes()));
    }
    files
}
