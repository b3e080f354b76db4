//! The Google Analytics 4 dispatcher Lambda (SQS → GA4): everything is in costwatch-dispatch's `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_ga4::Ga4>().await
}
