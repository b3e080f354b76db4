//! The custom-webhook dispatcher Lambda (SQS → your receiver): everything is in
//! costwatch-dispatch's `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_webhook::Webhook>().await
}
