//! The built `dispatch-teams` binary under a Lambda Runtime API (costwatch_testkit::runtime_api):
//! the real runtime loop of `costwatch_dispatch::lambda::run`, the real SDK against moto (the
//! integration queue and its dead-letter queue, the ledger table, the webhook URL in Secrets
//! Manager) and the Teams Workflows fake over HTTP.
//!
//! One batch of three: a good envelope is posted once and recorded `sent` in the ledger; a
//! message that is not an envelope lands on the real DLQ with its reason and is not given back;
//! a throttled envelope (429, `Retry-After` longer than the invocation) is given back in
//! `batchItemFailures` with its visibility changed on the real queue. Redelivering the good one
//! posts nothing. The webhook URL (the credential) never reaches the function's output. The
//! sample events of events/dispatch-*/ parse as SQS events and drive the binary as they are.
//!
//! How the function reaches the fake: the config names the webhook URL by Secrets Manager
//! reference, the stored value is a real-looking Workflows trigger URL (the credential, checked
//! against Teams' pinned hosts by the sender), and `COSTWATCH_HTTP_ENDPOINT` — the Lambda's
//! loopback-only test override, read by `lambda::run` — replaces its scheme, host and port with
//! the fake's, as `Sender`'s endpoint does for `notify --endpoint`.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use costwatch_core::Notification;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::{aws_sdk_dynamodb, aws_sdk_secretsmanager};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::repo_file;
use costwatch_testkit::runtime_api::{Function, Outcome, RuntimeApi};
use costwatch_testkit::stack::{TABLE, create_queue, create_table, drain};
use costwatch_vendor_fakes::faults::exactly_once;
use costwatch_vendor_fakes::server::{FakeServer, Received, Reply, Vendor};
use costwatch_vendor_fakes::teams::{FLOW_ID, SIGNATURE, TeamsWorkflow};
use serde_json::{Value, json};

/// A cold start (config, secret, SDK clients) plus a few SDK round trips and one rate-limit
/// slot on a loaded 2-core machine; answers arrive within a few seconds here.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);
/// Longer than the invocation may run (the runtime API's deadline is 15 minutes away), so the
/// sender gives the message back to the queue instead of waiting.
const RETRY_AFTER_SECS: u32 = 3600;
const SECRET_NAME: &str = "costwatch/teams/finops";
/// Where the trigger URL in the secret points; the endpoint override sends it to the fake.
const TEAMS_HOST: &str = "https://prod-00.westus.logic.azure.com:443";
const DESTINATION: &str = "finops";
/// What `lambda::run` names itself in the DLQ's `Function` attribute.
const FUNCTION: &str = "teams";

/// The Teams Workflows fake, except that every post of one envelope is throttled as a
/// throttled flow answers (429 `WorkflowRequestsThrottled` with `Retry-After`).
struct ThrottleOne {
    flow: Arc<TeamsWorkflow>,
    envelope_id: Option<String>,
}

impl Vendor for ThrottleOne {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        match &self.envelope_id {
            Some(id) if request.text().contains(id.as_str()) => Reply::json(
                429,
                json!({"error": {"code": "WorkflowRequestsThrottled", "message": "Rate limit is exceeded."}}),
            )
            .with_header("retry-after", &RETRY_AFTER_SECS.to_string()),
            _ => self.flow.handle(request, base),
        }
    }
}

/// moto with the resources of one dispatcher (its queue, its DLQ, the state table, the webhook
/// secret) and the Teams fake the function's requests go to.
struct Setup {
    moto: Moto,
    config: SdkConfig,
    queue_url: String,
    queue_arn: String,
    dead_letter_url: String,
    flow: Arc<TeamsWorkflow>,
    server: FakeServer,
    webhook: String,
}

impl Setup {
    async fn start(throttled_envelope: Option<String>) -> Setup {
        let moto = Moto::start();
        let config = moto.sdk_config().await;
        create_table(&config).await;
        let queue_url = create_queue(&config, "costwatch-teams").await;
        let queue_arn = queue_arn(&config, &queue_url).await;
        let dead_letter_url = create_queue(&config, "costwatch-teams-dlq").await;
        let flow = Arc::new(TeamsWorkflow::new());
        let server = FakeServer::start(Arc::new(ThrottleOne {
            flow: flow.clone(),
            envelope_id: throttled_envelope,
        }))
        .await;
        let webhook = TeamsWorkflow::webhook_url(TEAMS_HOST);
        aws_sdk_secretsmanager::Client::new(&config)
            .create_secret()
            .name(SECRET_NAME)
            .secret_string(&webhook)
            .send()
            .await
            .unwrap();
        Setup {
            moto,
            config,
            queue_url,
            queue_arn,
            dead_letter_url,
            flow,
            server,
            webhook,
        }
    }

