//! The events that chain the pipeline: collect → `CostDataCollected` → aggregate →
//! `AggregatesUpdated` → detect and forecast → `AnomaliesDetected` and `ForecastsUpdated` →
//! the daily report, once both have arrived. They travel as JSON on the pipeline SNS topic,
//! with the event name also in the `event` message attribute, which the subscriptions'
//! filter policies match on (template.yaml).

use async_trait::async_trait;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsEvent;
use chrono::{DateTime, NaiveDate, Utc};
use costwatch_store::aws::aws_error;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_sns;
use costwatch_store::aws::sdk::aws_sdk_sns::types::MessageAttributeValue;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::{HandlerError, Result};

/// The message attribute that carries the event name.
pub const EVENT_ATTRIBUTE: &str = "event";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", deny_unknown_fields)]
pub enum PipelineEvent {
    /// Curated partitions were (re)written for `days`.
    CostDataCollected {
        days: Vec<NaiveDate>,
        records: usize,
        /// Cost Explorer requests the collection made ($0.01 each).
        requests: u32,
    },
    /// Rollups for `days` were replaced; `as_of` is the last day with data.
    AggregatesUpdated {
        days: Vec<NaiveDate>,
        as_of: NaiveDate,
    },
    /// detect is done with `as_of`: its anomaly envelopes are published.
    AnomaliesDetected { as_of: NaiveDate },
    /// forecast is done with `as_of`: its forecast and budget envelopes are published.
    ForecastsUpdated { as_of: NaiveDate },
}

impl PipelineEvent {
    pub fn name(&self) -> &'static str {
        match self {
            PipelineEvent::CostDataCollected { .. } => "CostDataCollected",
            PipelineEvent::AggregatesUpdated { .. } => "AggregatesUpdated",
            PipelineEvent::AnomaliesDetected { .. } => "AnomaliesDetected",
            PipelineEvent::ForecastsUpdated { .. } => "ForecastsUpdated",
        }
    }
}

/// Reads the pipeline events out of an SNS invocation. Anything else — not an SNS event, a
/// message that is not a pipeline event — is [`HandlerError::Malformed`] with the reason.
pub fn from_sns(event: serde_json::Value) -> Result<Vec<PipelineEvent>> {
    let sns: SnsEvent = serde_json::from_value(event)
        .map_err(|e| HandlerError::Malformed(format!("not an SNS event: {e}")))?;
    if sns.records.is_empty() {
        return Err(HandlerError::Malformed("SNS event without records".into()));
    }
    sns.records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            serde_json::from_str(&record.sns.message).map_err(|e| {
                HandlerError::Malformed(format!(
                    "Records[{i}] (message {}) is not a pipeline event: {e}",
                    record.sns.message_id
                ))
            })
        })
        .collect()
}

/// The `time` of the scheduled EventBridge event that started a run (collect, metrics,
/// recommend): a run's clock is the event's, not the wall clock, so a replayed or delayed event
/// does what it was meant to. Anything else is [`HandlerError::Malformed`] with the reason.
pub fn scheduled_time(event: serde_json::Value) -> Result<DateTime<Utc>> {
    let event: EventBridgeEvent<serde_json::Value> = serde_json::from_value(event)
        .map_err(|e| HandlerError::Malformed(format!("not an EventBridge event: {e}")))?;
    event
        .time
        .ok_or_else(|| HandlerError::Malformed("EventBridge event without `time`".into()))
}

/// Where pipeline events are published: the pipeline SNS topic on AWS.
#[async_trait]
pub trait PipelineBus: Send + Sync {
    async fn publish(&self, event: &PipelineEvent) -> Result<()>;
}

pub struct SnsPipelineBus {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPipelineBus {
    pub fn new(config: &SdkConfig, topic_arn: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sns::Client::new(config),
            topic_arn: topic_arn.into(),
        }
    }
}

#[async_trait]
impl PipelineBus for SnsPipelineBus {
    async fn publish(&self, event: &PipelineEvent) -> Result<()> {
        let body = serde_json::to_string(event)
            .map_err(|e| HandlerError::Malformed(format!("pipeline event: {e}")))?;
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(event.name())
            .build()
            .map_err(|e| HandlerError::Config(format!("message attribute: {e}")))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_attributes(EVENT_ATTRIBUTE, attribute)
            .send()
            .await
            .map_err(|e| aws_error("sns:Publish", e))?;
        Ok(())
    }
}

/// Keeps what was published, for tests and local runs.
#[derive(Debug, Default)]
pub struct MemoryPipelineBus {
    published: Mutex<Vec<PipelineEvent>>,
}

impl MemoryPipelineBus {
    pub async fn published(&self) -> Vec<PipelineEvent> {
        self.published.lock().await.clone()
    }
}

#[async_trait]
impl PipelineBus for MemoryPipelineBus {
    async fn publish(&self, event: &PipelineEvent) -> Result<()> {
        self.published.lock().await.push(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sns(message: &str) -> serde_json::Value {
        json!({"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:pipeline:1",
            "Sns": {
                "Type": "Notification", "MessageId": "m-1",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:pipeline",
                "Subject": null, "Message": message,
                "Timestamp": "2026-11-22T07:00:00.000Z", "SignatureVersion": "1",
                "Signature": "x", "SigningCertUrl": "https://sns", "UnsubscribeUrl": "https://sns",
                "MessageAttributes": {}
            }
        }]})
    }

    #[test]
    fn reads_a_pipeline_event_from_sns() {
        let event = PipelineEvent::AggregatesUpdated {
            days: vec![NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()],
            as_of: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        };
        let got = from_sns(sns(&serde_json::to_string(&event).unwrap())).unwrap();
        assert_eq!(got, vec![event]);
    }

    #[test]
    fn rejects_what_is_not_a_pipeline_event_with_the_reason() {
        let err = from_sns(json!({"detail-type": "Scheduled Event"})).unwrap_err();
        assert!(err.to_string().contains("not an SNS event"), "{err}");
        let err = from_sns(sns(r#"{"event":"CostDataCollected","days":"yesterday"}"#)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("Records[0]") && text.contains("m-1"),
            "{text}"
        );
        assert!(!err.is_retryable());
        let err = from_sns(json!({"Records": []})).unwrap_err();
        assert!(err.to_string().contains("without records"));
    }
}
