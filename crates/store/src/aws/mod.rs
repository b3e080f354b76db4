//! AWS adapters for the ports (feature `aws`), one file per adapter. Each takes an [`SdkConfig`]
//! built once per container ([`load_config`] in a Lambda, an explicit one in tests) so clients
//! are created once and shared, as the Lambda runtime examples do.

mod capacity;
#[cfg(feature = "aws-cloudwatch")]
mod cloudwatch;
#[cfg(feature = "aws-cost-explorer")]
mod cost_explorer;
mod dynamo_rollups;
mod dynamo_state;
mod error;
mod ext;
mod http_client;
mod lambda_config;
#[cfg(feature = "aws-cost-optimization-hub")]
mod optimization_hub;
#[cfg(feature = "aws-cost-explorer")]
mod recommendations;
mod s3;
mod secrets;
mod sns;
mod state_table;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

pub use capacity::{Capacity, CapacityMeter, item_size};
#[cfg(feature = "aws-cloudwatch")]
pub use cloudwatch::CloudWatchMetrics;
#[cfg(feature = "aws-cost-explorer")]
pub(crate) use cost_explorer::backoff as ce_backoff;
#[cfg(feature = "aws-cost-explorer")]
pub use cost_explorer::{
    CostExplorerOptions, CostExplorerSource, METRICS as COST_EXPLORER_METRICS, RetryPolicy,
};
pub use dynamo_rollups::{DAY_INDEX, DynamoRollups};
pub use dynamo_state::DynamoState;
pub use error::aws_error;
pub use http_client::sdk_http_client;
pub use lambda_config::lambda_config;
#[cfg(feature = "aws-cost-optimization-hub")]
pub use optimization_hub::CostOptimizationHub;
#[cfg(feature = "aws-cost-explorer")]
pub use recommendations::{CeRecommendations, RESERVATION_SERVICES};
pub use s3::S3Lake;
pub use secrets::{SecretsManagerSecrets, SsmSecrets};
pub use sns::SnsBus;
pub use state_table::create_state_table;

/// Pinned, not `latest()`: a dependency bump must not silently change retry or timeout defaults.
pub fn behavior_version() -> BehaviorVersion {
    BehaviorVersion::v2026_01_12()
}

/// Bounds on every AWS call, so a hung connection costs a retry instead of the whole Lambda
/// timeout (and, for a dispatcher, the batch's visibility window): 3 s to connect, 20 s per
/// attempt (a page of Cost Explorer answers in a few seconds; DynamoDB, S3 and SNS in
/// milliseconds), 45 s for the call with its retries — inside the shortest function timeout
/// (a dispatcher's 60 s; tests/aws_timeouts.rs reads the templates).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(20))
        .operation_timeout(Duration::from_secs(45))
        .build()
}

/// The standard chain (region, credentials and `AWS_ENDPOINT_URL` from the environment or a
/// profile) with the pinned behaviour version, [`timeouts`] and [`sdk_http_client`]: every SDK
/// config the CLI and the tests build starts here; a Lambda's is [`lambda_config`].
pub fn config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(behavior_version())
        .timeout_config(timeouts())
        .http_client(sdk_http_client())
}

/// An emulator's configuration (moto, a test fake): its URL for every service, fixed test keys,
/// nothing read from the environment, a profile or instance metadata. The moto tests, the fakes
/// and `costwatch invoke`/`bench scale` all build their clients from this.
pub async fn emulator_config(url: &str, region: &'static str) -> aws_config::SdkConfig {
    config_loader()
        .endpoint_url(url)
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "emulator",
        ))
        .load()
        .await
}

/// The SDK crates these adapters are built on, for callers that create resources or build clients
/// of their own (Lambda crates, the moto tests) without pinning a second copy.
pub mod sdk {
    #[cfg(feature = "aws-cloudwatch")]
    pub use aws_sdk_cloudwatch;
    #[cfg(feature = "aws-cost-explorer")]
    pub use aws_sdk_costexplorer;
    pub use {
        aws_config, aws_sdk_dynamodb, aws_sdk_s3, aws_sdk_secretsmanager, aws_sdk_sns, aws_sdk_ssm,
    };
}
