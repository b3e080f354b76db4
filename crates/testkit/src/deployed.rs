//! A pipeline function's built binary as template.yaml deploys it, on moto: the stack's resources
//! ([`Stack`]), the function's environment, the real runtime loop under the Runtime API emulator
//! ([`crate::runtime_api`]). Each binary crate's `tests/runtime_loop.rs` drives its
//! events/<function>/ samples through it and checks the outcome the template expects:
//! a summary on success, a malformed event dead-lettered once with its reason (the invocation
//! succeeds, so Lambda does not retry it), a downstream failure dead-lettered or returned as the
//! invocation's error (Lambda retries, then its own DLQ takes it) as the error is retryable.

use std::time::Duration;

use chrono::NaiveDate;
use costwatch_core::synth::SyntheticOrg;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::aggregate::aggregate;
use costwatch_pipeline::lake::write_day;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_dynamodb;
use costwatch_store::aws::{DynamoRollups, DynamoState, S3Lake};
use serde_json::Value;

use crate::moto::Moto;
use crate::runtime_api::{Function, Outcome, RuntimeApi};
use crate::stack::{BUCKET, Received, Stack, TABLE, drain};

/// A cold start plus a few SDK round trips on a loaded 2-core machine; answers arrive in a
/// second or two here. A bound for a hung function, not a synchronisation.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(90);

pub struct Deployed {
    pub moto: Moto,
    pub config: SdkConfig,
    pub stack: Stack,
    /// A queue subscribed to the notifications topic without a filter: every envelope.
    pub notifications_queue: String,
    binary: String,
    function_name: &'static str,
    env: Vec<(String, String)>,
    api: RuntimeApi,
    function: Option<Function>,
}

impl Deployed {
    /// moto with the stack's resources, and `binary` (`env!("CARGO_BIN_EXE_<name>")`) started
    /// under its own runtime API with the stack's environment plus `extra`.
    pub async fn start(binary: &str, function_name: &'static str, extra: &[(&str, &str)]) -> Self {
        let moto = Moto::start();
        let config = moto.sdk_config().await;
        let stack = Stack::create(&config).await;
        let notifications_queue = stack
            .subscribe_queue(&stack.notifications_topic_arn, "all-notifications", None)
            .await;
        let mut env = stack.env();
        env.extend(moto_env(&moto.url()));
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let api = RuntimeApi::start();
        let function = api.spawn(binary, function_name, &env);
        Deployed {
            moto,
            config,
            stack,
            notifications_queue,
            binary: binary.to_owned(),
            function_name,
            env,
            api,
            function: Some(function),
        }
    }

    /// A new container on the same stack: the function stopped and started again under a new
    /// runtime API, its environment changed by `extra` (e.g. one service's endpoint moved to a
    /// failing fake with `AWS_ENDPOINT_URL_<SERVICE>`). Returns what the old one printed.
    pub fn restart(&mut self, extra: &[(&str, &str)]) -> String {
        let logs = self.stop();
        self.env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.api = RuntimeApi::start();
        self.function = Some(self.api.spawn(&self.binary, self.function_name, &self.env));
        logs
    }

    /// Deletes the state table, as a broken deploy or a deleted resource would leave it.
    pub async fn delete_table(&self) {
        aws_sdk_dynamodb::Client::new(&self.config)
            .delete_table()
            .table_name(TABLE)
            .send()
            .await
            .unwrap();
    }

    /// Writes `org`'s days to the lake and their rollups to the table, as collect and aggregate
    /// would have: the data detect, forecast and report read.
    pub async fn seed(&self, org: &SyntheticOrg) -> Vec<NaiveDate> {
        let lake = S3Lake::new(&self.config, BUCKET);
        let days: Vec<NaiveDate> = org
            .start
            .iter_days()
            .take_while(|d| *d <= org.end)
            .collect();
        for day in &days {
            let records: Vec<_> = org.records.iter().filter(|r| r.day() == *day).collect();
            write_day(&lake, *day, &records, &[]).await.unwrap();
        }
        let rollups = DynamoRollups::new(&self.config, TABLE);
        let state = DynamoState::new(&self.config, TABLE);
        aggregate(&lake, &rollups, &state, &PipelineConfig::default(), &days)
            .await
            .unwrap();
        days
    }

