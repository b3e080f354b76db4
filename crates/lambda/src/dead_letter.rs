//! Where events that can never succeed go: the function's dead-letter queue, with the reason, so
//! an operator can read why and replay it after a fix. Lambda's own DLQ catches the rest (errors
//! that stayed after its retries) in the same queue.

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageAttributeValue;
use costwatch_store::aws::aws_error;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::{HandlerError, Result};

/// One rejected event: the message body on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The function that rejected it (`collect`, `aggregate`, ...).
    pub function: String,
    pub reason: String,
    /// The event exactly as the function received it.
    pub event: serde_json::Value,
}

#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn send(&self, letter: &DeadLetter) -> Result<()>;
}

pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(config: &SdkConfig, queue_url: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(config),
            queue_url: queue_url.into(),
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| HandlerError::Config(format!("message attribute: {e}")))
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn send(&self, letter: &DeadLetter) -> Result<()> {
        let body = serde_json::to_string(letter)
            .map_err(|e| HandlerError::Malformed(format!("dead letter: {e}")))?;
        // The same attribute names Lambda's own DLQ uses, so one alarm and one runbook fit both.
        // SQS caps attribute values at 256 KiB like the body; reasons are short.
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes("ErrorCode", attribute("Rejected")?)
            .message_attributes("ErrorMessage", attribute(&letter.reason)?)
            .message_attributes("Function", attribute(&letter.function)?)
            .send()
            .await
            .map_err(|e| aws_error("sqs:SendMessage", e))?;
        Ok(())
    }
}

/// Keeps the letters, for tests and local runs.
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    letters: Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetters {
    pub async fn letters(&self) -> Vec<DeadLetter> {
        self.letters.lock().await.clone()
    }
}

#[async_trait]
impl DeadLetters for MemoryDeadLetters {
    async fn send(&self, letter: &DeadLetter) -> Result<()> {
        self.letters.lock().await.push(letter.clone());
        Ok(())
    }
}
