//! The built `collect` binary under the Runtime API emulator on moto (costwatch_testkit::deployed):
//! the scheduled event of events/collect/ pulls two weeks from Cost Explorer (moto's canned
//! answers) into the lake and announces them; the same event without its `time` is
//! dead-lettered with its reason; with Cost Explorer failing (500s from a scripted AWS JSON
//! endpoint, `AWS_ENDPOINT_URL_COST_EXPLORER`) the invocation fails so Lambda retries it.

use chrono::{Days, NaiveDate};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};
use costwatch_testkit::deployed::Deployed;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use costwatch_testkit::stack::drain;
use costwatch_testkit::{ce_responses, repo_file};
use serde_json::Value;

const BACKFILL_DAYS: u32 = 14;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_binary_answers_success_malformed_and_a_failing_cost_explorer() {
    let backfill = BACKFILL_DAYS.to_string();
    let mut collect = Deployed::start(
        env!("CARGO_BIN_EXE_collect"),
        "collect",
        &[("COSTWATCH_CE_BACKFILL_DAYS", &backfill)],
    )
    .await;
    let announced = collect
        .stack
        .subscribe_queue(&collect.stack.pipeline_topic_arn, "to-aggregate", None)
        .await;
    let sample = repo_file("events/collect/scheduled.json");
    let scheduled: Value = serde_json::from_str(&sample).unwrap();
    let today: NaiveDate = scheduled["time"].as_str().unwrap()[..10].parse().unwrap();
    let org = costwatch_core::synth::generate(7, today - Days::new(1), BACKFILL_DAYS);
    let days: Vec<NaiveDate> = org
        .start
        .iter_days()
        .take_while(|d| *d <= org.end)
        .collect();
    // The probe of every day's total, then the grouped pulls a week at a time.
    let mut answers = vec![ce_responses::totals(&org.records, &days)];
    answers.extend(
        days.chunks(7)
            .map(|week| ce_responses::by_account_and_service(&org.records, week)),
    );
    queue_cost_and_usage(&collect.moto, &serde_json::to_string(&answers).unwrap());

    let summary = collect.summary(&sample);
    assert_eq!(
        summary["days"].as_array().unwrap().len(),
        days.len(),
        "{summary}"
    );
    let messages = drain(&collect.config, &announced).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message: Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(message["event"], "CostDataCollected");
    assert_eq!(message["days"].as_array().unwrap().len(), days.len());

    let mut untimed = scheduled.clone();
    untimed.as_object_mut().unwrap().remove("time");
    collect
        .assert_dead_lettered(&untimed.to_string(), "without `time`")
        .await;

    // Cost Explorer answers 500 to every attempt the SDK makes.
    let failing = AwsJsonFake::start(
        (0..5)
            .map(|_| Reply::error(500, "com.amazonaws.ce", "InternalServerException", "boom"))
            .collect(),
    );
    let url = failing.url();
    collect.restart(&[("AWS_ENDPOINT_URL_COST_EXPLORER", &url)]);
    let error = collect.assert_retried(&sample).await;
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("InternalServerException"),
        "{error}"
    );
    assert!(
        !failing.requests().is_empty(),
        "Cost Explorer was never asked"
    );
    assert!(drain(&collect.config, &announced).await.is_empty());
}
