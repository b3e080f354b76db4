//! The AWS adapters a function needs, built from one SDK configuration per container (the
//! Lambda runtime examples' "shared resource" pattern). Each accessor reads its own environment
//! variable, so a function asks only for what it uses and a missing variable fails the cold
//! start with its name.

use std::sync::Arc;

use costwatch_pipeline::config_source::{ConfigObject, ConfigSource};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::{DynamoRollups, DynamoState, S3Lake, SnsBus, lambda_config};

use crate::dead_letter::SqsDeadLetters;
use crate::env::{self, Env};
use crate::error::Result;
use crate::events::SnsPipelineBus;

pub struct Aws {
    pub config: SdkConfig,
    pub env: Env,
}

impl Aws {
    /// The function role's credentials from the environment; `AWS_ENDPOINT_URL` for an emulator.
    pub async fn load(env: Env) -> Self {
        Self {
            config: lambda_config(),
            env,
        }
    }

    pub fn with_config(config: SdkConfig, env: Env) -> Self {
        Self { config, env }
    }

    pub fn lake(&self) -> Result<S3Lake> {
        Ok(S3Lake::new(&self.config, self.env.required(env::BUCKET)?))
    }

    /// Where the pipeline configuration comes from: the lake object `costwatch config push`
    /// writes when the stack names one (re-read once a minute), else the environment's, fixed.
    pub fn config_source(&self) -> Result<Arc<dyn ConfigSource>> {
        match self.env.pipeline_config_key()? {
            Some(key) => Ok(Arc::new(
                ConfigObject::new(Arc::new(self.lake()?), key).with_host(self.env.host()?),
            )),
            None => Ok(Arc::new(Arc::new(self.env.pipeline_config()?))),
        }
    }

    pub fn rollups(&self) -> Result<DynamoRollups> {
        Ok(DynamoRollups::new(
            &self.config,
            self.env.required(env::TABLE)?,
        ))
    }

    pub fn state(&self) -> Result<DynamoState> {
        Ok(DynamoState::new(
            &self.config,
            self.env.required(env::TABLE)?,
        ))
    }

    pub fn notifications(&self) -> Result<SnsBus> {
        Ok(SnsBus::new(
            &self.config,
            self.env.required(env::NOTIFICATIONS_TOPIC_ARN)?,
        ))
    }

    pub fn pipeline_events(&self) -> Result<SnsPipelineBus> {
        Ok(SnsPipelineBus::new(
            &self.config,
            self.env.required(env::PIPELINE_TOPIC_ARN)?,
        ))
    }

    pub fn dead_letters(&self) -> Result<SqsDeadLetters> {
        Ok(SqsDeadLetters::new(
            &self.config,
            self.env.required(env::DEAD_LETTER_QUEUE_URL)?,
        ))
    }
}
