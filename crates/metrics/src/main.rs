//! The metrics Lambda (EventBridge schedule): thin — settings and clients built once, on the first
//! event, then the handler.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::metrics::{handle, settings};
use costwatch_pipeline::detect::LifecyclePorts;
use costwatch_pipeline::metrics::MetricsPorts;
use costwatch_store::aws::CloudWatchMetrics;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "metrics",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let settings = (aws.config_source()?, settings(&aws.env)?);
            let source = CloudWatchMetrics::new(&aws.config);
            let ports = (source, aws.lake()?, aws.state()?, aws.notifications()?);
            Ok::<_, lambda_runtime::Error>(((settings, ports), aws.dead_letters()?))
        },
        |((cfg, settings), (source, lake, state, bus)), event| async move {
            let ports = MetricsPorts {
                source,
                store: lake,
                lifecycle: LifecyclePorts {
                    lake: None,
                    state,
                    bus,
                    resources: None,
                },
            };
            handle(&ports, &*cfg.current().await?, settings, event).await
        },
    )
    .await
}
