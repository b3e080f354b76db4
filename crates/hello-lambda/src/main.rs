//! Hello world on `lambda_runtime`: answers every event with itself. `costwatch bench
//! coldstart` sets each costwatch Lambda's cold start beside this one's, both built with the
//! workspace's release profile, so the ratio says what costwatch's own start-up costs.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
