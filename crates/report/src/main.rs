//! The report Lambda (EventBridge schedules, `{"period": "daily" | "weekly"}`): thin — settings and
//! clients built once, on the first event, then the handler.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::report::handle;
use costwatch_pipeline::Ports;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "report",
        || async {
            let aws = Aws::load(Env::from_process()).await;
            let cfg = aws.config_source()?;
            let ports = (
                aws.lake()?,
                aws.rollups()?,
                aws.state()?,
                aws.notifications()?,
            );
            Ok::<_, lambda_runtime::Error>(((cfg, ports), aws.dead_letters()?))
        },
        |(cfg, (lake, rollups, state, bus)), event| async move {
            let ports = Ports {
                lake,
                rollups,
                state,
                bus,
            };
            handle(
                &ports,
                lake,
                &*cfg.current().await?,
                event,
                chrono::Utc::now(),
            )
            .await
        },
    )
    .await
}
