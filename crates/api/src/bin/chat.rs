//! The chat Lambda (template.yaml `ChatFunction`, a Function URL with auth NONE that Slack and
//! Discord can reach): Slack's interactivity and slash-command endpoints and Discord's
//! interactions endpoint (`costwatch_api::chat`), each request checked against the vendor's
//! signature instead of IAM; a `/cost` too slow for the 3 s is answered by a second,
//! asynchronous run of the function (`chat::lambda`).

use std::sync::Arc;

use costwatch_api::chat::followup::Sender;
use costwatch_api::chat::glance::ANSWER_WITHIN;
use costwatch_api::chat::lambda::{SelfInvoke, handle};
use costwatch_api::chat::{self, Chat, ChatSecrets};
use costwatch_api::lambda_setup::{Deliveries, api};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;

/// The Secrets Manager secret holding the Slack app's Signing Secret.
const SLACK_SIGNING_SECRET: &str = "COSTWATCH_SLACK_SIGNING_SECRET";
/// The Discord application's public key (hex), for its interaction signatures.
const DISCORD_PUBLIC_KEY: &str = "COSTWATCH_DISCORD_PUBLIC_KEY";
/// The function's own name, set by Lambda: a slow `/cost` invokes it again to answer later.
const FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
/// Tests only: a loopback server that receives the deferred answers instead of Slack/Discord.
const HTTP_ENDPOINT: &str = "COSTWATCH_HTTP_ENDPOINT";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    costwatch_lambda::logging::init();
    let aws = Aws::load(Env::from_process()).await;
    let api = Arc::new(api(&aws, Deliveries::None).await?);
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
