//! The Zapier dispatcher Lambda (SQS → a catch hook): everything is in costwatch-dispatch's
//! `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_zapier::Zapier>().await
}
