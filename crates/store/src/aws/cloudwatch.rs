//! CloudWatch `GetMetricData` as a [`MetricSource`] (feature `aws-cloudwatch`).
//!
//! - Queries go out in batches of at most 500 (the API's limit per request), each batch paged
//!   with `NextToken` until CloudWatch has returned every point of the window.
//! - Every request (page) is taken from the run's [`RequestBudget`] before it is sent, so the
//!   cap is never passed; a batch cut off by the cap is dropped whole and the pull marked
//!   incomplete (the caller re-reads the window next time).
//! - GetMetricData bills $0.01 per 1,000 metrics requested, each page counting its batch's
//!   queries again: [`MetricPull::metrics_requested`] carries that figure for the ledger.
//! - The SDK's own retries are off, as for Cost Explorer: a retried send is a billed request
//!   the budget must see. A failed call fails the pull; the next scheduled run repeats it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::primitives::DateTime as SdkTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};
use chrono::{DateTime, Utc};

use super::error::aws_error;
use crate::error::Result;
use crate::metrics::{
    MAX_QUERIES_PER_REQUEST, MetricPoint, MetricPull, MetricQuery, MetricSeries, MetricSource,
};
use crate::ports::RequestBudget;

/// CloudWatch through the AWS SDK. Build it once per container and share it.
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: Client,
}

impl CloudWatchMetrics {
    pub fn new(config: &SdkConfig) -> Self {
        let cw = aws_sdk_cloudwatch::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            client: Client::from_conf(cw),
        }
    }

    /// One batch read to its last page; `None` when the budget refused a page.
    async fn batch(
        &self,
        batch: &[MetricQuery],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        budget: &RequestBudget,
        requested: &mut u64,
    ) -> Result<Option<Vec<MetricSeries>>> {
        let queries: Vec<MetricDataQuery> = batch.iter().enumerate().map(to_query).collect();
        let mut points: Vec<BTreeMap<i64, f64>> = vec![BTreeMap::new(); batch.len()];
        let mut token: Option<String> = None;
        loop {
            if !budget.try_take() {
                return Ok(None);
            }
            *requested += batch.len() as u64;
            let page = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(SdkTime::from_secs(start.timestamp()))
                .end_time(SdkTime::from_secs(end.timestamp()))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("cloudwatch:GetMetricData", e))?;
            for result in page.metric_data_results() {
                if let Some(index) = result_index(result).filter(|i| *i < batch.len()) {
                    let times = result.timestamps().iter().map(SdkTime::secs);
                    points[index].extend(times.zip(result.values().iter().copied()));
                }
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Some(
            batch
                .iter()
                .zip(points)
                .map(|(query, points)| MetricSeries {
                    query: query.clone(),
                    points: points
                        .into_iter()
                        .filter_map(|(secs, value)| {
                            DateTime::from_timestamp(secs, 0)
                                .map(|time| MetricPoint { time, value })
                        })
                        .collect(),
                })
                .collect(),
        ))
    }
}

/// Query ids are `q<position in the batch>`: ids must start with a lower-case letter.
fn to_query((index, q): (usize, &MetricQuery)) -> MetricDataQuery {
    let dimensions = q
        .metric
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let metric = Metric::builder()
        .namespace(&q.metric.namespace)
        .metric_name(&q.metric.name)
        .set_dimensions(Some(dimensions))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(i32::try_from(q.period_secs).unwrap_or(i32::MAX))
        .stat(&q.stat)
        .build();
    MetricDataQuery::builder()
        .id(format!("q{index}"))
        .metric_stat(stat)
        .return_data(true)
        .build()
}

fn result_index(result: &MetricDataResult) -> Option<usize> {
    result.id()?.strip_prefix('q')?.parse().ok()
}

#[async_trait]
impl MetricSource for CloudWatchMetrics {
    async fn fetch(
        &self,
        queries: &[MetricQuery],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        budget: &RequestBudget,
    ) -> Result<MetricPull> {
        let mut pull = MetricPull {
            complete: true,
            ..MetricPull::default()
        };
        for batch in queries.chunks(MAX_QUERIES_PER_REQUEST) {
            let read = self
                .batch(batch, start, end, budget, &mut pull.metrics_requested)
                .await?;
            match read {
                Some(series) => pull.series.extend(series),
                None => {
                    pull.complete = false;
                    break;
                }
            }
        }
        Ok(pull)
    }
}
