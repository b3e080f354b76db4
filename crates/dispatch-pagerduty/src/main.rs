//! The PagerDuty dispatcher Lambda (SQS → Events API v2): everything is in costwatch-dispatch's
//! `lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_pagerduty::PagerDuty>().await
}
