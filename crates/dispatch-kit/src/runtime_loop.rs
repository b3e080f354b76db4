//! A dispatcher's built binary as template.yaml deploys it, under the Runtime API emulator
//! (`costwatch_testkit::runtime_api`): its queue, dead-letter queue and the state table on moto,
//! its credentials in Secrets Manager, its vendor's fake reached through the Lambda's loopback-only
//! `COSTWATCH_HTTP_ENDPOINT`. One invocation each, checked as the event source mapping and the
//! template would see it:
//!
//! 1. events/dispatch-<name>/sqs.json as it is: no `batchItemFailures`, nothing dead-lettered,
//!    the vendor accepted requests, every envelope `sent` in the ledger;
//! 2. a message that is not an envelope: not given back, on the DLQ with its reason;
//! 3. the vendor answering 500 to everything: the message given back in `batchItemFailures`
//!    (SQS redelivers it);
//! 4. the same message on its last receive (`maxReceiveCount`): on the DLQ with the vendor's
//!    status as its reason, not given back.
//!
//! The credentials never appear in what the function printed. An integration's
//! `tests/runtime_loop.rs` is one [`check`] call.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::AttributeValue;
use costwatch_store::aws::sdk::{aws_sdk_dynamodb, aws_sdk_secretsmanager};
use costwatch_testkit::deployed::moto_env;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::runtime_api::{Function, Outcome, RuntimeApi};
use costwatch_testkit::stack::{Received, TABLE, create_queue, create_table, drain};
use costwatch_vendor_fakes::server::{FakeServer, Received as Request, Reply, Vendor};
use serde_json::{Value, json};

/// A cold start (config, secrets, SDK clients) and a batch with retries on a loaded machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// One dispatcher binary and what it needs.
pub struct Deployment {
    /// The integration's name: its events/dispatch-<name>/ sample, its queues' names.
    pub integration: &'static str,
    /// `env!("CARGO_BIN_EXE_dispatch-<name>")`.
    pub binary: &'static str,
    /// Its config table with the credentials inline, as the conformance suite writes it; every
    /// string holding one of `secrets` is moved to Secrets Manager and referenced, as on AWS.
    pub config: Value,
    /// Substrings of the credentials, which must never be printed.
    pub secrets: &'static [&'static str],
    /// The vendor's fake, accepting the config's credentials.
    pub fake: Arc<dyn Vendor>,
}

/// Runs the four invocations of the module docs.
pub fn check(deployment: Deployment) {
    crate::run(checks(deployment));
}

/// The fake, or a 500 for every request while `failing` is set (as a vendor outage answers).
struct Outage {
    inner: Arc<dyn Vendor>,
    failing: AtomicBool,
}

impl Vendor for Outage {
    fn handle(&self, request: &Request, base: &str) -> Reply {
        if self.failing.load(Ordering::SeqCst) {
            return Reply::json(500, json!({"error": "internal error"}));
        }
        self.inner.handle(request, base)
    }
}

