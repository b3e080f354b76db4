//! The Mixpanel dispatcher Lambda (SQS → Mixpanel): everything is in costwatch-dispatch's `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_mixpanel::Mixpanel>().await
}
