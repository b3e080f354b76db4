//! The Amplitude dispatcher Lambda (SQS → Amplitude): everything is in costwatch-dispatch's `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_amplitude::Amplitude>().await
}
