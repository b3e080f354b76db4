//! A dispatcher Lambda in one call (feature `lambda`): an integration crate's `main.rs` is
//! `costwatch_dispatch::lambda::run::<Slack>().await`. Read once per container: the environment,
//! the integration's config (validated, its secrets resolved from Secrets Manager or SSM and
//! cached), the SDK clients, the HTTP client and the rate limiter — built on the first batch
//! ([`Ready`]), so the init phase ends at once.
//!
//! Environment (set by template.yaml):
//! - `COSTWATCH_TABLE` — the DynamoDB table of the ledger and memos;
//! - `COSTWATCH_DISPATCH_CONFIG` — the integration's config table as JSON (credentials as
//!   `{"secrets_manager": "…"}` / `{"ssm": "…"}` references, never inline);
//! - `COSTWATCH_QUEUE_URL`, `COSTWATCH_DEAD_LETTER_QUEUE_URL` — its queue and DLQ;
//! - `COSTWATCH_MAX_RECEIVES` (the queue's maxReceiveCount; `Integration::MAX_RECEIVES`, 5 for most), `COSTWATCH_DIGEST_FROM` (5),
//!   `COSTWATCH_HTTP_TIMEOUT_SECONDS` (10);
//! - `COSTWATCH_STORM_MESSAGES` (5) messages per destination per `COSTWATCH_STORM_WINDOW_SECONDS`
//!   (60), beyond which envelopes are held for one digest ([`crate::storm`]; 0 turns it off);
//! - `COSTWATCH_HTTP_ENDPOINT` — tests only: a loopback server that receives every vendor request.
//!
//! Secrets are re-read every five minutes and at once when a vendor refuses one (401/403/404),
//! so a rotated webhook URL or token works without a cold start.

use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::MessageAttributeValue;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::emf;
use costwatch_lambda::env::Env;
use costwatch_lambda::ready::Ready;
use costwatch_store::aws::{SecretsManagerSecrets, SsmSecrets, aws_error};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::dispatcher::Dispatcher;
use crate::integration::Integration;
use crate::registry::{Configured, entry};
use crate::secret::SecretStores;
use crate::sqs::{Queue, Record, handle_batch};
use crate::storm::StormLimit;

pub const DISPATCH_CONFIG: &str = "COSTWATCH_DISPATCH_CONFIG";
pub const QUEUE_URL: &str = "COSTWATCH_QUEUE_URL";
pub const MAX_RECEIVES: &str = "COSTWATCH_MAX_RECEIVES";
pub const DIGEST_FROM: &str = "COSTWATCH_DIGEST_FROM";
pub const HTTP_TIMEOUT: &str = "COSTWATCH_HTTP_TIMEOUT_SECONDS";
pub const STORM_MESSAGES: &str = "COSTWATCH_STORM_MESSAGES";
pub const STORM_WINDOW: &str = "COSTWATCH_STORM_WINDOW_SECONDS";
pub const HTTP_ENDPOINT: &str = "COSTWATCH_HTTP_ENDPOINT";

/// How long a secret read from Secrets Manager or SSM is reused before it is read again.
const SECRET_TTL: Duration = Duration::from_secs(300);

/// Time kept back from the deadline to answer the batch and settle the queue.
const MARGIN: Duration = Duration::from_secs(10);

