//! The report Lambda (EventBridge schedules, `{"period": "daily" | "weekly"}`): thin —
//! settings, clients once, the runtime loop.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::report::handle;
use costwatch_pipeline::Ports;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = Aws::load(Env::from_process()).await;
    let cfg = aws.env.pipeline_config()?;
    let (lake, rollups, state) = (aws.lake()?, aws.rollups()?, aws.state()?);
    let bus = aws.notifications()?;
    let dead_letters = aws.dead_letters()?;
    let ports = Ports {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        bus: &bus,
    };
    costwatch_lambda::serve("report", &dead_letters, |event| {
        handle(&ports, &lake, &cfg, event, chrono::Utc::now())
    })
    .await
}
