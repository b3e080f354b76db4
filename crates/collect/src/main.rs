//! The collect Lambda (EventBridge schedule): thin — settings and clients built once, on the first
//! event, then the handler.

use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::collect::{
    BILLING_ACCOUNT_ID, COST_CATEGORIES, CollectPorts, TAG_KEYS, handle, settings,
};
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_lambda::logging::init();
    costwatch_lambda::serve(
        "collect",
        || async {
            let aws = Aws::load(Env::from_process()).await;
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
            let ports = (source, aws.lake()?, aws.state()?, aws.pipeline_events()?);
            Ok::<_, lambda_runtime::Error>(((settings, ports), aws.dead_letters()?))
        },
        |(settings, (source, lake, state, events)), event| async move {
            let ports = CollectPorts {
                source,
                lake,
                state,
                events,
            };
            handle(&ports, settings, event, chrono::Utc::now()).await
        },
    )
    .await
}
