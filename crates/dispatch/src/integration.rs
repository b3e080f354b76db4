//! The contract every integration implements. An integration crate (dispatch-slack, -teams,
//! -discord …) provides a config type and three pure functions: `render` (envelope → vendor
//! requests), `classify` (vendor response → outcome) and, optionally, `remember` (what to keep
//! from a delivery so later states of the same subject can update or thread onto it). The
//! framework does everything else: routing, ledger, digests, rate limits, retries, secrets,
//! metrics.

use std::fmt::Debug;
use std::time::Duration;

use costwatch_core::Notification;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ConfigError, RenderError};
use crate::outcome::{Delivered, Outcome, VendorResponse, classify_http};
use crate::request::VendorRequest;
use crate::routing::Routing;
use crate::secret::Secret;

/// What one rendered message carries: one envelope, or a digest of an alert storm (several
/// envelopes for the same destination in one batch) rendered as one message.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    One(&'a Notification),
    /// At least two envelopes, most severe first.
    Digest(&'a [Notification]),
}

impl<'a> Message<'a> {
    pub fn envelopes(&self) -> &'a [Notification] {
        match self {
            Self::One(n) => std::slice::from_ref(*n),
            Self::Digest(all) => all,
        }
    }
}

/// What the framework knows when rendering, besides the envelope.
#[derive(Debug, Clone, Default)]
pub struct RenderContext {
    /// What [`Integration::remember`] returned for an earlier delivery of the same subject to the
    /// same destination (Slack: the channel and `ts` of the original message), if any.
    pub memo: Option<Value>,
    /// The lake objects [`Integration::objects`] named for this message, by key, read by the
    /// framework before rendering (an archive integration copies the report's files).
    pub objects: std::collections::BTreeMap<String, Vec<u8>>,
}

/// The per-destination send rate a vendor allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Messages (a digest is one) per `per`.
    pub messages: u32,
    pub per: Duration,
}

impl RateLimit {
    pub const fn per_second(messages: u32) -> Self {
        Self {
            messages,
            per: Duration::from_secs(1),
        }
    }
}

/// An integration's config: one table of `examples/contract.toml` (`[slack]`, `[teams]` …),
/// deserialized with `deny_unknown_fields` and checked by [`validate`](Self::validate) without
/// I/O. Destinations are named (`[slack.destinations.finops]`); routing rules pick them by name.
pub trait IntegrationConfig: DeserializeOwned + Debug + Send + Sync + 'static {
    /// Everything that can be known wrong before the first send; the framework also checks that
    /// routing names only configured destinations.
    fn validate(&self) -> Result<(), ConfigError>;
    fn destinations(&self) -> Vec<String>;
    fn routing(&self) -> &Routing;
    /// Every credential, for the framework to resolve once at cold start.
    fn secrets_mut(&mut self) -> Vec<&mut Secret>;
    /// Overrides the vendor's rate for every destination (`rate_per_second` in tests, a paid tier).
    fn rate_limit_override(&self) -> Option<RateLimit> {
        None
    }
    /// Hosts this config may send to besides the vendor's own (`allow_hosts`: a proxy, GovCloud,
    /// a local test server); see [`crate::hosts`].
    fn allow_hosts(&self) -> &[String] {
        &[]
    }
}

pub trait Integration: Send + Sync + 'static {
    type Config: IntegrationConfig;

    /// The name in the CLI (`--integration slack`), the config table, metrics and the ledger.
    const NAME: &'static str;

    /// The vendor's documented per-destination rate.
    const RATE_LIMIT: RateLimit;

    /// The vendor's hosts (`hooks.slack.com`, `*.logic.azure.com`): every request goes to one of
    /// these or to one the config allows (see [`crate::hosts`]).
    const ALLOWED_HOSTS: &'static [&'static str];

    /// Receives before the queue dead-letters a message (templates/dispatcher.yaml's
    /// `MaxReceiveCount`, the Lambda's `COSTWATCH_MAX_RECEIVES`). An integration whose steps
    /// repeat only through the queue ([`crate::Repeat::ViaQueue`]) spends a receive on every
    /// failed attempt of them and needs more.
    const MAX_RECEIVES: u32 = 5;

    /// Whether [`Integration::objects`] names lake objects (an archive of the report files). Only
    /// then does its Lambda build an S3 client; the others' binaries leave the S3 SDK out.
    const READS_LAKE: bool = false;

    /// Pure: the request(s) that deliver `message` to `destination`. Every user-controlled string
    /// is escaped for the vendor's markup and every vendor limit respected (see [`crate::escape`],
    /// [`crate::fit`]).
    fn render(
        config: &Self::Config,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError>;

    /// Keys of objects in the stack's lake bucket that `render` needs for `message` (an archive
    /// copies `reports/…`); the framework reads them into [`RenderContext::objects`] first. An
    /// object not there yet is retried through the queue. The default needs none.
    fn objects(message: Message<'_>) -> Vec<String> {
        let _ = message;
        Vec::new()
    }

    /// Pure: what the vendor's answer to `request` means. The default is the shared policy.
    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        let _ = request;
        classify_http(response)
    }

    /// What of `request` must still be sent after the vendor answered it with `answer` (a
    /// classifier's `Delivered` for an answer that refused part of the request: Amplitude's 400
    /// naming the events it dropped). The dispatcher sends every remainder as one more exchange,
    /// a few rounds at most. The default: nothing remains.
    fn remainder(request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest> {
        let _ = (request, answer);
        None
    }

    /// What to keep after delivering `message` (one answer per request, in order), for the next
    /// envelope of the same subject; `None` keeps nothing.
    fn remember(
        config: &Self::Config,
        destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value> {
        let _ = (config, destination, message, delivered);
        None
    }
}

/// The named destination of a config's `destinations` table, or the error every `render` gives
/// for a name the config does not have.
pub fn destination<'a, D>(
    destinations: &'a std::collections::BTreeMap<String, D>,
    name: &str,
) -> Result<&'a D, RenderError> {
    destinations
        .get(name)
        .ok_or_else(|| RenderError::UnknownDestination(name.to_owned()))
}
