//! CloudWatch metric data on moto: a day of one instance's CPU, as the metrics source's tests
//! (crates/lambda/tests/metrics_moto.rs, crates/metrics/tests/runtime_loop.rs) pull it back.

use chrono::{DateTime, Duration, Utc};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_cloudwatch;
use costwatch_store::aws::sdk::aws_sdk_cloudwatch::primitives::DateTime as SdkTime;
use costwatch_store::aws::sdk::aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

/// Points in a day at CloudWatch's 5-minute period.
pub const POINTS_PER_DAY: usize = 288;

/// A repeating shape: after its first cycle no value is new.
pub fn steady(i: usize) -> f64 {
    20.0 + 5.0 * ((i % 12) as f64 - 6.0).abs()
}

/// `steady` with three high points near the end of the day.
pub fn spiky(i: usize) -> f64 {
    if (270..273).contains(&i) {
        97.0
    } else {
        steady(i)
    }
}

/// 24 hours of 5-minute `AWS/EC2` `CPUUtilization` points of `instance` ending at `end`,
/// `value(i)` each, through PutMetricData.
pub async fn put_cpu_day(
    config: &SdkConfig,
    instance: &str,
    end: DateTime<Utc>,
    value: impl Fn(usize) -> f64,
) {
    let first = end - Duration::hours(24);
    let data: Vec<MetricDatum> = (0..POINTS_PER_DAY)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("InstanceId")
                        .value(instance)
                        .build(),
                )
                .timestamp(SdkTime::from_secs(
                    (first + Duration::minutes(5 * i as i64)).timestamp(),
                ))
                .value(value(i))
                .build()
        })
        .collect();
    aws_sdk_cloudwatch::Client::new(config)
        .put_metric_data()
        .namespace("AWS/EC2")
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("PutMetricData on moto");
}