    /// The environment template.yaml gives a dispatcher, for this stack; our crates log at
    /// DEBUG, so the credential check covers everything they could print. (The SDK stays at
    /// INFO: its DEBUG lines would fill the output pipe, which is read only when the function
    /// stops, and block the function.)
    fn env(&self) -> Vec<(String, String)> {
        let config = json!({
            "destinations": {DESTINATION: {"webhook_url": {"secrets_manager": SECRET_NAME}}}
        });
        [
            ("COSTWATCH_TABLE", TABLE.to_owned()),
            ("COSTWATCH_DISPATCH_CONFIG", config.to_string()),
            ("COSTWATCH_QUEUE_URL", self.queue_url.clone()),
            // Every vendor request to the fake (scheme, host and port replaced; path and query,
            // where the credential is, kept).
            ("COSTWATCH_HTTP_ENDPOINT", self.server.url()),
            (
                "COSTWATCH_DEAD_LETTER_QUEUE_URL",
                self.dead_letter_url.clone(),
            ),
            ("AWS_ENDPOINT_URL", self.moto.url()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("NO_COLOR", "1".to_owned()),
            (
                "RUST_LOG",
                "info,costwatch_dispatch=debug,costwatch_dispatch_teams=debug,costwatch_store=debug"
                    .to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Puts `bodies` on the real queue and takes them off as Lambda's event source mapping
    /// does, into one SQS event shaped like events/dispatch-teams/sqs.json, records in the
    /// order of `bodies`. Received with a visibility timeout of 0: a message the function does
    /// not delay is receivable again at once, so "not receivable" proves the delay.
    async fn receive_as_event(&self, bodies: &[&str]) -> Value {
        let sqs = aws_sdk_sqs::Client::new(&self.config);
        for body in bodies {
            sqs.send_message()
                .queue_url(&self.queue_url)
                .message_body(*body)
                .send()
                .await
                .unwrap();
        }
        // By message id, the latest receive of each (a message received twice keeps the
        // receipt handle and receive count of the second).
        let mut received = std::collections::BTreeMap::new();
        while received.len() < bodies.len() {
            let got = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .wait_time_seconds(5)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            for m in got.messages.unwrap_or_default() {
                received.insert(m.message_id().unwrap().to_owned(), m);
            }
        }
        let sample: Value =
            serde_json::from_str(&repo_file("events/dispatch-teams/sqs.json")).unwrap();
        let records: Vec<Value> = bodies
            .iter()
            .map(|body| {
                let m = received
                    .values()
                    .find(|m| m.body() == Some(*body))
                    .unwrap_or_else(|| panic!("not received: {body}"));
                let mut record = sample["Records"][0].clone();
                record["messageId"] = json!(m.message_id().unwrap());
                record["receiptHandle"] = json!(m.receipt_handle().unwrap());
                record["body"] = json!(body);
                record["md5OfBody"] = json!(m.md5_of_body().unwrap_or_default());
                record["eventSourceARN"] = json!(self.queue_arn);
                record["attributes"] = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                record
            })
            .collect();
        json!({ "Records": records })
    }

    /// The ledger items of `envelope_id`, as `(pk, sk, value)`, found by scanning the table for
    /// a sort key naming it, whatever partition the dispatcher keeps them in.
    async fn ledger_items(&self, envelope_id: &str) -> Vec<(String, String, Value)> {
        let scanned = aws_sdk_dynamodb::Client::new(&self.config)
            .scan()
            .table_name(TABLE)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let text =
            |item: &std::collections::HashMap<_, aws_sdk_dynamodb::types::AttributeValue>,
             name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
        scanned
            .items()
            .iter()
            .filter(|item| text(item, "sk").contains(envelope_id))
            .map(|item| {
                let value = serde_json::from_str(&text(item, "value")).unwrap();
                (text(item, "pk"), text(item, "sk"), value)
            })
            .collect()
    }

    /// The one ledger item of a delivery to [`DESTINATION`], with its key checked.
    async fn ledger_entry(&self, envelope_id: &str) -> Value {
        let items = self.ledger_items(envelope_id).await;
        let [(pk, sk, value)] = items.as_slice() else {
            panic!("one ledger item for {envelope_id}: {items:?}");
        };
        assert_eq!(pk, "dispatch#teams", "the dispatcher's own partition");
        assert_eq!(
            *sk,
            costwatch_dispatch::ledger::key(FUNCTION, DESTINATION, envelope_id)
        );
        value.clone()
    }

    /// The ids of the envelopes the flow posted, one per card.
    fn posted_ids(&self, candidates: &[&str]) -> Vec<String> {
        self.flow
            .posted()
            .iter()
            .map(|card| {
                let card = card.to_string();
                let named: Vec<&str> = candidates
                    .iter()
                    .copied()
                    .filter(|id| card.contains(id))
                    .collect();
                assert_eq!(named.len(), 1, "a card names one envelope: {card}");
                named[0].to_owned()
            })
            .collect()
    }
}

async fn queue_arn(config: &SdkConfig, queue_url: &str) -> String {
    aws_sdk_sqs::Client::new(config)
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap()
}

/// The built binary running under a runtime API of its own.
struct Lambda {
    api: RuntimeApi,
    function: Option<Function>,
}

impl Lambda {
    fn start(setup: &Setup) -> Lambda {
        let api = RuntimeApi::start();
        let function = api.spawn(
            env!("CARGO_BIN_EXE_dispatch-teams"),
            "costwatch-teams",
            &setup.env(),
        );
        Lambda {
            api,
            function: Some(function),
        }
    }

    /// Invokes the function with `event` and returns its `SqsBatchResponse`. Waits on the
    /// runtime API's condition variable, off the async workers so the fake keeps serving;
    /// without an answer, fails with what the function printed.
    fn invoke(&mut self, event: &str) -> Value {
        let id = self.api.invoke(event);
        let outcome = tokio::task::block_in_place(|| self.api.outcome(&id, ANSWER_WITHIN));
        let body = match outcome {
            Ok(Outcome::Response(body)) => body,
            Ok(Outcome::Error(e)) => panic!(
                "a batch must not fail as a whole (Lambda would retry all of it): {e}\n{}",
                self.stop()
            ),
            Err(e) => panic!("{e}; the function printed:\n{}", self.stop()),
        };
        serde_json::from_str(&body).unwrap()
    }

    /// Stops the function; what it printed (stdout and stderr).
    fn stop(&mut self) -> String {
        self.function.take().map(Function::stop).unwrap_or_default()
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

/// The envelopes of events/dispatch-teams/sqs.json: an anomaly and a daily report.
fn sample_envelopes() -> Vec<String> {
    let event: SqsEvent =
        serde_json::from_str(&repo_file("events/dispatch-teams/sqs.json")).unwrap();
    event.records.into_iter().map(|r| r.body.unwrap()).collect()
}

fn envelope_id(body: &str) -> String {
    serde_json::from_str::<Notification>(body).unwrap().id
}

/// The credential must not appear in what the function printed, whole or in part.
fn assert_no_credential(logs: &str, webhook: &str) {
    for secret in [webhook, SIGNATURE, FLOW_ID] {
        assert!(
            !logs.contains(secret),
            "the function's output holds {secret:?}:\n{logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_through_the_runtime_api_is_delivered_dead_lettered_and_requeued() {
    let envelopes = sample_envelopes();
    let (good, throttled) = (envelopes[0].as_str(), envelopes[1].as_str());
    let (good_id, throttled_id) = (envelope_id(good), envelope_id(throttled));
    // A pipeline event on the wrong queue: JSON, but not a notification envelope.
    let poison = r#"{"event":"CostDataCollected","days":["2026-11-20"]}"#;
    let setup = Setup::start(Some(throttled_id.clone())).await;
    let event = setup.receive_as_event(&[good, poison, throttled]).await;
    let message_id = |i: usize| {
        event["Records"][i]["messageId"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let mut lambda = Lambda::start(&setup);
    let response = lambda.invoke(&event.to_string());

    // Only the throttled message comes back; the poison one is settled by its dead letter.
    assert_eq!(failures(&response), [message_id(2)], "{response}");

    // The fake: one card, naming the good envelope; the throttled one was tried once (429) and
    // not waited for.
    assert_eq!(setup.flow.failed_runs(), Vec::<String>::new());
    assert_eq!(
        setup.posted_ids(&[&good_id, &throttled_id]),
        [good_id.as_str()]
    );
    let statuses: Vec<_> = setup.server.log().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(
        statuses.contains(&Some(202)) && statuses.contains(&Some(429)),
        "{statuses:?}"
    );

    // The real DLQ: the poison message only, as received, with its reason.
    let letters = drain(&setup.config, &setup.dead_letter_url).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].body, poison);
    let attributes = &letters[0].attributes;
    assert!(
        attributes["ErrorMessage"].contains("not a notification envelope"),
        "{attributes:?}"
    );
    assert_eq!(attributes["ErrorCode"], "Rejected");
    assert_eq!(attributes["Function"], FUNCTION);

    // The real queue, as the event source mapping leaves it: it deletes what was not given
    // back; the throttled message stays, invisible for Retry-After (received with visibility
    // 0, it would be receivable now had the function not changed it).
    let sqs = aws_sdk_sqs::Client::new(&setup.config);
    for i in [0, 1] {
        let handle = event["Records"][i]["receiptHandle"].as_str().unwrap();
        sqs.delete_message()
            .queue_url(&setup.queue_url)
            .receipt_handle(handle)
            .send()
            .await
            .unwrap();
    }
    let again = sqs
        .receive_message()
        .queue_url(&setup.queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert!(again.messages().is_empty(), "{:?}", again.messages());
    let counts = sqs
        .get_queue_attributes()
        .queue_url(&setup.queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let count = |name: QueueAttributeName| counts.attributes().unwrap()[&name].clone();
    assert_eq!(count(QueueAttributeName::ApproximateNumberOfMessages), "0");
    assert_eq!(
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        "1"
    );

    // The ledger in DynamoDB: the good one sent; the throttled one released for its retry.
    let sent = setup.ledger_entry(&good_id).await;
    assert_eq!(sent["state"], "sent", "{sent}");
    assert_eq!(sent["attempts"], 1, "{sent}");
    assert!(sent["sent_at"].is_string(), "{sent}");
    let released = setup.ledger_entry(&throttled_id).await;
    assert_eq!(released["state"], "pending", "{released}");
    assert!(
        released["last_error"].as_str().unwrap().contains("429"),
        "{released}"
    );

    // The good record redelivered (as after a lost response): settled, and nothing posted.
    let mut redelivered = json!({ "Records": [event["Records"][0].clone()] });
    redelivered["Records"][0]["attributes"]["ApproximateReceiveCount"] = json!("2");
    let response = lambda.invoke(&redelivered.to_string());
    assert_eq!(failures(&response), Vec::<String>::new(), "{response}");
    assert_eq!(
        setup.server.log().len(),
        2,
        "no request for a sent envelope"
    );
    assert_eq!(setup.flow.posted().len(), 1);
    assert_eq!(setup.ledger_entry(&good_id).await, sent);

    // What the function printed: the dead letter and the requeue, never the webhook URL.
    let logs = lambda.stop();
    let line = |words: &str| {
        logs.lines()
            .find(|l| l.contains(words))
            .unwrap_or_else(|| panic!("no {words:?} line in:\n{logs}"))
    };
    assert!(
        line("to the dead-letter queue").contains(&message_id(1)),
        "{logs}"
    );
    let requeued = line("back to the queue");
    assert!(requeued.contains(&message_id(2)), "{requeued}");
    assert!(
        requeued.contains(&format!("after={RETRY_AFTER_SECS}s")),
        "{requeued}"
    );
    assert_no_credential(&logs, &setup.webhook);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_sqs_events_drive_the_binary_through_the_runtime_api() {
    // Every dispatcher's sample event, as `sam local invoke` feeds it: an SQS event of
    // envelopes. Any dispatcher reads only the envelope, so Teams takes them all.
    let mut paths: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with("dispatch-"))
            .map(|name| format!("events/{name}/sqs.json"))
            .collect();
    paths.sort();
    assert!(
        paths.contains(&"events/dispatch-teams/sqs.json".to_owned()),
        "{paths:?}"
    );
    let mut ids = Vec::new();
    for path in &paths {
        let event: SqsEvent = serde_json::from_str(&repo_file(path)).unwrap();
        assert!(!event.records.is_empty(), "{path}");
        for r in &event.records {
            assert_eq!(r.event_source.as_deref(), Some("aws:sqs"), "{path}");
            assert!(
                r.message_id.is_some() && r.receipt_handle.is_some(),
                "{path}"
            );
            ids.push(envelope_id(r.body.as_deref().unwrap()));
        }
    }
    let mut expected = ids.clone();
    expected.sort();
    expected.dedup();
    assert!(
        ids.len() > expected.len(),
        "the samples share envelopes: {ids:?}"
    );

    let setup = Setup::start(None).await;
    let mut lambda = Lambda::start(&setup);
    for path in &paths {
        let response = lambda.invoke(&repo_file(path));
        assert_eq!(
            failures(&response),
            Vec::<String>::new(),
            "{path}: {response}"
        );
    }

    // Each envelope posted once, however many samples carry it: the ledger saw the repeats.
    let candidates: Vec<&str> = expected.iter().map(String::as_str).collect();
    exactly_once(setup.posted_ids(&candidates), expected.clone()).unwrap();
    assert!(setup.server.log().iter().all(|(_, s)| *s == Some(202)));
    for id in &expected {
        assert_eq!(setup.ledger_entry(id).await["state"], "sent", "{id}");
    }
    assert!(
        drain(&setup.config, &setup.dead_letter_url)
            .await
            .is_empty()
    );
    assert_no_credential(&lambda.stop(), &setup.webhook);
}
