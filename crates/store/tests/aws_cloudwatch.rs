//! The CloudWatch metrics source through the real SDK: batching past 500 queries and the request
//! budget against moto (seeded with PutMetricData), paging with NextToken against recorded AWS
//! responses (moto answers every query in one page, without NextToken).

use chrono::{DateTime, Duration, DurationRound, Utc};
use costwatch_core::metric::MetricId;
use costwatch_store::aws::CloudWatchMetrics;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_cloudwatch::primitives::DateTime as SdkTime;
use costwatch_store::aws::sdk::aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use costwatch_store::aws::sdk::aws_sdk_cloudwatch::{self};
use costwatch_store::{MetricQuery, MetricSource, RequestBudget};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};
use costwatch_testkit::moto::Moto;

fn cpu(instance: &str) -> MetricQuery {
    MetricQuery {
        metric: MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", instance)]),
        stat: "Average".into(),
        period_secs: 300,
    }
}

/// One datum per instance `i-0`…`i-<n-1>`, value = its number, at `at`.
async fn seed(config: &SdkConfig, n: usize, at: DateTime<Utc>) {
    let client = aws_sdk_cloudwatch::Client::new(config);
    let data: Vec<MetricDatum> = (0..n)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("InstanceId")
                        .value(format!("i-{i}"))
                        .build(),
                )
                .timestamp(SdkTime::from_secs(at.timestamp()))
                .value(i as f64)
                .build()
        })
        .collect();
    // PutMetricData takes at most 1,000 datums per call.
    for chunk in data.chunks(1000) {
        client
            .put_metric_data()
            .namespace("AWS/EC2")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .expect("PutMetricData on moto");
    }
}

fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc::now()
        .duration_trunc(Duration::minutes(5))
        .expect("whole minutes")
        - Duration::hours(1);
    (start, start + Duration::minutes(5))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_500_series_go_out_in_batches_each_series_whole() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let (start, end) = window();
    seed(&config, 520, start + Duration::minutes(1)).await;
    let queries: Vec<MetricQuery> = (0..520).map(|i| cpu(&format!("i-{i}"))).collect();
    let source = CloudWatchMetrics::new(&config);
    let budget = RequestBudget::new(10);
    let pull = source
        .fetch(&queries, start, end, &budget)
        .await
        .expect("GetMetricData on moto");
    assert!(pull.complete);
    assert_eq!(budget.used(), 2, "500 queries, then 20");
    assert_eq!(pull.metrics_requested, 520);
    assert_eq!(pull.series.len(), 520);
    for (i, series) in pull.series.iter().enumerate() {
        assert_eq!(series.query, queries[i]);
        let values: Vec<f64> = series.points.iter().map(|p| p.value).collect();
        assert_eq!(
            values,
            [i as f64],
            "series {i} came back whole and in its place"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_stops_before_a_batch_and_the_pull_says_so() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let (start, end) = window();
    seed(&config, 510, start + Duration::minutes(1)).await;
    let queries: Vec<MetricQuery> = (0..510).map(|i| cpu(&format!("i-{i}"))).collect();
    let budget = RequestBudget::new(1);
    let pull = CloudWatchMetrics::new(&config)
        .fetch(&queries, start, end, &budget)
        .await
        .expect("GetMetricData on moto");
    assert!(!pull.complete);
    assert!(budget.capped());
    assert_eq!(budget.used(), 1, "the cap is never passed");
    assert_eq!(pull.series.len(), 500, "only the batch read whole");
    assert_eq!(pull.metrics_requested, 500);
}

/// A GetMetricData page as AWS answers it (awsQuery XML, the API reference's shape).
fn page(points: &[(&str, &str, f64)], token: Option<&str>) -> String {
    let results: String = points
        .iter()
        .map(|(id, time, value)| {
            format!(
                "<member><Id>{id}</Id><Label>CPUUtilization</Label>\
                 <Timestamps><member>{time}</member></Timestamps>\
                 <Values><member>{value}</member></Values>\
                 <StatusCode>{}</StatusCode></member>",
                if token.is_some() {
                    "PartialData"
                } else {
                    "Complete"
                }
            )
        })
        .collect();
    let token = token.map_or(String::new(), |t| format!("<NextToken>{t}</NextToken>"));
    format!(
        "<GetMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
         <GetMetricDataResult><MetricDataResults>{results}</MetricDataResults>{token}\
         <Messages/></GetMetricDataResult>\
         <ResponseMetadata><RequestId>4f1d6c1e-0000-4000-8000-000000000001</RequestId>\
         </ResponseMetadata></GetMetricDataResponse>"
    )
}

#[tokio::test]
async fn pages_are_followed_with_next_token_and_each_is_a_request() {
    let fake = AwsJsonFake::start(vec![
        Reply::ok(page(
            &[
                ("q0", "2026-03-01T00:00:00Z", 1.0),
                ("q1", "2026-03-01T00:00:00Z", 10.0),
            ],
            Some("page-2-token"),
        )),
        Reply::ok(page(
            &[
                ("q0", "2026-03-01T00:05:00Z", 2.0),
                ("q1", "2026-03-01T00:05:00Z", 20.0),
            ],
            None,
        )),
    ]);
    let config = fake.sdk_config().await;
    let queries = [cpu("i-a"), cpu("i-b")];
    let start = DateTime::from_timestamp(1_772_323_200, 0).expect("time");
    let budget = RequestBudget::new(5);
    let pull = CloudWatchMetrics::new(&config)
        .fetch(&queries, start, start + Duration::hours(1), &budget)
        .await
        .expect("both pages");
    assert!(pull.complete);
    assert_eq!(budget.used(), 2);
    assert_eq!(
        pull.metrics_requested, 4,
        "each page bills its queries again"
    );
    let values: Vec<Vec<f64>> = pull
        .series
        .iter()
        .map(|s| s.points.iter().map(|p| p.value).collect())
        .collect();
    assert_eq!(values, [vec![1.0, 2.0], vec![10.0, 20.0]]);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[0].body.contains("Action=GetMetricData"),
        "{}",
        requests[0].body
    );
    assert!(!requests[0].body.contains("NextToken"));
    assert!(
        requests[1].body.contains("NextToken=page-2-token"),
        "{}",
        requests[1].body
    );
}

#[tokio::test]
async fn a_page_the_budget_refuses_is_not_sent() {
    let fake = AwsJsonFake::start(vec![Reply::ok(page(
        &[("q0", "2026-03-01T00:00:00Z", 1.0)],
        Some("more"),
    ))]);
    let config = fake.sdk_config().await;
    let start = DateTime::from_timestamp(1_772_323_200, 0).expect("time");
    let budget = RequestBudget::new(1);
    let pull = CloudWatchMetrics::new(&config)
        .fetch(&[cpu("i-a")], start, start + Duration::hours(1), &budget)
        .await
        .expect("first page");
    assert!(!pull.complete);
    assert!(
        pull.series.is_empty(),
        "a batch without its last page is dropped whole"
    );
    assert_eq!(fake.requests().len(), 1);
}
