//! The api Lambda behind the Function URL (HTTP API payload 2.0): thin — settings, clients once,
//! the same router `costwatch serve` runs, handed to lambda_http as a tower service. The chat
//! function is the crate's other binary (src/bin/chat.rs).
//!
//! Auth: the Function URL's AWS_IAM auth (template.yaml) lets in only signed callers. With
//! `COSTWATCH_API_TOKEN_SECRET` set, the function also demands a bearer token equal to that
//! Secrets Manager secret (for a front such as an HTTP API that passes bearer clients through).

use std::sync::Arc;

use costwatch_api::lambda_setup::{Deliveries, api};
use costwatch_api::router;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    costwatch_lambda::logging::init();
    let aws = Aws::load(Env::from_process()).await;
    let api = api(&aws, Deliveries::FromEnvironment).await?;
    lambda_http::run(router(Arc::new(api))).await
}
