//! The resources of template.yaml that the pipeline functions touch, created on a moto server:
//! the lake bucket, the state table (`pk`/`sk` strings, as in the template), the pipeline and
//! notifications topics and the dead-letter queue — plus what a test needs to watch them:
//! SQS queues subscribed to a topic, drained without waiting on wall-clock time.

use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::{aws_sdk_dynamodb, aws_sdk_s3, aws_sdk_sns};

pub const BUCKET: &str = "costwatch-lake";
pub const TABLE: &str = "costwatch-state";

pub struct Stack {
    pub config: SdkConfig,
    pub pipeline_topic_arn: String,
    pub notifications_topic_arn: String,
    pub dead_letter_queue_url: String,
}

pub async fn create_bucket(config: &SdkConfig) {
    s3(config)
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
}

/// The StateTable of template.yaml, with its index.
pub async fn create_table(config: &SdkConfig) {
    let client = aws_sdk_dynamodb::Client::new(config);
    costwatch_store::aws::create_state_table(&client, TABLE)
        .unwrap()
        .send()
        .await
        .unwrap();
}

/// An S3 client that works against an emulator's single host name.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

impl Stack {
    pub async fn create(config: &SdkConfig) -> Stack {
        create_bucket(config).await;
        create_table(config).await;
        let sns = aws_sdk_sns::Client::new(config);
        let topic = |name: &'static str| {
            let sns = sns.clone();
            async move {
                sns.create_topic()
                    .name(name)
                    .send()
                    .await
                    .unwrap()
                    .topic_arn
                    .unwrap()
            }
        };
        let pipeline_topic_arn = topic("costwatch-pipeline").await;
        let notifications_topic_arn = topic("costwatch-notifications").await;
        let dead_letter_queue_url = create_queue(config, "costwatch-pipeline-dlq").await;
        Stack {
            config: config.clone(),
            pipeline_topic_arn,
            notifications_topic_arn,
            dead_letter_queue_url,
        }
    }

    /// The environment template.yaml gives the functions, for this stack.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("COSTWATCH_BUCKET", BUCKET.to_owned()),
            ("COSTWATCH_TABLE", TABLE.to_owned()),
            (
                "COSTWATCH_PIPELINE_TOPIC_ARN",
                self.pipeline_topic_arn.clone(),
            ),
            (
                "COSTWATCH_NOTIFICATIONS_TOPIC_ARN",
                self.notifications_topic_arn.clone(),
            ),
            (
                "COSTWATCH_DEAD_LETTER_QUEUE_URL",
                self.dead_letter_queue_url.clone(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A queue subscribed to `topic_arn` with raw delivery (the body is the message itself) and
    /// an optional filter policy, as the integration queues of template.yaml are.
    pub async fn subscribe_queue(
        &self,
        topic_arn: &str,
        name: &str,
        filter_policy: Option<&str>,
    ) -> String {
        let url = create_queue(&self.config, name).await;
        let arn = aws_sdk_sqs::Client::new(&self.config)
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()
            .remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .unwrap();
        let mut subscribe = aws_sdk_sns::Client::new(&self.config)
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("RawMessageDelivery", "true");
        if let Some(policy) = filter_policy {
            subscribe = subscribe.attributes("FilterPolicy", policy);
        }
        subscribe.send().await.unwrap();
        url
    }
}

pub async fn create_queue(config: &SdkConfig, name: &str) -> String {
    aws_sdk_sqs::Client::new(config)
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// One message taken off a queue.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: String,
    pub attributes: std::collections::HashMap<String, String>,
}

/// Every message on the queue now, deleted as read. moto delivers SNS → SQS inside Publish, so
/// what a handler published is already there when it returns: an empty receive means empty.
pub async fn drain(config: &SdkConfig, queue_url: &str) -> Vec<Received> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            let attributes = m
                .message_attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.string_value?)))
                .collect();
            out.push(Received {
                body: m.body.clone().unwrap_or_default(),
                attributes,
            });
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}
