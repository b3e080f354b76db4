//! The recommend Lambda (weekly EventBridge schedule): thin — settings and clients built once, on
//! the first event, then the handler. Cost Optimization Hub and Cost Explorer clients exist only
//! when turned on.

use costwatch_core::recommend::Source;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::recommend::{handle, settings};
use costwatch_pipeline::recommend::External;
use costwatch_store::aws::{CeRecommendations, CostOptimizationHub, RetryPolicy};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "recommend",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let settings = (aws.env.pipeline_config()?, settings(&aws.env)?);
            let hub = (settings.1.optimization_hub)
                .then(|| CostOptimizationHub::new(&aws.config, RetryPolicy::default()));
            let ce = (settings.1.cost_explorer)
                .then(|| CeRecommendations::new(&aws.config, RetryPolicy::default()));
            let ports = (aws.lake()?, aws.state()?, aws.notifications()?);
            Ok::<_, lambda_runtime::Error>(((settings, hub, ce, ports), aws.dead_letters()?))
        },
        |((cfg, settings), hub, ce, (lake, state, bus)), event| async move {
            let mut external = Vec::new();
            if let Some(hub) = hub {
                external.push(External {
                    name: "cost_optimization_hub",
                    produces: &[Source::CostOptimizationHub],
                    source: hub,
                });
            }
            if let Some(ce) = ce {
                external.push(External {
                    name: "cost_explorer",
                    produces: &[
                        Source::CeRightsizing,
                        Source::CeSavingsPlans,
                        Source::CeReservations,
                    ],
                    source: ce,
                });
            }
            handle(lake, state, bus, cfg, settings, &external, event).await
        },
    )
    .await
}
