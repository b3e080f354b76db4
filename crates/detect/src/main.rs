//! The detect Lambda (SNS `AggregatesUpdated`): thin — settings and clients built once, on the
//! first event, then the handler. With a Data Export as the cost source it also queries Athena
//! for each anomaly's resources.

use std::sync::Arc;

use costwatch_lambda::athena::{AthenaNames, export_table};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::collect::{SourceChoice, source_choice};
use costwatch_lambda::handlers::detect::{Import, handle, import_requests, owner_tag_keys};
use costwatch_pipeline::Ports;
use costwatch_pipeline::resource_causes::ExportLines;
use costwatch_query::athena::AthenaEngine;
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "detect",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let cfg = aws.config_source()?;
            // The Cost Explorer client only when the import is on: GetAnomalies is its only use.
            let import = match import_requests(&aws.env)? {
                Some(max_requests) => Some((
                    CostExplorerSource::new(&aws.config, CostExplorerOptions::default())?,
                    max_requests,
                )),
                None => None,
            };
            // Athena only when the cost source is a Data Export: resource-level root cause.
            let resources = match source_choice(&aws.env)? {
                SourceChoice::CostExplorer => None,
                SourceChoice::DataExports(AthenaNames {
                    workgroup,
                    database,
                    table,
                }) => {
                    let engine = AthenaEngine::connect(&aws.config, workgroup, database);
                    Some(ExportLines::new(
                        Arc::new(engine),
                        export_table(&aws.env, &table),
                        owner_tag_keys(&aws.env),
                    ))
                }
            };
            let ports = (
                aws.lake()?,
                aws.rollups()?,
                aws.state()?,
                aws.notifications()?,
            );
            let deps = (cfg, import, resources, ports, aws.pipeline_events()?);
            Ok::<_, lambda_runtime::Error>((deps, aws.dead_letters()?))
        },
        |(cfg, import, resources, (lake, rollups, state, bus), done), event| async move {
            let ports = Ports {
                lake,
                rollups,
                state,
                bus,
            };
            let import = import.as_ref().map(|(source, max_requests)| Import {
                source,
                max_requests: *max_requests,
            });
            handle(
                &ports,
                &*cfg.current().await?,
                import.as_ref(),
                resources.as_ref(),
                done,
                event,
                chrono::Utc::now(),
            )
            .await
        },
    )
    .await
}