    /// Invokes the function with `event` and returns what it answered; without an answer (it
    /// hung, exited or failed to start), panics with what it printed.
    pub fn invoke(&mut self, event: &str) -> Outcome {
        let id = self.api.invoke(event);
        // Off the async workers: the test's runtime keeps serving while this thread waits.
        let outcome = tokio::task::block_in_place(|| self.api.outcome(&id, ANSWER_WITHIN));
        outcome.unwrap_or_else(|e| panic!("{e}; the function printed:\n{}", self.stop()))
    }

    /// Invokes and expects a response (not a rejection): the function's summary.
    pub fn summary(&mut self, event: &str) -> Value {
        let body = match self.invoke(event) {
            Outcome::Response(body) => body,
            Outcome::Error(e) => panic!("the invocation failed: {e}\n{}", self.stop()),
        };
        let summary: Value = serde_json::from_str(&body).unwrap();
        assert!(
            summary.get("rejected").is_none(),
            "rejected: {summary}\n{}",
            self.stop()
        );
        summary
    }

    /// Invokes with `event`, which the function must reject: the invocation succeeds (no Lambda
    /// retry) saying why, and the dead-letter queue holds it once, as received, with the reason
    /// (which contains `reason`) and this function's name.
    pub async fn assert_dead_lettered(&mut self, event: &str, reason: &str) -> Received {
        let body = match self.invoke(event) {
            Outcome::Response(body) => body,
            Outcome::Error(e) => {
                panic!("a rejected event must not fail the invocation (Lambda would retry it): {e}")
            }
        };
        let answer: Value = serde_json::from_str(&body).unwrap();
        let said = answer["rejected"].as_str().unwrap_or_default();
        assert!(said.contains(reason), "{answer}");
        let letters = drain(&self.config, &self.stack.dead_letter_queue_url).await;
        assert_eq!(letters.len(), 1, "{letters:?}");
        let letter: Value = serde_json::from_str(&letters[0].body).unwrap();
        assert_eq!(letter["function"], self.function_name, "{letter}");
        assert_eq!(
            letter["event"],
            serde_json::from_str::<Value>(event).unwrap()
        );
        assert_eq!(letters[0].attributes["ErrorCode"], "Rejected");
        assert!(
            letters[0].attributes["ErrorMessage"].contains(reason),
            "{:?}",
            letters[0].attributes
        );
        letters.into_iter().next().unwrap()
    }

    /// Invokes with `event`, which must fail the invocation (a retryable error: Lambda retries
    /// it, then its own DLQ takes it) without a dead letter of ours. Returns the error body.
    pub async fn assert_retried(&mut self, event: &str) -> Value {
        let error = match self.invoke(event) {
            Outcome::Error(e) => e,
            Outcome::Response(r) => panic!("expected a failed invocation, got {r}"),
        };
        assert!(
            drain(&self.config, &self.stack.dead_letter_queue_url)
                .await
                .is_empty(),
            "a retryable failure was dead-lettered at once"
        );
        serde_json::from_str(&error).unwrap()
    }

    /// The envelopes published on the notifications topic since the last call.
    pub async fn notifications(&self) -> Vec<Value> {
        drain(&self.config, &self.notifications_queue)
            .await
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }

    /// Stops the function; what it printed (stdout and stderr).
    pub fn stop(&mut self) -> String {
        self.function.take().map(Function::stop).unwrap_or_default()
    }
}

/// The SDK's environment for a function on moto at `url`: endpoint, region, dummy keys, no
/// instance metadata; our crates log at INFO.
pub fn moto_env(url: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", url),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("NO_COLOR", "1"),
        ("RUST_LOG", "info"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}
