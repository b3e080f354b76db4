//! What the two Lambda binaries of this crate build alike (feature `lambda`): the [`Api`] over
//! the stack's table, lake, secrets and topic, from the function's environment. `api` (the REST
//! API behind an IAM Function URL, src/main.rs) and `chat` (Slack's and Discord's endpoints,
//! src/bin/chat.rs) are two binaries so neither links the other's clients: the REST API has no
//! Lambda client, HTTP client or Ed25519, the chat function no dead-letter queue reads (issue
//! 17: each binary ≤ 8 MB).

use std::sync::Arc;
use std::time::Duration;

use costwatch_lambda::deps::Aws;
use costwatch_store::aws::{DynamoState, SecretsManagerSecrets};
use costwatch_store::{StateStore, SystemClock};

use crate::deliveries::{DispatchStates, Integrations, NoQueues, parse_queue_urls};
use crate::sqs_depth::SqsQueueDepth;
use crate::{Api, Auth};

/// The Secrets Manager secret holding the bearer token; unset: IAM alone.
const API_TOKEN_SECRET: &str = "COSTWATCH_API_TOKEN_SECRET";
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

/// Which deliveries the function can report on.
pub enum Deliveries {
    /// The REST API: the deployed integrations and their dead-letter queues' depth.
    FromEnvironment,
    /// The chat function: none (it shows no delivery health, and links no SQS client).
    None,
}

/// The API over the stack's stores, as the environment configures it.
pub async fn api(aws: &Aws, deliveries: Deliveries) -> Result<Api, lambda_http::Error> {
    let config_source = aws.config_source()?;
    let auth = match aws.env.optional(API_TOKEN_SECRET) {
        Some(name) => Auth::Bearer {
            secret: name.to_owned(),
        },
        None => Auth::Trusted,
    };
    let state = aws.state()?;
    // Delivery health reads the dispatchers' partitions of the same table.
    let states = Arc::new(DispatchPartitions(state.clone()));
    let integrations = match deliveries {
        Deliveries::FromEnvironment => {
            let queues = match aws.env.optional(INTEGRATION_DLQS) {
                Some(text) => {
                    Some(parse_queue_urls(text).map_err(|e| format!("{INTEGRATION_DLQS}: {e}"))?)
                }
                None => None,
            };
            Integrations {
                configured: queues.as_ref().map(|q| q.keys().cloned().collect()),
                states,
                dead_letters: Arc::new(SqsQueueDepth::new(&aws.config, queues)),
            }
        }
        Deliveries::None => Integrations {
            configured: None,
            states,
            dead_letters: Arc::new(NoQueues),
        },
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
    Ok(Api {
        rollups: Arc::new(aws.rollups()?),
        state: Arc::new(state),
        lake: Arc::new(aws.lake()?),
        secrets: Arc::new(SecretsManagerSecrets::new(&aws.config, "").with_ttl(SECRET_TTL)),
        config_source,
        auth,
        clock: Arc::new(SystemClock),
        integrations,
        bus: Arc::new(aws.notifications()?),
        aws_feedback,
    })
}
