//! The api Lambda behind the Function URL (HTTP API payload 2.0): thin — settings, clients once,
//! the same router `costwatch serve` runs, handed to lambda_http as a tower service.
//!
//! With `COSTWATCH_SURFACE=chat` the same binary is the chat function: Slack's interactivity and
//! slash-command endpoints and Discord's interactions endpoint (`costwatch_api::chat`), each
//! request checked against the vendor's signature instead of IAM; a `/cost` too slow for the 3 s
//! is answered by a second, asynchronous run of the function (`chat::lambda`).
//!
//! Auth: the Function URL's AWS_IAM auth (template.yaml) lets in only signed callers. With
//! `COSTWATCH_API_TOKEN_SECRET` set, the function also demands a bearer token equal to that
//! Secrets Manager secret (for a front such as an HTTP API that passes bearer clients through).

use std::sync::Arc;
use std::time::Duration;

use costwatch_api::chat::followup::Sender;
use costwatch_api::chat::glance::ANSWER_WITHIN;
use costwatch_api::chat::lambda::{SelfInvoke, handle};
use costwatch_api::chat::{self, Chat, ChatSecrets};
use costwatch_api::deliveries::{DispatchStates, Integrations, parse_queue_urls};
use costwatch_api::sqs_depth::SqsQueueDepth;
use costwatch_api::{Api, Auth, router};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_store::aws::{DynamoState, SecretsManagerSecrets};
use costwatch_store::{StateStore, SystemClock};

/// The Secrets Manager secret holding the bearer token; unset: IAM alone.
const API_TOKEN_SECRET: &str = "COSTWATCH_API_TOKEN_SECRET";
/// `chat`: serve the Slack endpoints instead of the REST API (the Chat function).
const SURFACE: &str = "COSTWATCH_SURFACE";
/// The Secrets Manager secret holding the Slack app's Signing Secret.
const SLACK_SIGNING_SECRET: &str = "COSTWATCH_SLACK_SIGNING_SECRET";
/// The Discord application's public key (hex), for its interaction signatures.
const DISCORD_PUBLIC_KEY: &str = "COSTWATCH_DISCORD_PUBLIC_KEY";
/// The function's own name, set by Lambda: a slow `/cost` invokes it again to answer later.
const FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
/// Tests only: a loopback server that receives the deferred answers instead of Slack/Discord.
const HTTP_ENDPOINT: &str = "COSTWATCH_HTTP_ENDPOINT";
/// A rotated token is picked up within this long.
const SECRET_TTL: Duration = Duration::from_secs(300);
/// `slack=<DLQ URL>,teams=<DLQ URL>`: the deployed integrations and their dead-letter queues
/// (template.yaml joins one entry per enabled dispatcher). Unset: the API does not say which
/// integrations run, and reads no queue.
const INTEGRATION_DLQS: &str = "COSTWATCH_INTEGRATION_DLQS";

/// Each dispatcher's own partition of the state table (crates/dispatch lambda.rs `partition`),
/// which the api function reads (never writes) for delivery health.
struct DispatchPartitions(DynamoState);

impl DispatchStates for DispatchPartitions {
    fn of(&self, integration: &str) -> Arc<dyn StateStore> {
        Arc::new(
            self.0
                .clone()
                .in_partition(format!("dispatch#{integration}")),
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    costwatch_lambda::logging::init();
    let aws = Aws::load(Env::from_process()).await;
    let config = aws.env.pipeline_config()?;
    let auth = match aws.env.optional(API_TOKEN_SECRET) {
        Some(name) => Auth::Bearer {
            secret: name.to_owned(),
        },
        None => Auth::Trusted,
    };
    let queues = match aws.env.optional(INTEGRATION_DLQS) {
        Some(text) => Some(parse_queue_urls(text).map_err(|e| format!("{INTEGRATION_DLQS}: {e}"))?),
        None => None,
    };
    let integrations = Integrations {
        configured: queues.as_ref().map(|q| q.keys().cloned().collect()),
        states: Arc::new(DispatchPartitions(aws.state()?)),
        dead_letters: Arc::new(SqsQueueDepth::new(&aws.config, queues)),
    };
    // With the GetAnomalies import on, a verdict on an imported anomaly goes back to AWS.
    let aws_feedback: Option<Arc<dyn costwatch_store::AnomalyFeedbackSink>> =
        match costwatch_lambda::handlers::detect::import_requests(&aws.env)? {
            Some(_) => Some(Arc::new(costwatch_store::aws::CostExplorerSource::new(
                &aws.config,
                costwatch_store::aws::CostExplorerOptions::default(),
            )?)),
            None => None,
        };
    let api = Api {
        rollups: Arc::new(aws.rollups()?),
        state: Arc::new(aws.state()?),
        lake: Arc::new(aws.lake()?),
        secrets: Arc::new(SecretsManagerSecrets::new(&aws.config, "").with_ttl(SECRET_TTL)),
        config,
        auth,
        clock: Arc::new(SystemClock),
        integrations,
        bus: Arc::new(aws.notifications()?),
        aws_feedback,
    };
    let api = Arc::new(api);
    // One binary, two functions: the chat function (template.yaml `Chat`, a Function URL with
    // auth NONE that Slack can reach) serves only the signature-checked chat routes.
    match aws.env.optional(SURFACE) {
        Some("chat") => {
            let secrets = ChatSecrets {
                slack_signing_secret: aws.env.optional(SLACK_SIGNING_SECRET).map(str::to_owned),
                discord_public_key: aws.env.optional(DISCORD_PUBLIC_KEY).map(str::to_owned),
            };
            let sender = Sender::new(aws.env.optional(HTTP_ENDPOINT))?;
            let defer = SelfInvoke::new(&aws.config, aws.env.required(FUNCTION_NAME)?);
            let chat = Chat {
                api: api.clone(),
                secrets,
                answer_within: ANSWER_WITHIN,
                defer: Some(Arc::new(defer)),
            };
            let router = chat::router(Arc::new(chat));
            let (sender, api) = (&sender, &api);
            lambda_http::lambda_runtime::run(lambda_http::service_fn(|event| {
                handle(router.clone(), sender, api, event)
            }))
            .await
        }
        _ => lambda_http::run(router(api)).await,
    }
}
