//! The stack's resources on moto (DynamoDB optionally on dynalite) for `bench scale`, as
//! `costwatch invoke` creates them.

use std::sync::Arc;

use anyhow::{Context, Result};
use costwatch_store::SystemClock;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_sns;
use costwatch_store::aws::{CapacityMeter, DynamoRollups, DynamoState, S3Lake};

pub(crate) use crate::invoke::{BUCKET, TABLE};
use crate::invoke::{REGION, create_bucket, create_table};

/// The stack's lake on moto (`sdk`), rollups and state on `dynamodb` (moto or dynalite)
/// through `meter`'s counting client.
pub fn stores(
    sdk: &SdkConfig,
    dynamodb: &SdkConfig,
    meter: &CapacityMeter,
) -> (S3Lake, DynamoRollups, DynamoState) {
    (
        S3Lake::new(sdk, BUCKET),
        DynamoRollups::with_client(meter.client(dynamodb), TABLE),
        DynamoState::with_client(meter.client(dynamodb), TABLE, Arc::new(SystemClock)),
    )
}

pub async fn sdk_config(url: &str) -> SdkConfig {
    costwatch_store::aws::emulator_config(url, REGION).await
}

/// Bucket and notifications topic on `sdk`, the table on `dynamodb`; returns the topic's ARN.
pub async fn create_stack(sdk: &SdkConfig, dynamodb: &SdkConfig) -> Result<String> {
    create_bucket(sdk).await?;
    create_table(dynamodb).await?;
    let topic = aws_sdk_sns::Client::new(sdk)
        .create_topic()
        .name("costwatch-notifications")
        .send()
        .await
        .context("sns:CreateTopic")?;
    Ok(topic.topic_arn.unwrap_or_default())
}
