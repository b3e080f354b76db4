//! Dead-letter queue depth on AWS: SQS `GetQueueAttributes` for `ApproximateNumberOfMessages`
//! on each configured integration's DLQ (the api function's `COSTWATCH_INTEGRATION_DLQS`). One
//! call per configured integration per request; the function's role may call it on those
//! queues and nothing else.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use costwatch_store::aws::aws_error;
use costwatch_store::aws::sdk::aws_config::SdkConfig;

use crate::deliveries::QueueDepth;

pub struct SqsQueueDepth {
    client: Client,
    /// Integration name → its dead-letter queue URL; `None` when the function was not told.
    urls: Option<BTreeMap<String, String>>,
}

impl SqsQueueDepth {
    pub fn new(config: &SdkConfig, urls: Option<BTreeMap<String, String>>) -> Self {
        Self {
            client: Client::new(config),
            urls,
        }
    }
}

#[async_trait]
impl QueueDepth for SqsQueueDepth {
    async fn depth(&self, integration: &str) -> Result<Option<u64>, String> {
        let Some(url) = self.urls.as_ref().and_then(|u| u.get(integration)) else {
            return Ok(None);
        };
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| aws_error("SQS GetQueueAttributes", e).to_string())?;
        let count = answer
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .ok_or("SQS GetQueueAttributes: no ApproximateNumberOfMessages in the answer")?;
        count
            .parse()
            .map(Some)
            .map_err(|_| format!("SQS GetQueueAttributes: `{count}` is not a count"))
    }

    fn why_none(&self, _integration: &str) -> String {
        match self.urls {
            Some(_) => "not deployed: the stack has no dispatcher, so no dead-letter queue, for it",
            None => "the api function is not told the dead-letter queues (COSTWATCH_INTEGRATION_DLQS unset)",
        }
        .to_owned()
    }
}
