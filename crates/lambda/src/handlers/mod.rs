//! One handler per Lambda. Each takes the narrowest ports it needs (so its IAM policy in
//! template.yaml can match) and the raw event; it returns a summary that becomes the
//! invocation's response and log line.

pub mod aggregate;
pub mod collect;
pub mod detect;
pub mod forecast;
pub mod metrics;
pub mod recommend;
pub mod report;

use chrono::NaiveDate;

use crate::error::{HandlerError, Result};
use crate::events::{PipelineEvent, from_sns};

/// The last day named by the `AggregatesUpdated` events of an SNS invocation (detect and
/// forecast take these and nothing else).
pub(crate) fn aggregates_updated(event: serde_json::Value, function: &str) -> Result<NaiveDate> {
    let mut as_of: Option<NaiveDate> = None;
    for e in from_sns(event)? {
        match e {
            PipelineEvent::AggregatesUpdated { as_of: day, .. } => {
                as_of = Some(as_of.map_or(day, |d| d.max(day)));
            }
            other => {
                return Err(HandlerError::Malformed(format!(
                    "{function} takes AggregatesUpdated events, got {}",
                    other.name()
                )));
            }
        }
    }
    as_of.ok_or_else(|| HandlerError::Malformed("no AggregatesUpdated event".into()))
}