pub async fn run<I: Integration>() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    emf::init();
    // Built on the first batch, not before the runtime loop (see costwatch_lambda::ready).
    let ready = Ready::new(build::<I>);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let ready = &ready;
        async move {
            let running = ready.get().await?;
            let deadline = deadline_of(event.context.deadline);
            let response: SqsBatchResponse = handle_batch(
                &running.dispatcher,
                &running.queue,
                &event.payload,
                running.max_receives,
                chrono::Utc::now(),
                deadline,
            )
            .await;
            emf::flush();
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

/// What a dispatcher container builds once.
struct Running {
    dispatcher: Dispatcher<'static>,
    queue: SqsQueue,
    max_receives: u32,
}

/// The environment read, the config validated and its secrets resolved, the clients built. The
/// stores the dispatcher borrows live as long as the process.
async fn build<I: Integration>() -> Result<Running, lambda_runtime::Error> {
    let aws = Aws::load(Env::from_process()).await;
    let env = &aws.env;
    let table: serde_json::Value = serde_json::from_str(env.required(DISPATCH_CONFIG)?)
        .map_err(|e| format!("{DISPATCH_CONFIG}: {e}"))?;
    let integration: Box<dyn Configured> = entry::<I>().load(table)?;
    integration.require_references()?;
    let secrets_manager = leak(SecretsManagerSecrets::new(&aws.config, "").with_ttl(SECRET_TTL));
    let ssm = leak(SsmSecrets::new(&aws.config, "").with_ttl(SECRET_TTL));
    // Its own partition: the role's IAM policy allows this dispatcher's items and nothing else.
    let state = leak(aws.state()?.in_partition(partition(I::NAME)));
    let queue = SqsQueue {
        client: aws_sdk_sqs::Client::new(&aws.config),
        queue_url: env.required(QUEUE_URL)?.to_owned(),
        dead_letter_url: env
            .required(costwatch_lambda::env::DEAD_LETTER_QUEUE_URL)?
            .to_owned(),
        function: I::NAME,
    };
    // The lake, for an integration that archives the report files (its role may read
    // reports/*). A constant per integration, so the others' binaries hold no S3 client.
    let lake = match env.optional(costwatch_lambda::env::BUCKET) {
        Some(_) if I::READS_LAKE => Some(leak(aws.lake()?)),
        _ => None,
    };
    let max_receives = env.number(MAX_RECEIVES, I::MAX_RECEIVES)?;
    let dispatcher = Dispatcher::builder(integration, state)
        .timeout(Duration::from_secs(u64::from(
            env.number(HTTP_TIMEOUT, 10)?,
        )))
        .endpoint(test_endpoint(env.optional(HTTP_ENDPOINT))?)
        .digest_from(env.number(DIGEST_FROM, 5)? as usize)
        .storm(storm_limit(env)?)
        .lake(lake.map(|l| l as &dyn costwatch_store::LakeReader))
        .secret_stores(
            SecretStores {
                secrets_manager: Some(secrets_manager),
                ssm: Some(ssm),
            },
            SECRET_TTL,
        )
        .build()
        .await?;
    Ok(Running {
        dispatcher,
        queue,
        max_receives,
    })
}

/// Kept for the life of the process (a container builds its stores once).
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// The DynamoDB partition of an integration's ledger and memos (`dispatch#slack`); template.yaml
/// grants each dispatcher exactly this `dynamodb:LeadingKeys`.
pub fn partition(integration: &str) -> String {
    format!("dispatch#{integration}")
}

/// The storm limit from the environment: 5 messages a minute per destination unless set; no
/// limit with `COSTWATCH_STORM_MESSAGES=0`.
fn storm_limit(env: &Env) -> Result<StormLimit, costwatch_lambda::error::HandlerError> {
    let messages = env.number(STORM_MESSAGES, 5)?;
    let window = env.number(STORM_WINDOW, 60)?;
    if messages == 0 || window == 0 {
        return Ok(StormLimit::off());
    }
    Ok(StormLimit {
        messages,
        window: chrono::Duration::seconds(i64::from(window)),
    })
}

/// `COSTWATCH_HTTP_ENDPOINT`, for tests under the Runtime API emulator only: a loopback
/// address every vendor request is sent to instead. Anything else is refused, so a changed
/// environment cannot send alerts (and their credentials) elsewhere.
fn test_endpoint(value: Option<&str>) -> Result<Option<url::Url>, String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = url::Url::parse(value).map_err(|e| format!("{HTTP_ENDPOINT}: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !loopback {
        return Err(format!(
            "{HTTP_ENDPOINT} must be a loopback address (it exists for local tests)"
        ));
    }
    Ok(Some(url))
}

/// The invocation's deadline (epoch milliseconds) as a monotonic instant, less the margin.
fn deadline_of(epoch_ms: u64) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let left = Duration::from_millis(epoch_ms.saturating_sub(now_ms)).saturating_sub(MARGIN);
    tokio::time::Instant::now() + left
}

struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letter_url: String,
    function: &'static str,
}

fn attribute(value: &str) -> Result<MessageAttributeValue, String> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| e.to_string())
}

#[async_trait]
impl Queue for SqsQueue {
    async fn delay(&self, record: &Record, after: Duration) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&record.receipt_handle)
            .visibility_timeout(i32::try_from(after.as_secs().max(1)).unwrap_or(43_200))
            .send()
            .await
            .map_err(|e| aws_error("sqs:ChangeMessageVisibility", e).to_string())?;
        Ok(())
    }

    /// The envelope itself is the body, so the DLQ's "start redrive" replays it as it was; the
    /// reason travels in the attributes Lambda's own DLQ uses.
    async fn dead_letter(&self, record: &Record, reason: &str) -> Result<(), String> {
        let reason: String = reason.chars().take(1000).collect();
        self.client
            .send_message()
            .queue_url(&self.dead_letter_url)
            .message_body(&record.incoming.body)
            .message_attributes("ErrorCode", attribute("Rejected")?)
            .message_attributes("ErrorMessage", attribute(&reason)?)
            .message_attributes("Function", attribute(self.function)?)
            .send()
            .await
            .map_err(|e| aws_error("sqs:SendMessage", e).to_string())?;
        Ok(())
    }
}
