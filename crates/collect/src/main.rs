//! The collect Lambda (EventBridge schedule): thin — settings and clients built once, on the first
//! event, then the handler. The cost source (Cost Explorer or Data Exports through Athena) is
//! chosen by the environment.

use costwatch_lambda::athena::{AthenaNames, export_table};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::collect::{
    BILLING_ACCOUNT_ID, COST_CATEGORIES, CollectPorts, DataExportsPorts, SourceChoice, TAG_KEYS,
    handle, handle_data_exports, settings, source_choice,
};
use costwatch_query::ExportTable;
use costwatch_query::athena::AthenaEngine;
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};

/// The source built for the container's life.
enum Source {
    CostExplorer(
        costwatch_pipeline::incremental::CollectSettings,
        Box<CostExplorerSource>,
    ),
    DataExports(Box<AthenaEngine>, ExportTable),
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "collect",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let source = match source_choice(&aws.env)? {
                SourceChoice::CostExplorer => {
                    let settings = settings(&aws.env)?;
                    let mut options = CostExplorerOptions {
                        tag_keys: aws.env.list(TAG_KEYS),
                        cost_categories: aws.env.list(COST_CATEGORIES),
                        ..CostExplorerOptions::default()
                    };
                    if let Some(account) = aws.env.optional(BILLING_ACCOUNT_ID) {
                        options.billing_account_id = account.to_owned();
                    }
                    let source = CostExplorerSource::new(&aws.config, options)?;
                    Source::CostExplorer(settings, Box::new(source))
                }
                SourceChoice::DataExports(AthenaNames {
                    workgroup,
                    database,
                    table,
                }) => {
                    let engine = AthenaEngine::connect(&aws.config, workgroup, database);
                    Source::DataExports(Box::new(engine), export_table(&aws.env, &table))
                }
            };
            let ports = (source, aws.lake()?, aws.state()?, aws.pipeline_events()?);
            Ok::<_, lambda_runtime::Error>((ports, aws.dead_letters()?))
        },
        |(source, lake, state, events), event| async move {
            let now = chrono::Utc::now();
            match source {
                Source::CostExplorer(settings, source) => {
                    let ports = CollectPorts {
                        source: source.as_ref(),
                        lake,
                        state,
                        events,
                    };
                    handle(&ports, settings, event, now)
                        .await
                        .map(|o| serde_json::to_value(o).unwrap_or_default())
                }
                Source::DataExports(engine, table) => {
                    let ports = DataExportsPorts {
                        engine: engine.as_ref(),
                        table,
                        lake,
                        state,
                        events,
                    };
                    handle_data_exports(&ports, event, now)
                        .await
                        .map(|o| serde_json::to_value(o).unwrap_or_default())
                }
            }
        },
    )
    .await
}
