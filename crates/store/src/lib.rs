//! Ports (one trait per capability) and their in-memory and local-filesystem adapters.
//! Handlers take the narrowest port they need.
//!
//! - [`memory`]: adapters holding everything in process memory (tests, `demo`).
//! - [`local`]: adapters under a data directory (the CLI's embedded default), see
//!   [`local::default_data_dir`]. The local adapters assume a single process owns the directory.
//! - `aws` (feature `aws`): S3, DynamoDB, SNS, Secrets Manager and SSM adapters; CloudWatch
//!   GetMetricData with feature `aws-cloudwatch`.
//! - [`metrics`]: metric series ports; every lake is a [`MetricStore`].
//! - [`bundle`]: [`LocalStore`] and [`MemoryStore`], one adapter per port, ready to hand out.

#[cfg(feature = "aws")]
pub mod aws;
pub mod bundle;
pub mod clock;
pub mod cost_explorer_options;
pub mod error;
mod fsutil;
pub mod key;
pub mod local;
pub mod memory;
pub mod metrics;
#[cfg(feature = "http")]
pub mod outbound;
pub mod ports;
mod rollup_index;
mod state_rules;
pub mod unallocated;

pub use bundle::{LocalStore, MemoryStore};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use metrics::{MetricPoint, MetricPull, MetricQuery, MetricSeries, MetricSource, MetricStore};
pub use ports::*;
