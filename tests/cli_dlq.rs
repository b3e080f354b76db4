//! `costwatch dlq redrive` on moto with the real SDK (CloudFormation, SQS, SNS): the stack's
//! dead-letter queues hold what the dispatcher and the pipeline put there (reasons in the same
//! attributes and bodies); a dry run shows each with its reason and changes nothing; `--max` is
//! respected; envelopes go back to their integration queue and a pipeline event to its topic; a
//! scheduled event, which has no queue or topic to go back to, is reported and stays. Then the
//! real dispatcher handles the integration queue: an envelope redriven twice (a copy left in
//! the DLQ by a redrive that could not delete it) reaches Slack once — the delivery ledger.

#[path = "support/cfn_stack.rs"]
mod cfn_stack;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use cfn_stack::{Shape, costwatch_on, output};
use chrono::Utc;
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_store::memory::MemoryState;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::stack::drain;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::slack::FakeSlack;
use serde_json::{Value, json};

fn attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}

/// Sends `body` to `queue` with String attributes, as the dead-letter writers do.
async fn put(sqs: &aws_sdk_sqs::Client, queue: &str, body: &str, attributes: &[(&str, &str)]) {
    let mut send = sqs.send_message().queue_url(queue).message_body(body);
    for (k, v) in attributes {
        send = send.message_attributes(*k, attribute(v));
    }
    send.send().await.unwrap();
}

async fn depth(sqs: &aws_sdk_sqs::Client, queue: &str) -> u64 {
    sqs.get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::ApproximateNumberOfMessages]
        .parse()
        .unwrap()
}

fn envelope(id: &str) -> String {
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.id = id.to_owned();
    n.subject_id = format!("subject-{id}");
    serde_json::to_string(&n).unwrap()
}

