//! costwatch domain: cost records in FOCUS column naming, scopes, daily series, the findings the
//! analytics produce (anomalies, forecasts, budget status, recommendations) and the versioned
//! Notification envelope every dispatcher reads. Pure: no AWS, no HTTP, no file I/O.

pub mod archive;
pub mod chat_actions;
pub mod envelopes;
pub mod error;
pub mod escape;
pub mod findings;
pub mod ids;
pub mod metric;
pub mod money;
pub mod notification;
pub mod recommend;
pub mod record;
pub mod samples;
pub mod scope;
pub mod series;
pub mod shared;
pub mod synth;
pub mod usage;

pub use error::CoreError;
pub use money::Money;
pub use notification::{Notification, NotificationBody, Severity, State};
pub use record::{ChargeCategory, ChargeFrequency, CostBucket, CostMetric, CostRecord};
pub use scope::{Scope, ScopeKind};
pub use series::{DailyCost, DailySeries};
pub use usage::UsageLine;
