//! The metrics Lambda (EventBridge schedule): thin — settings, clients once, the runtime loop.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::metrics::{handle, settings};
use costwatch_pipeline::detect::LifecyclePorts;
use costwatch_pipeline::metrics::MetricsPorts;
use costwatch_store::aws::CloudWatchMetrics;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = Aws::load(Env::from_process()).await;
    let cfg = aws.env.pipeline_config()?;
    let settings = settings(&aws.env)?;
    let source = CloudWatchMetrics::new(&aws.config);
    let (lake, state) = (aws.lake()?, aws.state()?);
    let bus = aws.notifications()?;
    let dead_letters = aws.dead_letters()?;
    let ports = MetricsPorts {
        source: &source,
        store: &lake,
        lifecycle: LifecyclePorts {
            lake: None,
            state: &state,
            bus: &bus,
        },
    };
    costwatch_lambda::serve("metrics", &dead_letters, |event| {
        handle(&ports, &cfg, &settings, event)
    })
    .await
}
