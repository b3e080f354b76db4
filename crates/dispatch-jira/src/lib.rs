//! Jira Cloud through its REST API v3: one issue per anomaly, budget breach, forecast or
//! recommendation (the subject), created once and found again by the subject's label before
//! any create; a comment for each later state; the resolution runs the workflow transition
//! named in the config; the daily report is a comment on a tracking issue.
//!
//! [`config`] (site, credential, destinations, routing; no I/O), [`adf`] (Atlassian Document
//! Format nodes, user text in text nodes only), [`encoder`] (pure render of each exchange),
//! [`classifier`] (Jira's answers, its error collection and rate-limit headers).

pub mod adf;
pub mod classifier;
pub mod config;
pub mod encoder;

use costwatch_dispatch::{
    Delivered, Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse,
};
use serde_json::Value;

pub use config::{Destination, JiraConfig};
pub use encoder::{MAX_ADF_CHARS, subject_label};

pub struct Jira;

impl Integration for Jira {
    type Config = JiraConfig;
    const NAME: &'static str = "jira";
    /// Jira Cloud meters REST calls by cost per hour and caps writes to one issue at a few per
    /// second; two messages a second (each at most five requests) stay well inside both.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(2);
    /// Jira Cloud sites, and the OAuth 2.0 gateway (`api.atlassian.com/ex/jira/<cloud id>`).
    const ALLOWED_HOSTS: &'static [&'static str] = &["*.atlassian.net", "api.atlassian.com"];
    /// The create is retried only through the queue (a minute apart, so the search that starts
    /// the exchange again sees what a lost create made): each failed create spends a receive.
    const MAX_RECEIVES: u32 = 10;

    fn render(
        config: &JiraConfig,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        encoder::render(config, destination, message, context.memo.as_ref())
    }

    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        classifier::classify(request, response)
    }

    /// The key of the issue a subject's first delivery found or created (the create step's
    /// answer), so later states comment on it without searching.
    fn remember(
        _config: &JiraConfig,
        _destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value> {
        let Message::One(n) = message else {
            return None;
        };
        if let costwatch_core::NotificationBody::Report(_) = n.body {
            return None;
        }
        delivered
            .iter()
            .filter_map(|d| d.body.as_ref()?["key"].as_str())
            .find(|k| config::is_issue_ref(k))
            .map(encoder::memo)
    }
}
