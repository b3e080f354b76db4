//! What every costwatch integration shares.
//!
//! **The contract** an integration crate implements: [`Integration`] with its
//! [`IntegrationConfig`] (validated without I/O, unknown fields rejected, credentials as
//! [`Secret`]), a pure `render` to [`VendorRequest`]s and a `classify` of [`VendorResponse`]s into
//! an [`Outcome`]; helpers for [`escape`] (per markup) and [`fit`] (size limits, never silent
//! truncation).
//!
//! **The framework** around it: [`routing`] (rules, quiet hours, fallback owner), and — in the
//! modules that follow — the delivery ledger, retries, rate limits, digests, the sender and the
//! SQS batch handler.

pub mod chart;
pub mod disabled;
pub mod dispatcher;
pub mod dns;
pub mod error;
/// Escaping lives in costwatch-core, so the chat endpoints (crates/api) escape as dispatchers do.
pub use costwatch_core::escape;
pub mod fit;
pub mod hosts;
pub mod integration;
pub mod ledger;
pub mod local_time;
pub mod metrics;
pub mod outcome;
pub mod product_event;
pub mod rate;
pub mod registry;
pub mod request;
pub mod retry;
pub mod routing;
// Not public: how a caught panic becomes a dead-letter reason.
mod panics;
pub mod secret;
pub mod sender;
pub mod sqs;
pub mod storm;
pub mod view;
pub mod webhook;

pub use error::{ConfigError, DispatchError, RenderError};
pub use integration::{
    Integration, IntegrationConfig, Message, RateLimit, RenderContext, destination,
};
pub use outcome::{Delivered, Outcome, VendorResponse, classify_http};
pub use registry::{Configured, Entry, entry, load_config};
pub use request::{Body, Method, Part, PartData, Repeat, Text, VendorRequest, from_step};
pub use routing::{QuietHours, Routing, Rule};
pub use secret::{Reference, Secret, SecretStores};
pub use webhook::{WebhookConfig, WebhookDestination};
#[cfg(feature = "lambda")]
pub mod lambda;
