//! The Discord dispatcher Lambda (SQS → Discord): everything is in costwatch-dispatch's `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_discord::Discord>().await
}
