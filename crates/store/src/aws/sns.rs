//! Notification envelopes onto an SNS topic; dispatchers subscribe through SQS.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;
use costwatch_core::Notification;

use super::error::{aws_error, corrupt};
use crate::error::Result;
use crate::ports::NotificationBus;

#[derive(Debug, Clone)]
pub struct SnsBus {
    client: Client,
    topic_arn: String,
}

impl SnsBus {
    pub fn new(config: &SdkConfig, topic_arn: impl Into<String>) -> Self {
        Self {
            client: Client::new(config),
            topic_arn: topic_arn.into(),
        }
    }
}

/// A String message attribute. Subscription filter policies match on attributes, not on the
/// body, so `kind` and `severity` are copied there: a Jira subscription can take only `high`
/// and `critical` anomalies without receiving the rest.
fn attribute(value: &str) -> Result<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| corrupt("sns message attribute", e.to_string()))
}

#[async_trait]
impl NotificationBus for SnsBus {
    async fn publish(&self, notification: &Notification) -> Result<()> {
        let body = serde_json::to_string(notification)
            .map_err(|e| corrupt(format!("notification {}", notification.id), e.to_string()))?;
        let severity = serde_json::to_value(notification.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| corrupt("notification severity", "not a string"))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_attributes("kind", attribute(notification.kind())?)
            .message_attributes("severity", attribute(&severity)?)
            .send()
            .await
            .map_err(|e| aws_error("sns:Publish", e))?;
        Ok(())
    }
}
