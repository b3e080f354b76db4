//! The recommend Lambda (weekly EventBridge schedule): thin — settings and clients built once, on
//! the first event, then the handler. The Athena client exists only with a CUR (CurPrefix), the
//! Cost Optimization Hub and Cost Explorer clients only when turned on.

use std::sync::Arc;

use costwatch_core::recommend::Source;
use costwatch_lambda::athena::export_table;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::recommend::{handle, rule_tag_keys, settings};
use costwatch_pipeline::recommend::External;
use costwatch_pipeline::resource_causes::ExportLines;
use costwatch_query::athena::AthenaEngine;
use costwatch_store::aws::{CeRecommendations, CostOptimizationHub, RetryPolicy};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "recommend",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let settings = (aws.config_source()?, settings(&aws.env)?);
            let hub = (settings.1.optimization_hub)
                .then(|| CostOptimizationHub::new(&aws.config, RetryPolicy::default()));
            let ce = (settings.1.cost_explorer)
                .then(|| CeRecommendations::new(&aws.config, RetryPolicy::default()));
            let cur = settings.1.cur.as_ref().map(|names| {
                let engine = AthenaEngine::connect(&aws.config, &names.workgroup, &names.database);
                ExportLines::new(
                    Arc::new(engine),
                    export_table(&aws.env, &names.table),
                    rule_tag_keys(&aws.env),
                )
            });
            let ports = (aws.state()?, aws.notifications()?);
            Ok::<_, lambda_runtime::Error>(((settings, cur, hub, ce, ports), aws.dead_letters()?))
        },
        |((cfg, settings), cur, hub, ce, (state, bus)), event| async move {
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
            let cfg = cfg.current().await?;
            handle(state, bus, &cfg, settings, cur.as_ref(), &external, event).await
        },
    )
    .await
}
