//! The chat function on Lambda. A container freezes once its response is sent, so a `/cost`
//! answered later ([`followup`](super::followup)) cannot be a task: the function invokes itself
//! asynchronously ([`SelfInvoke`], `InvocationType=Event`, answered at once by Lambda) with the
//! follow-up, and that second run ([`handle`]) reads the figures and sends the answer. Every
//! other invocation is a Function URL request, handed to the chat router as `lambda_http` would.

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use axum::Router;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, LambdaEvent};
use serde_json::{Value, json};

use super::followup::{Defer, Followup, Sender};
use crate::Api;

/// The key of a follow-up event: what tells it from a Function URL request.
pub const FOLLOWUP_KEY: &str = "costwatch_followup";

/// Defers by invoking this function (`AWS_LAMBDA_FUNCTION_NAME`) asynchronously.
pub struct SelfInvoke {
    client: aws_sdk_lambda::Client,
    function_name: String,
}

impl SelfInvoke {
    pub fn new(config: &SdkConfig, function_name: &str) -> Self {
        Self {
            client: aws_sdk_lambda::Client::new(config),
            function_name: function_name.to_owned(),
        }
    }
}

#[async_trait]
impl Defer for SelfInvoke {
    async fn defer(&self, followup: Followup) -> Result<(), String> {
        let payload =
            serde_json::to_vec(&json!({ FOLLOWUP_KEY: followup })).map_err(|e| e.to_string())?;
        let out = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| format!("lambda:InvokeFunction {}: {e}", self.function_name))?;
        // An asynchronous invocation is accepted with 202.
        match out.status_code() {
            202 => Ok(()),
            other => Err(format!("lambda:InvokeFunction answered {other}, not 202")),
        }
    }
}

/// One invocation of the chat function: its own follow-up (sent, never failed: Lambda would
/// retry an asynchronous invocation that fails, and answer twice), or a Function URL request.
pub async fn handle(
    router: Router,
    sender: &Sender,
    api: &Api,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_http::Error> {
    let LambdaEvent { payload, context } = event;
    if let Some(followup) = payload.get(FOLLOWUP_KEY) {
        let followup: Followup = serde_json::from_value(followup.clone())?;
        if let Err(e) = sender.deliver(api, &followup).await {
            tracing::warn!(error = %e, "a deferred /cost answer was not delivered");
        }
        return Ok(Value::Null);
    }
    let request: LambdaRequest = serde_json::from_value(payload)?;
    let adapter = Adapter::from(router);
    let response = adapter.oneshot(LambdaEvent::new(request, context)).await?;
    Ok(serde_json::to_value(response)?)
}