async fn redrive(moto: &Moto, dir: &std::path::Path, flags: &[&str]) -> Value {
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir, &moto.url());
        c.args(["--json", "dlq", "redrive"]).args(flags);
        c
    })
    .await;
    assert!(ok, "{flags:?}\n{stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

fn row<'a>(report: &'a Value, subject: &str) -> Vec<&'a Value> {
    report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().contains(subject))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_sends_back_what_has_a_source_once_and_reports_the_rest() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let outputs = cfn_stack::create(
        &sdk,
        "costwatch",
        &Shape {
            integrations: &["Slack"],
            without: &[],
            pipeline_config_key: None,
            parameters: &[],
        },
    )
    .await;
    let out = |k: &str| outputs[k].as_str().unwrap().to_owned();
    let (slack_queue, slack_dlq) = (out("SlackQueueUrl"), out("SlackDeadLetterQueueUrl"));
    let (pipeline_topic, pipeline_dlq) =
        (out("PipelineTopicArn"), out("PipelineDeadLetterQueueUrl"));
    // Who listens on the pipeline topic: detect's subscription, as a queue.
    let watcher = costwatch_testkit::stack::Stack {
        config: sdk.clone(),
        pipeline_topic_arn: pipeline_topic.clone(),
        notifications_topic_arn: out("NotificationsTopicArn"),
        dead_letter_queue_url: pipeline_dlq.clone(),
    };
    let detect = watcher
        .subscribe_queue(
            &pipeline_topic,
            "detect",
            Some(r#"{"event": ["AggregatesUpdated"]}"#),
        )
        .await;

    // The Slack DLQ: two envelopes the dispatcher gave up on (its attributes), one the queue's
    // redrive policy moved (the SNS attributes it came with, no reason), and a second copy of
    // the first.
    let given_up = [("ErrorCode", "Rejected"), ("Function", "slack")];
    let e1 = envelope("anomaly:e1");
    put(
        &sqs,
        &slack_dlq,
        &e1,
        &[
            given_up[0],
            given_up[1],
            ("ErrorMessage", "finops: gave up after 5 receives: 500"),
        ],
    )
    .await;
    put(
        &sqs,
        &slack_dlq,
        &envelope("anomaly:e2"),
        &[("kind", "anomaly"), ("severity", "high")],
    )
    .await;
    put(
        &sqs,
        &slack_dlq,
        &envelope("anomaly:e3"),
        &[
            given_up[0],
            given_up[1],
            ("ErrorMessage", "finops: 404 channel_not_found"),
        ],
    )
    .await;
    put(
        &sqs,
        &slack_dlq,
        &e1,
        &[
            given_up[0],
            given_up[1],
            ("ErrorMessage", "finops: gave up after 5 receives: 500"),
        ],
    )
    .await;
    // The pipeline DLQ: detect's own dead letter of an SNS event, and Lambda's DLQ copy of a
    // scheduled collect that timed out.
    let message =
        json!({"event": "AggregatesUpdated", "days": ["2026-03-01"], "as_of": "2026-03-01"})
            .to_string();
    let sns_event = json!({"Records": [{"EventSource": "aws:sns", "Sns": {
        "TopicArn": pipeline_topic, "Message": message, "MessageId": "m-1",
        "MessageAttributes": {"event": {"Type": "String", "Value": "AggregatesUpdated"}}}}]});
    let letter =
        json!({"function": "detect", "reason": "DynamoDB throttled for 120 s", "event": sns_event});
    put(
        &sqs,
        &pipeline_dlq,
        &letter.to_string(),
        &[
            ("ErrorCode", "Rejected"),
            ("ErrorMessage", "DynamoDB throttled for 120 s"),
            ("Function", "detect"),
        ],
    )
    .await;
    let schedule = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    put(
        &sqs,
        &pipeline_dlq,
        &schedule.to_string(),
        &[
            ("ErrorCode", "200"),
            ("ErrorMessage", "Task timed out after 300.00 seconds"),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    // A dry run: every letter with its reason and destination; nothing moves.
    let dry = redrive(&moto, dir.path(), &["--dry-run"]).await;
    assert_eq!(dry["would_redrive"], 5, "{dry}");
    assert_eq!(dry["left"], 1, "{dry}");
    assert_eq!(dry["redriven"], 0, "{dry}");
    let e1_rows = row(&dry, "anomaly:e1");
    assert_eq!(e1_rows.len(), 2, "{dry}");
    assert_eq!(
        e1_rows[0]["reason"],
        "finops: gave up after 5 receives: 500"
    );
    assert_eq!(e1_rows[0]["to"], slack_queue.as_str());
    assert_eq!(e1_rows[0]["action"], "would_redrive");
    assert!(
        row(&dry, "anomaly:e2")[0]["reason"]
            .as_str()
            .unwrap()
            .contains("redrive policy")
    );
    let event = &row(&dry, "AggregatesUpdated")[0];
    assert_eq!(event["reason"], "DynamoDB throttled for 120 s");
    assert_eq!(event["function"], "detect");
    assert_eq!(event["to"], pipeline_topic.as_str());
    let scheduled = &row(&dry, "Scheduled Event")[0];
    assert_eq!(scheduled["action"], "left");
    assert_eq!(
        scheduled["reason"],
        "Task timed out after 300.00 seconds (error code 200)"
    );
    assert!(
        scheduled["error"]
            .as_str()
            .unwrap()
            .contains("no known source"),
        "{scheduled}"
    );
    for (queue, n) in [
        (&slack_dlq, 4),
        (&pipeline_dlq, 2),
        (&slack_queue, 0),
        (&detect, 0),
    ] {
        assert_eq!(depth(&sqs, queue).await, n, "{queue} after the dry run");
    }
    // The text form says the same to a person.
    let (ok, text, _) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["dlq", "redrive", "--dry-run", "--integration", "pipeline"]);
        c
    })
    .await;
    assert!(ok, "{text}");
    assert!(
        text.contains("reason: DynamoDB throttled for 120 s"),
        "{text}"
    );
    assert!(
        text.contains("dry run: 1 would be sent back, 1 have no known source; nothing changed"),
        "{text}"
    );

    // --max 2 on Slack's DLQ: two go back, two stay, the pipeline's untouched.
    let first = redrive(&moto, dir.path(), &["--integration", "slack", "--max", "2"]).await;
    assert_eq!(first["redriven"], 2, "{first}");
    for (queue, n) in [(&slack_dlq, 2), (&slack_queue, 2), (&pipeline_dlq, 2)] {
        assert_eq!(depth(&sqs, queue).await, n, "{queue} after --max 2");
    }
    // Everything else: the rest of Slack's and the pipeline event; the schedule stays.
    let rest = redrive(&moto, dir.path(), &[]).await;
    assert_eq!(rest["redriven"], 3, "{rest}");
    assert_eq!(rest["left"], 1, "{rest}");
    for (queue, n) in [(&slack_dlq, 0), (&slack_queue, 4), (&pipeline_dlq, 1)] {
        assert_eq!(depth(&sqs, queue).await, n, "{queue} after the redrive");
    }
    let republished = drain(&sdk, &detect).await;
    assert_eq!(republished.len(), 1);
    assert_eq!(republished[0].body, message);
    assert_eq!(republished[0].attributes["event"], "AggregatesUpdated");

    // The real dispatcher on Slack's queue, one message a batch as they come: e1 twice, e2, e3.
    let requeued = drain(&sdk, &slack_queue).await;
    assert_eq!(requeued.len(), 4);
    for m in &requeued {
        assert!(
            !m.attributes.contains_key("ErrorMessage"),
            "{:?}",
            m.attributes
        );
    }
    assert!(
        requeued
            .iter()
            .any(|m| m.attributes.get("severity").map(String::as_str) == Some("high"))
    );
    let slack = Arc::new(FakeSlack::new().with_webhook("/services/T1/B1/redrive", "C0FINOPS"));
    let fake = FakeServer::start(slack.clone()).await;
    let configured = costwatch_dispatch::entry::<costwatch_dispatch_slack::Slack>()
        .load(json!({"destinations": {"finops": {
            "webhook_url": "https://hooks.slack.com/services/T1/B1/redrive"}}}))
        .unwrap();
    let state = MemoryState::default();
    let dispatcher = Dispatcher::builder(configured, &state)
        .endpoint(Some(url::Url::parse(&fake.url()).unwrap()))
        .build()
        .await
        .unwrap();
    let queue = MemoryQueue::default();
    for (i, m) in requeued.iter().enumerate() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let event = event_of(&[(format!("m{i}"), m.body.clone(), 1)]);
        let response = handle_batch(&dispatcher, &queue, &event, 5, Utc::now(), deadline).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
    }
    assert!(queue.dead.lock().unwrap().is_empty());
    let delivered = slack.messages();
    assert_eq!(delivered.len(), 3, "e1 once, e2, e3: {delivered:?}");
}

/// Without credentials `dlq redrive` says what to set before its first request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_without_credentials_says_so_before_any_request() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .args(["dlq", "redrive", "--dry-run"]);
        c
    })
    .await;
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no AWS credentials for the stack's queues")
            && stderr.contains("--profile"),
        "{stderr}"
    );
}
