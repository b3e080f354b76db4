//! CloudWatch in, end to end on moto with the real SDK: metrics seeded with PutMetricData, the
//! metrics handler fed events/metrics/scheduled.json pulls them (GetMetricData) into the S3
//! lake, the stream detector finds the spike, and exactly one anomaly envelope naming the metric
//! reaches a queue subscribed to the notifications topic the way a dispatcher's queue is (kind
//! and severity filter); a steady metric sends nothing.

use chrono::{DateTime, Duration, Utc};
use costwatch_core::metric::MetricId;
use costwatch_core::{Notification, ScopeKind};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::metrics::{
    HISTORY_HOURS, MAX_REQUESTS_PER_RUN, WATCHED_METRICS, handle, settings,
};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::detect::LifecyclePorts;
use costwatch_pipeline::metrics::MetricsPorts;
use costwatch_store::aws::CloudWatchMetrics;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::{MetricQuery, MetricStore};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_cw::{POINTS_PER_DAY, put_cpu_day, spiky, steady};
use costwatch_testkit::repo_file;
use costwatch_testkit::stack::{Stack, drain};
use serde_json::Value;

/// The severity-filtered branch of a dispatcher queue's filter with MinSeverity low
/// (templates/dispatcher.yaml; its `report`/`test` branch is left out: moto refuses the `$or`
/// whole, and the metrics function publishes neither).
const DISPATCHER_FILTER: &str = r#"{"kind": ["anomaly", "budget", "forecast", "recommendation"],
     "severity": ["low", "medium", "high", "critical"]}"#;

fn cpu(instance: &str) -> MetricQuery {
    MetricQuery {
        metric: MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", instance)]),
        stat: "Average".into(),
        period_secs: 300,
    }
}

/// Runs the handler once on `instance`'s metric, at the sample event's time; returns what the
/// dispatcher-like queue received.
async fn run_on(
    instance: &str,
    value: impl Fn(usize) -> f64,
) -> (Vec<Notification>, Stack, SdkConfig) {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Stack::create(&config).await;
    let queue = stack
        .subscribe_queue(
            &stack.notifications_topic_arn,
            "dispatcher",
            Some(DISPATCHER_FILTER),
        )
        .await;
    let mut event: Value =
        serde_json::from_str(&repo_file("events/metrics/scheduled.json")).expect("sample event");
    // CloudWatch (and moto's model of it) serves recent data: the run happens now.
    let now = Utc::now();
    event["time"] = Value::String(now.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let end = DateTime::from_timestamp(now.timestamp() / 300 * 300, 0).expect("time");
    put_cpu_day(&config, instance, end, value).await;

    let watched = serde_json::to_string(&[cpu(instance)]).expect("json");
    let mut env = stack.env();
    env.push((WATCHED_METRICS.to_owned(), watched));
    env.push((MAX_REQUESTS_PER_RUN.to_owned(), "5".to_owned()));
    // 24 days, as the weekly channel needs for hourly data: days with no object read as empty.
    env.push((HISTORY_HOURS.to_owned(), "576".to_owned()));
    let aws = Aws::with_config(config.clone(), Env::from_pairs(env));
    let mut settings = settings(&aws.env).expect("settings from the environment");
    assert_eq!(settings.history_hours, 576);
    settings.backfill_hours = 25;
    let source = CloudWatchMetrics::new(&config);
    let (lake, state, bus) = (
        aws.lake().expect("lake"),
        aws.state().expect("state"),
        aws.notifications().expect("bus"),
    );
    let ports = MetricsPorts {
        source: &source,
        store: &lake,
        lifecycle: LifecyclePorts {
            lake: None,
            state: &state,
            bus: &bus,
            resources: None,
        },
    };
    let outcome = handle(&ports, &PipelineConfig::default(), &settings, event)
        .await
        .expect("metrics run");
    assert!(outcome.complete);
    assert_eq!(outcome.requests, 1);
    assert_eq!(outcome.points, POINTS_PER_DAY, "{outcome:?}");
    // In the lake, by range, for the recommender.
    let stored = lake
        .metric_series(
            &cpu(instance),
            end - Duration::hours(25),
            end + Duration::hours(1),
        )
        .await
        .expect("read back");
    assert_eq!(stored.len(), POINTS_PER_DAY);
    let received = drain(&config, &queue)
        .await
        .into_iter()
        .map(|m| serde_json::from_str(&m.body).expect("an envelope"))
        .collect();
    (received, stack, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spiking_metric_sends_one_envelope_naming_it() {
    let (received, _stack, _config) = run_on("i-0spiky", spiky).await;
    assert_eq!(received.len(), 1, "{received:#?}");
    let n = &received[0];
    assert_eq!(n.body.kind(), "anomaly");
    assert_eq!(n.scope.kind, ScopeKind::Metric);
    let metric = n.scope.metric.as_ref().expect("the metric named");
    assert_eq!(metric, &cpu("i-0spiky").metric);
    assert!(n.title.contains("CPUUtilization"), "{}", n.title);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steady_metric_sends_nothing() {
    let (received, _stack, _config) = run_on("i-0steady", steady).await;
    assert!(received.is_empty(), "{received:#?}");
}
