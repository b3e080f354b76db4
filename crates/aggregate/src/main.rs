//! The aggregate Lambda (SNS `CostDataCollected`): thin — settings, clients once, the runtime loop.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::aggregate::{AggregatePorts, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = Aws::load(Env::from_process()).await;
    let cfg = aws.env.pipeline_config()?;
    let (lake, rollups, state) = (aws.lake()?, aws.rollups()?, aws.state()?);
    let events = aws.pipeline_events()?;
    let dead_letters = aws.dead_letters()?;
    let ports = AggregatePorts {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        events: &events,
    };
    costwatch_lambda::serve("aggregate", &dead_letters, |event| {
        handle(&ports, &cfg, event)
    })
    .await
}
