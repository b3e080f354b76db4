//! The forecast Lambda (SNS `AggregatesUpdated`; budgets too): thin — settings and clients built
//! once, on the first event, then the handler.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::forecast::{ForecastPorts, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "forecast",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let cfg = aws.config_source()?;
            let ports = (aws.rollups()?, aws.state()?, aws.notifications()?);
            let deps = (cfg, ports, aws.pipeline_events()?);
            Ok::<_, lambda_runtime::Error>((deps, aws.dead_letters()?))
        },
        |(cfg, (rollups, state, bus), events), event| async move {
            let ports = ForecastPorts {
                rollups,
                state,
                bus,
                events,
            };
            handle(&ports, &*cfg.current().await?, event, chrono::Utc::now()).await
        },
    )
    .await
}