async fn checks(d: Deployment) {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let queue_url = create_queue(&config, &format!("costwatch-{}", d.integration)).await;
    let dead_letter_url = create_queue(&config, &format!("costwatch-{}-dlq", d.integration)).await;
    let mut table = d.config.clone();
    let stored = store_secrets(&config, d.integration, d.secrets, &mut table, "").await;
    assert!(
        stored > 0,
        "no credential in the config holds one of {:?}",
        d.secrets
    );
    let outage = Arc::new(Outage {
        inner: d.fake.clone(),
        failing: AtomicBool::new(false),
    });
    let server = FakeServer::start(outage.clone()).await;

    let mut env = moto_env(&moto.url());
    env.extend(
        [
            ("COSTWATCH_TABLE", TABLE.to_owned()),
            ("COSTWATCH_DISPATCH_CONFIG", table.to_string()),
            ("COSTWATCH_QUEUE_URL", queue_url.clone()),
            ("COSTWATCH_DEAD_LETTER_QUEUE_URL", dead_letter_url.clone()),
            ("COSTWATCH_HTTP_ENDPOINT", server.url()),
            ("COSTWATCH_HTTP_TIMEOUT_SECONDS", "5".to_owned()),
            (
                "RUST_LOG",
                "info,costwatch_dispatch=debug,costwatch_store=debug".to_owned(),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let api = RuntimeApi::start();
    let mut lambda = Lambda {
        function: Some(api.spawn(d.binary, &format!("costwatch-{}", d.integration), &env)),
        api,
    };
    let sample_path = format!("events/dispatch-{}/sqs.json", d.integration);
    let sample_text = costwatch_testkit::repo_file(&sample_path);
    let sample_json: Value = serde_json::from_str(&sample_text).expect("an SQS event");
    let bodies: Vec<&str> = sample_json["Records"]
        .as_array()
        .unwrap_or_else(|| panic!("{sample_path}: no Records"))
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();

    // 1. The sample as it is.
    let response = lambda.invoke(&sample_text);
    assert_eq!(
        failures(&response),
        Vec::<String>::new(),
        "{sample_path}: {response}"
    );
    let letters = drain(&config, &dead_letter_url).await;
    assert!(
        letters.is_empty(),
        "{sample_path}: dead-lettered {:?}",
        letters.iter().map(|l| &l.body).collect::<Vec<_>>()
    );
    assert!(!server.accepted().is_empty(), "the vendor accepted nothing");
    for body in &bodies {
        let body: Value = serde_json::from_str(body).unwrap();
        let id = body["id"].as_str().unwrap();
        let states = ledger_states(&config, id).await;
        assert_eq!(states, ["sent"], "{id} in the ledger");
    }

    // 2. Not an envelope: dead-lettered with its reason, not given back.
    let poison = r#"{"event":"CostDataCollected","days":["2026-11-20"]}"#;
    let event = receive_as_event(&config, &queue_url, &sample_json, poison, None).await;
    let response = lambda.invoke(&event.to_string());
    assert_eq!(failures(&response), Vec::<String>::new(), "{response}");
    let letter = one_letter(&config, &dead_letter_url, poison).await;
    assert!(
        letter.attributes["ErrorMessage"].contains("not a notification envelope"),
        "{:?}",
        letter.attributes
    );
    delete(&config, &queue_url, &event).await;

    // 3. The vendor down: a new envelope is given back for SQS to redeliver.
    let mut envelope: Value = serde_json::from_str(bodies[0]).unwrap();
    envelope["id"] = json!(format!("{}_outage", envelope["id"].as_str().unwrap()));
    let envelope = envelope.to_string();
    // The binary's own default (no COSTWATCH_MAX_RECEIVES here), which the drills check
    // against the template's.
    let max_receives = crate::sim::Mapping::template_receives(d.integration);
    outage.failing.store(true, Ordering::SeqCst);
    let before = server.log().len();
    let event = receive_as_event(&config, &queue_url, &sample_json, &envelope, None).await;
    let response = lambda.invoke(&event.to_string());
    let message_id = event["Records"][0]["messageId"].as_str().unwrap();
    assert_eq!(failures(&response), [message_id], "{response}");
    assert!(server.log().len() > before, "the vendor was not asked");
    assert!(drain(&config, &dead_letter_url).await.is_empty());

    // 4. Still down on its last receive: dead-lettered with the vendor's answer as the reason.
    let event = receive_as_event(
        &config,
        &queue_url,
        &sample_json,
        &envelope,
        Some(max_receives),
    )
    .await;
    let response = lambda.invoke(&event.to_string());
    assert_eq!(failures(&response), Vec::<String>::new(), "{response}");
    let letter = one_letter(&config, &dead_letter_url, &envelope).await;
    assert!(
        letter.attributes["ErrorMessage"]
            .contains(&format!("gave up after {max_receives} receives"))
            && letter.attributes["ErrorMessage"].contains("500"),
        "{:?}",
        letter.attributes
    );

    let logs = lambda
        .function
        .take()
        .map(Function::stop)
        .unwrap_or_default();
    for secret in d.secrets {
        assert!(
            !logs.contains(secret),
            "the function printed {secret:?}:\n{logs}"
        );
    }
}

/// The binary under its runtime API.
struct Lambda {
    api: RuntimeApi,
    function: Option<Function>,
}

impl Lambda {
    /// The function's `SqsBatchResponse` for `event`; a failed invocation (Lambda would retry
    /// the whole batch) or no answer fails the test with what the function printed.
    fn invoke(&mut self, event: &str) -> Value {
        let id = self.api.invoke(event);
        let outcome = tokio::task::block_in_place(|| self.api.outcome(&id, ANSWER_WITHIN));
        let logs = |f: &mut Option<Function>| f.take().map(Function::stop).unwrap_or_default();
        match outcome {
            Ok(Outcome::Response(body)) => serde_json::from_str(&body).unwrap(),
            Ok(Outcome::Error(e)) => panic!(
                "a batch must not fail as a whole: {e}\n{}",
                logs(&mut self.function)
            ),
            Err(e) => panic!("{e}; the function printed:\n{}", logs(&mut self.function)),
        }
    }
}

fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no batchItemFailures in {response}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// Moves every string of `value` holding a secret into Secrets Manager (named after its path
/// in the config) and puts the reference in its place. Returns how many it moved.
fn store_secrets<'a>(
    config: &'a SdkConfig,
    integration: &'a str,
    secrets: &'a [&'a str],
    value: &'a mut Value,
    path: &'a str,
) -> std::pin::Pin<Box<dyn Future<Output = usize> + 'a>> {
    Box::pin(async move {
        let mut stored = 0;
        match value {
            Value::String(text) if secrets.iter().any(|s| text.contains(s)) => {
                let name = format!("costwatch/{integration}{path}");
                aws_sdk_secretsmanager::Client::new(config)
                    .create_secret()
                    .name(&name)
                    .secret_string(text.as_str())
                    .send()
                    .await
                    .unwrap();
                *value = json!({ "secrets_manager": name });
                stored += 1;
            }
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    let path = format!("{path}/{key}");
                    stored += store_secrets(config, integration, secrets, v, &path).await;
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    let path = format!("{path}/{i}");
                    stored += store_secrets(config, integration, secrets, v, &path).await;
                }
            }
            _ => {}
        }
        stored
    })
}

