//! The built `aggregate` binary under a Lambda Runtime API (costwatch_testkit::runtime_api),
//! against moto: the real runtime loop, the real SDK, the sample events of events/aggregate/.
//! A good event is aggregated and chained on; a malformed one is rejected to the dead-letter
//! queue with its reason, once, and the function keeps serving.

use std::time::Duration;

use chrono::NaiveDate;
use costwatch_core::Scope;
use costwatch_pipeline::lake::write_day;
use costwatch_store::RollupStore;
use costwatch_store::aws::{DynamoRollups, S3Lake};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::repo_file as sample;
use costwatch_testkit::runtime_api::{Outcome, RuntimeApi};
use costwatch_testkit::stack::{BUCKET, Stack, TABLE, drain};
use serde_json::Value;

/// A cold start plus an SDK round trip or two on a loaded 2-core machine; answers arrive in
/// well under a second here.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// The days named in the sample's CostDataCollected message.
fn sample_days(event: &str) -> Vec<NaiveDate> {
    let event: Value = serde_json::from_str(event).unwrap();
    let message: Value =
        serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    serde_json::from_value(message["days"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_binary_serves_sample_events_through_the_runtime_api() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Stack::create(&config).await;
    let updates = stack
        .subscribe_queue(
            &stack.pipeline_topic_arn,
            "aggregates-updated",
            Some(r#"{"event": ["AggregatesUpdated"]}"#),
        )
        .await;

    // What collect would have written for the sample's days.
    let good = sample("events/aggregate/sns-cost-data-collected.json");
    let days = sample_days(&good);
    let last = *days.last().unwrap();
    let org = costwatch_core::synth::generate(7, last, days.len() as u32);
    let lake = S3Lake::new(&config, BUCKET);
    for day in &days {
        let records: Vec<_> = org.records.iter().filter(|r| r.day() == *day).collect();
        assert!(!records.is_empty());
        write_day(&lake, *day, &records, &[]).await.unwrap();
    }

    let mut env = stack.env();
    env.extend(
        [
            ("AWS_ENDPOINT_URL", moto.url().as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("RUST_LOG", "info"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let api = RuntimeApi::start();
    let function = api.spawn(env!("CARGO_BIN_EXE_aggregate"), "aggregate", &env);
    let malformed = sample("events/aggregate/sns-malformed.json");
    let bad_id = api.invoke(malformed.clone());
    let good_id = api.invoke(good);

    let Outcome::Response(rejected) = api.outcome(&bad_id, ANSWER_WITHIN).unwrap() else {
        panic!("a malformed event must not fail the invocation (Lambda would retry it)");
    };
    let rejected: Value = serde_json::from_str(&rejected).unwrap();
    assert!(
        rejected["rejected"]
            .as_str()
            .unwrap()
            .contains("is not a pipeline event"),
        "{rejected}"
    );
    let Outcome::Response(summary) = api.outcome(&good_id, ANSWER_WITHIN).unwrap() else {
        panic!("the sample event failed");
    };
    let logs = function.stop();
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["days"], days.len());
    assert_eq!(summary["as_of"], last.to_string());
    assert!(summary["rows"].as_u64().unwrap() > 10, "{summary}");

    // The rollups are in DynamoDB, and the org total matches the records.
    let rollups = DynamoRollups::new(&config, TABLE);
    let series = rollups.series(&Scope::Org, days[0], last).await.unwrap();
    let expected: costwatch_core::Money = org
        .records
        .iter()
        .filter(|r| r.day() == last)
        .map(|r| r.billed_cost)
        .sum();
    assert_eq!(series.get(last).unwrap().total(), expected);

    // Chained on: one AggregatesUpdated on the pipeline topic, attribute set for the filters.
    let published = drain(&config, &updates).await;
    assert_eq!(published.len(), 1, "{published:?}");
    let message: Value = serde_json::from_str(&published[0].body).unwrap();
    assert_eq!(message["event"], "AggregatesUpdated");
    assert_eq!(message["as_of"], last.to_string());

    // The malformed one is parked once, with its reason and the event as received.
    let letters = drain(&config, &stack.dead_letter_queue_url).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter: Value = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(letter["function"], "aggregate");
    assert_eq!(
        letter["event"],
        serde_json::from_str::<Value>(&malformed).unwrap()
    );
    assert!(
        letters[0].attributes["ErrorMessage"].contains("Records[0]"),
        "{:?}",
        letters[0].attributes
    );

    // The day's cost went out as an EMF line.
    let emf = logs
        .lines()
        .find(|l| l.contains("\"DailyCost\""))
        .unwrap_or_else(|| panic!("no EMF line in the function's output:\n{logs}"));
    let emf: Value = serde_json::from_str(emf).unwrap();
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "costwatch"
    );
}
