//! The detect Lambda (SNS `AggregatesUpdated`): thin — settings, clients once, the runtime loop.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::detect::{Import, handle, import_requests};
use costwatch_pipeline::Ports;
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = Aws::load(Env::from_process()).await;
    let cfg = aws.env.pipeline_config()?;
    let (lake, rollups, state) = (aws.lake()?, aws.rollups()?, aws.state()?);
    let bus = aws.notifications()?;
    let done = aws.pipeline_events()?;
    let dead_letters = aws.dead_letters()?;
    // The Cost Explorer client only when the import is on: GetAnomalies is its only use here.
    let max_requests = import_requests(&aws.env)?;
    let source = match max_requests {
        Some(_) => Some(CostExplorerSource::new(
            &aws.config,
            CostExplorerOptions::default(),
        )?),
        None => None,
    };
    let import = source
        .as_ref()
        .zip(max_requests)
        .map(|(source, max_requests)| Import {
            source,
            max_requests,
        });
    let ports = Ports {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        bus: &bus,
    };
    costwatch_lambda::serve("detect", &dead_letters, |event| {
        handle(
            &ports,
            &cfg,
            import.as_ref(),
            &done,
            event,
            chrono::Utc::now(),
        )
    })
    .await
}
