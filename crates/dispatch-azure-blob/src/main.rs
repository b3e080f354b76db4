//! The Azure Blob archive Lambda (SQS → Azure Blob Storage): everything is in costwatch-dispatch's
//! `lambda`; the lake bucket comes from `COSTWATCH_BUCKET`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    costwatch_dispatch::lambda::run::<costwatch_dispatch_azure_blob::AzureBlob>().await
}