/// Puts `body` on the real queue and takes it off as the event source mapping does (a real
/// receipt handle, so visibility changes work), as the one record of an SQS event shaped like
/// the sample; `receive_count` overrides `ApproximateReceiveCount` (a message on its last try).
async fn receive_as_event(
    config: &SdkConfig,
    queue_url: &str,
    sample: &Value,
    body: &str,
    receive_count: Option<u32>,
) -> Value {
    let sqs = aws_sdk_sqs::Client::new(config);
    sqs.send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await
        .unwrap();
    let message = loop {
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .visibility_timeout(0)
            .wait_time_seconds(5)
            .send()
            .await
            .unwrap();
        if let Some(m) = got.messages.unwrap_or_default().into_iter().next() {
            break m;
        }
    };
    assert_eq!(
        message.body(),
        Some(body),
        "another message was on the queue"
    );
    let mut record = sample["Records"][0].clone();
    record["messageId"] = json!(message.message_id().unwrap());
    record["receiptHandle"] = json!(message.receipt_handle().unwrap());
    record["body"] = json!(body);
    record["md5OfBody"] = json!(message.md5_of_body().unwrap_or_default());
    if let Some(count) = receive_count {
        record["attributes"]["ApproximateReceiveCount"] = json!(count.to_string());
    }
    json!({ "Records": [record] })
}

/// Deletes the event's messages, as the event source mapping does after a batch.
async fn delete(config: &SdkConfig, queue_url: &str, event: &Value) {
    let sqs = aws_sdk_sqs::Client::new(config);
    for record in event["Records"].as_array().unwrap() {
        sqs.delete_message()
            .queue_url(queue_url)
            .receipt_handle(record["receiptHandle"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    }
}

/// The one letter on the DLQ: `body` as received, `Rejected`, with a reason.
async fn one_letter(config: &SdkConfig, dead_letter_url: &str, body: &str) -> Received {
    let letters = drain(config, dead_letter_url).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = letters.into_iter().next().unwrap();
    assert_eq!(letter.body, body);
    assert_eq!(letter.attributes["ErrorCode"], "Rejected");
    letter
}

/// The ledger states of `envelope_id`'s deliveries, whatever partition and key they are under.
async fn ledger_states(config: &SdkConfig, envelope_id: &str) -> Vec<String> {
    let scanned = aws_sdk_dynamodb::Client::new(config)
        .scan()
        .table_name(TABLE)
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let text = |item: &HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    scanned
        .items()
        .iter()
        .filter(|item| text(item, "sk").contains(envelope_id))
        // Memos (a thread's timestamp, an issue's key) share the key; ledger entries have a state.
        .filter_map(|item| {
            let value: Value = serde_json::from_str(&text(item, "value")).ok()?;
            Some(value["state"].as_str()?.to_owned())
        })
        .collect()
}
