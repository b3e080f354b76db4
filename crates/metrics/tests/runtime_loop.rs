//! The built `metrics` binary under the Runtime API emulator on moto (costwatch_testkit::deployed),
//! with the environment template.yaml gives it: the scheduled sample of events/metrics/, at the
//! current time (CloudWatch serves recent data), pulls a day of one instance's CPU that
//! PutMetricData stored with a spike and publishes one anomaly naming the metric; a scheduled
//! event without `time` is dead-lettered with its reason; with the state table gone, the run is
//! dead-lettered naming the missing resource (MaximumRetryAttempts 0: Lambda would not retry).

use chrono::{DateTime, Utc};
use costwatch_testkit::deployed::Deployed;
use costwatch_testkit::moto_cw::{POINTS_PER_DAY, put_cpu_day, spiky};
use costwatch_testkit::repo_file;
use serde_json::{Value, json};

const INSTANCE: &str = "i-0runtime";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_binary_answers_a_spike_a_malformed_event_and_a_missing_table() {
    let watched = json!([{
        "metric": {"namespace": "AWS/EC2", "name": "CPUUtilization",
                   "dimensions": {"InstanceId": INSTANCE}},
        "stat": "Average",
        "period_secs": 300,
    }])
    .to_string();
    let mut metrics = Deployed::start(
        env!("CARGO_BIN_EXE_metrics"),
        "metrics",
        &[
            ("COSTWATCH_WATCHED_METRICS", &watched),
            ("COSTWATCH_CW_MAX_REQUESTS_PER_RUN", "5"),
        ],
    )
    .await;
    let now = Utc::now();
    let end = DateTime::from_timestamp(now.timestamp() / 300 * 300, 0).expect("a time");
    put_cpu_day(&metrics.config, INSTANCE, end, spiky).await;
    let mut sample: Value =
        serde_json::from_str(&repo_file("events/metrics/scheduled.json")).expect("the sample");
    sample["time"] = Value::String(now.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let sample = sample.to_string();

    let summary = metrics.summary(&sample);
    assert_eq!(summary["points"], POINTS_PER_DAY, "{summary}");
    assert_eq!(summary["requests"], 1, "{summary}");
    assert_eq!(summary["complete"], true, "{summary}");
    let envelopes = metrics.notifications().await;
    assert_eq!(envelopes.len(), 1, "{envelopes:#?}");
    assert_eq!(summary["published"], json!([envelopes[0]["id"]]));
    assert_eq!(envelopes[0]["kind"], "anomaly");
    assert_eq!(envelopes[0]["scope"]["kind"], "metric", "{}", envelopes[0]);

    let mut no_time: Value = serde_json::from_str(&sample).unwrap();
    no_time.as_object_mut().unwrap().remove("time");
    metrics
        .assert_dead_lettered(&no_time.to_string(), "without `time`")
        .await;

    metrics.delete_table().await;
    metrics
        .assert_dead_lettered(&sample, "ResourceNotFound")
        .await;
    assert!(metrics.notifications().await.is_empty());
}
