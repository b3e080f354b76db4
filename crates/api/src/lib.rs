//! The REST API and the dashboard, over the store ports only (rollups, state, lake, secrets), so
//! the same router serves on Lambda (`src/main.rs`, lambda_http, DynamoDB and S3) and on one
//! machine (`costwatch serve`, the local store).
//!
//! - [`router`] builds the axum router; every route is registered through [`routes::Routes`],
//!   which also lists them, and `tests/openapi.rs` compares that list and the responses with the
//!   committed `openapi.json`.
//! - Errors are `application/problem+json` ([`problem`]); reads carry an ETag and answer
//!   `If-None-Match` with 304 ([`etag`]); service clients send a bearer token held in the secret
//!   store ([`auth`]).

pub mod auth;
pub mod chat;
pub mod dashboard;
pub mod deliveries;
pub mod etag;
#[cfg(feature = "lambda")]
pub mod lambda_setup;
pub mod problem;
pub mod routes;
#[cfg(feature = "lambda")]
pub mod sqs_depth;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use costwatch_pipeline::config_source::ConfigSource;
use costwatch_pipeline::{PipelineConfig, PipelineError};
use costwatch_store::{
    AnomalyFeedbackSink, Clock, LakeReader, NotificationBus, RollupStore, SecretStore, StateStore,
};

pub use auth::Auth;
pub use problem::Problem;

/// The OpenAPI 3.1 document, kept in the repository and served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// What the handlers read and write: the narrowest ports, shared by every request.
pub struct Api {
    pub rollups: Arc<dyn RollupStore>,
    pub state: Arc<dyn StateStore>,
    pub lake: Arc<dyn LakeReader>,
    pub secrets: Arc<dyn SecretStore>,
    /// Budgets and forecast settings, as the pipeline runs with them: read through
    /// [`Api::config`].
    pub config_source: Arc<dyn ConfigSource>,
    pub auth: Auth,
    pub clock: Arc<dyn Clock>,
    /// Where an acknowledge, snooze or feedback is announced to every integration (SNS on AWS,
    /// the local outbox for `costwatch serve`).
    pub bus: Arc<dyn NotificationBus>,
    /// Cost Anomaly Detection's feedback API, when anomalies are imported from it.
    pub aws_feedback: Option<Arc<dyn AnomalyFeedbackSink>>,
    /// Integration health: configured ones, dispatcher ledgers, dead-letter queue depth.
    pub integrations: deliveries::Integrations,
}

impl Api {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The ports a person's action on an anomaly goes through.
    pub fn action_ports(&self) -> costwatch_pipeline::actions::ActionPorts<'_> {
        costwatch_pipeline::actions::ActionPorts {
            state: self.state.as_ref(),
            bus: self.bus.as_ref(),
            aws: self.aws_feedback.as_deref(),
        }
    }

    /// The pipeline configuration the functions run with now. One that cannot be read is the
    /// deployment's fault, not the request's: 503 with the reason (which names the object and
    /// the setting, never a secret).
    pub async fn config(&self) -> Result<Arc<PipelineConfig>, Problem> {
        self.config_source.current().await.map_err(|e| match e {
            PipelineError::Config(what) => {
                tracing::error!(error = %what, "pipeline configuration");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the pipeline configuration cannot be used: {what}"),
                )
            }
            other => other.into(),
        })
    }

    /// The last day with stored costs: the day every "as of" defaults to, so a read shows the
    /// data as the last run saw it rather than an empty today.
    pub async fn latest_day(&self) -> Result<Option<NaiveDate>, Problem> {
        Ok(self.rollups.day_range().await?.map(|(_, last)| last))
    }
}

/// The API, the OpenAPI document and the dashboard on one router.
pub fn router(api: Arc<Api>) -> Router {
    routes::routes().into_router(api)
}
