//! The aggregate Lambda (SNS `CostDataCollected`): thin — settings and clients built once, on the
//! first event, then the handler.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::aggregate::{AggregatePorts, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "aggregate",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let cfg = aws.config_source()?;
            let ports = (aws.lake()?, aws.rollups()?, aws.state()?);
            let deps = (cfg, ports, aws.pipeline_events()?);
            Ok::<_, lambda_runtime::Error>((deps, aws.dead_letters()?))
        },
        |(cfg, (lake, rollups, state), events), event| async move {
            let ports = AggregatePorts {
                lake,
                rollups,
                state,
                events,
            };
            handle(&ports, &*cfg.current().await?, event).await
        },
    )
    .await
}
