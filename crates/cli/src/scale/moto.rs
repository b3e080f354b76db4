//! The stack's resources on moto for `bench scale`, as `costwatch invoke` creates them.

use anyhow::{Context, Result};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_sns;

pub(crate) use crate::invoke::{BUCKET, TABLE};
use crate::invoke::{REGION, create_bucket, create_table};

pub async fn sdk_config(url: &str) -> SdkConfig {
    costwatch_store::aws::emulator_config(url, REGION).await
}

/// Bucket, table and the notifications topic; returns the topic's ARN.
pub async fn create_stack(sdk: &SdkConfig) -> Result<String> {
    create_bucket(sdk).await?;
    create_table(sdk).await?;
    let topic = aws_sdk_sns::Client::new(sdk)
        .create_topic()
        .name("costwatch-notifications")
        .send()
        .await
        .context("sns:CreateTopic")?;
    Ok(topic.topic_arn.unwrap_or_default())
}
