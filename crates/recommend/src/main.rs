//! The recommend Lambda (weekly EventBridge schedule): thin — settings, clients once, the
//! runtime loop. Cost Optimization Hub and Cost Explorer clients exist only when turned on.

use costwatch_core::recommend::Source;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::recommend::{handle, settings};
use costwatch_pipeline::recommend::External;
use costwatch_store::aws::{CeRecommendations, CostOptimizationHub, RetryPolicy};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = Aws::load(Env::from_process()).await;
    let cfg = aws.env.pipeline_config()?;
    let settings = settings(&aws.env)?;
    let (lake, state, bus) = (aws.lake()?, aws.state()?, aws.notifications()?);
    let dead_letters = aws.dead_letters()?;
    let hub = settings
        .optimization_hub
        .then(|| CostOptimizationHub::new(&aws.config, RetryPolicy::default()));
    let ce = settings
        .cost_explorer
        .then(|| CeRecommendations::new(&aws.config, RetryPolicy::default()));
    let mut external = Vec::new();
    if let Some(hub) = &hub {
        external.push(External {
            name: "cost_optimization_hub",
            produces: &[Source::CostOptimizationHub],
            source: hub,
        });
    }
    if let Some(ce) = &ce {
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
    costwatch_lambda::serve("recommend", &dead_letters, |event| {
        handle(&lake, &state, &bus, &cfg, &settings, &external, event)
    })
    .await
}
