//! The `[slack]` config table. Two modes, chosen per destination:
//! - `webhook_url` (an incoming webhook, which posts to the channel it was created for), or
//! - `channel` (a channel id) with the table's `bot_token`: chat.postMessage, so later states of
//!   an anomaly update its original message and reply in its thread, and reports carry their
//!   chart as an uploaded file.
//!
//! Credentials are [`Secret`]s: inline, or `{ secrets_manager = "…" }` / `{ ssm = "…" }`.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

pub const API_BASE: &str = "https://slack.com/api";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// A bot token (`xoxb-…`) with `chat:write` (and `files:write` for report charts).
    #[serde(default)]
    pub bot_token: Option<Secret>,
    /// The Web API base; only tests and proxies change it.
    #[serde(default = "api_base")]
    pub api_base: String,
    /// Upload the report chart as a file (bot destinations only).
    #[serde(default = "yes")]
    pub upload_report_chart: bool,
    /// Acknowledge / Snooze 24 h / Expected buttons on active anomaly messages. Needs the Slack
    /// app's Interactivity Request URL pointed at the stack's chat endpoint
    /// (`ChatUrl` output + `/slack/interactions`, docs/integrations/slack.md); off by default,
    /// since a button with nowhere to go shows the user an error.
    #[serde(default)]
    pub interactive: bool,
    /// Overrides Slack's 1 message per second per channel (a test against a fake).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides Slack's own (a proxy, GovSlack, a local test server).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    #[serde(default)]
    pub webhook_url: Option<Secret>,
    /// A channel id (`C0123ABCD`): the bot must be a member.
    #[serde(default)]
    pub channel: Option<String>,
}

fn api_base() -> String {
    API_BASE.to_owned()
}

fn yes() -> bool {
    true
}

impl IntegrationConfig for SlackConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        // The API base holds no credential, so its host may be named in the error.
        if let Err(why) = self.check_url(&self.api_base) {
            return invalid(format!("[slack] api_base: {why}"));
        }
        if self.bot_token.as_ref().is_some_and(Secret::is_blank) {
            return invalid("[slack] bot_token is empty".into());
        }
        for (name, d) in &self.destinations {
            match (&d.webhook_url, &d.channel) {
                (Some(_), Some(_)) => {
                    return invalid(format!(
                        "[slack.destinations.{name}] has both webhook_url and channel; pick one"
                    ));
                }
                (None, None) => {
                    return invalid(format!(
                        "[slack.destinations.{name}] needs webhook_url or channel"
                    ));
                }
                (Some(url), None) => {
                    if url.is_blank() {
                        return invalid(format!(
                            "[slack.destinations.{name}] webhook_url is empty"
                        ));
                    }
                    // Inline URLs can be checked now; referenced ones when resolved.
                    if let Some(Ok(u)) = url.value().map(|_| url.expose())
                        && let Err(why) = self.check_url(u)
                    {
                        return invalid(format!("[slack.destinations.{name}] webhook_url: {why}"));
                    }
                }
                (None, Some(channel)) => {
                    if self.bot_token.is_none() {
                        return invalid(format!(
                            "[slack.destinations.{name}] posts to a channel, which needs [slack] bot_token"
                        ));
                    }
                    if channel.trim().is_empty() || channel.contains(char::is_whitespace) {
                        return invalid(format!(
                            "[slack.destinations.{name}] channel `{channel}` is not a channel id"
                        ));
                    }
                }
            }
        }
        if self.rate_per_second == Some(0) {
            return invalid("[slack] rate_per_second must be at least 1".into());
        }
        Ok(())
    }

    fn destinations(&self) -> Vec<String> {
        self.destinations.keys().cloned().collect()
    }

    fn routing(&self) -> &Routing {
        &self.routing
    }

    fn secrets_mut(&mut self) -> Vec<&mut Secret> {
        let mut out: Vec<&mut Secret> = self.bot_token.iter_mut().collect();
        out.extend(
            self.destinations
                .values_mut()
                .filter_map(|d| d.webhook_url.as_mut()),
        );
        out
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}

impl SlackConfig {
    /// Slack's hosts or an allowed one, over https (see costwatch_dispatch::hosts).
    fn check_url(&self, url: &str) -> Result<(), String> {
        use costwatch_dispatch::Integration;
        costwatch_dispatch::hosts::check_url(
            "Slack",
            url,
            crate::Slack::ALLOWED_HOSTS,
            &self.allow_hosts,
        )
    }
}
