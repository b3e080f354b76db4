//! The forecast Lambda (SNS `AggregatesUpdated`; budgets too): thin — settings, clients once,
//! the runtime loop.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::forecast::{ForecastPorts, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = Aws::load(Env::from_process()).await;
    let cfg = aws.env.pipeline_config()?;
    let (rollups, state) = (aws.rollups()?, aws.state()?);
    let bus = aws.notifications()?;
    let events = aws.pipeline_events()?;
    let dead_letters = aws.dead_letters()?;
    let ports = ForecastPorts {
        rollups: &rollups,
        state: &state,
        bus: &bus,
        events: &events,
    };
    costwatch_lambda::serve("forecast", &dead_letters, |event| {
        handle(&ports, &cfg, event, chrono::Utc::now())
    })
    .await
}
