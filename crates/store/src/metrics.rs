//! Metric series: where they come from ([`MetricSource`], CloudWatch GetMetricData on AWS) and
//! where they are kept ([`MetricStore`], the lake beside the cost data).
//!
//! Lake layout, one object per series and UTC day:
//! `metrics/<namespace>/<metric>/date=YYYY-MM-DD/<dimensions>~<stat>-<period>s.json`, every
//! segment made key-safe. Writing a day merges the points already there with the new ones (a
//! re-pulled point replaces the stored one), so re-running a window never duplicates it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::metric::MetricId;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::ports::{LakeReader, LakeWriter, RequestBudget};

/// Top folder of the metric series in the lake.
pub const METRICS_PREFIX: &str = "metrics/";
/// GetMetricData takes at most 500 metric queries per request.
pub const MAX_QUERIES_PER_REQUEST: usize = 500;

/// One series to read: a metric, a statistic and a period.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricQuery {
    pub metric: MetricId,
    /// `Average`, `Maximum`, `Sum`, `p99`…
    pub stat: String,
    /// Seconds per point: a multiple of 60 (CloudWatch's standard resolution).
    pub period_secs: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub time: DateTime<Utc>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    pub query: MetricQuery,
    /// Ascending by time, one point per time.
    pub points: Vec<MetricPoint>,
}

/// What one pull returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricPull {
    /// One series per query answered, in the order asked; a query with no data has no points.
    pub series: Vec<MetricSeries>,
    /// Metrics requested, summed over requests: what GetMetricData bills ($0.01 per 1,000).
    pub metrics_requested: u64,
    /// False when the request budget cut the pull short: `series` holds only the batches that
    /// were read to their last page.
    pub complete: bool,
}

/// Where metric series come from (CloudWatch GetMetricData on AWS).
#[async_trait]
pub trait MetricSource: Send + Sync {
    /// Points of every query with a time in `start..end`, each request (page) taken from
    /// `budget` before it is sent.
    async fn fetch(
        &self,
        queries: &[MetricQuery],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        budget: &RequestBudget,
    ) -> Result<MetricPull>;
}

/// Stored metric series: written by the metrics step, read by its detector and (later) the
/// recommender's utilisation checks.
#[async_trait]
pub trait MetricStore: Send + Sync {
    /// Merges `series` into its day objects.
    async fn put_series(&self, series: &MetricSeries) -> Result<()>;
    /// The stored points of one series with a time in `start..end`, ascending.
    async fn metric_series(
        &self,
        query: &MetricQuery,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<MetricPoint>>;
}

/// The body of one day object.
#[derive(Debug, Serialize, Deserialize)]
struct DayObject {
    query: MetricQuery,
    /// (epoch seconds, value), ascending.
    points: Vec<(i64, f64)>,
}

/// Every lake is a metric store: the memory, local and S3 lakes alike.
#[async_trait]
impl<T: LakeReader + LakeWriter + ?Sized> MetricStore for T {
    async fn put_series(&self, series: &MetricSeries) -> Result<()> {
        let mut by_day: BTreeMap<NaiveDate, Vec<&MetricPoint>> = BTreeMap::new();
        for p in &series.points {
            by_day.entry(p.time.date_naive()).or_default().push(p);
        }
        for (day, points) in by_day {
            let key = day_key(&series.query, day);
            let mut merged: BTreeMap<i64, f64> = read_day(self, &key).await?.into_iter().collect();
            merged.extend(points.iter().map(|p| (p.time.timestamp(), p.value)));
            let body = DayObject {
                query: series.query.clone(),
                points: merged.into_iter().collect(),
            };
            let bytes = serde_json::to_vec(&body).map_err(|e| corrupt(&key, e))?;
            self.put(&key, bytes).await?;
        }
        Ok(())
    }

    async fn metric_series(
        &self,
        query: &MetricQuery,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<MetricPoint>> {
        let (first, last) = (start.date_naive(), end.date_naive());
        let mut out = Vec::new();
        for day in first.iter_days().take_while(|d| *d <= last) {
            for (secs, value) in read_day(self, &day_key(query, day)).await? {
                let Some(time) = DateTime::from_timestamp(secs, 0) else {
                    continue;
                };
                if start <= time && time < end {
                    out.push(MetricPoint { time, value });
                }
            }
        }
        Ok(out)
    }
}

/// Listed before it is read: S3 answers a missing key with 403, not 404, to a role that may
/// list only `metrics/*` (the metrics function's), and a day with no object is common.
async fn read_day<L: LakeReader + ?Sized>(lake: &L, key: &str) -> Result<Vec<(i64, f64)>> {
    if !lake.list(key).await?.iter().any(|k| k == key) {
        return Ok(Vec::new());
    }
    match lake.get(key).await? {
        None => Ok(Vec::new()),
        Some(bytes) => serde_json::from_slice::<DayObject>(&bytes)
            .map(|d| d.points)
            .map_err(|e| corrupt(key, e)),
    }
}

fn corrupt(key: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        path: key.to_owned(),
        reason: e.to_string(),
    }
}

/// The object holding `query`'s points of `day`.
pub fn day_key(query: &MetricQuery, day: NaiveDate) -> String {
    let m = &query.metric;
    let dims = match m.dimensions.is_empty() {
        true => "all".to_owned(),
        false => key_safe(&m.dimensions_text()),
    };
    format!(
        "{METRICS_PREFIX}{}/{}/date={day}/{dims}~{}-{}s.json",
        key_safe(&m.namespace),
        key_safe(&m.name),
        key_safe(&query.stat),
        query.period_secs
    )
}

/// ASCII letters, digits, `-`, `_` and `=` kept, the rest percent-encoded: every name is one
/// safe, distinct key segment (`AWS/EC2` → `AWS%2FEC2`).
fn key_safe(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'=') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryLake;

    fn cpu(instance: &str) -> MetricQuery {
        MetricQuery {
            metric: MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", instance)]),
            stat: "Average".into(),
            period_secs: 300,
        }
    }

    fn at(secs: i64, value: f64) -> MetricPoint {
        MetricPoint {
            time: DateTime::from_timestamp(secs, 0).expect("time"),
            value,
        }
    }

    #[test]
    fn keys_are_partitioned_by_date_and_safe() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
        assert_eq!(
            day_key(&cpu("i-1"), day),
            "metrics/AWS%2FEC2/CPUUtilization/date=2026-03-01/InstanceId=i-1~Average-300s.json"
        );
        crate::key::validate_key(&day_key(&cpu("a/../b c"), day)).expect("a valid lake key");
    }

    #[tokio::test]
    async fn a_series_reads_back_by_range_and_rewrites_merge() {
        let lake = MemoryLake::new();
        let day = 1_772_323_200; // 2026-03-01T00:00Z
        let points = vec![at(day - 300, 1.0), at(day, 2.0), at(day + 300, 3.0)];
        let series = MetricSeries {
            query: cpu("i-1"),
            points,
        };
        lake.put_series(&series).await.expect("put");
        // The same window again with one point revised: replaced, not duplicated.
        let again = MetricSeries {
            query: cpu("i-1"),
            points: vec![at(day + 300, 4.0), at(day + 600, 5.0)],
        };
        lake.put_series(&again).await.expect("put");
        let all = lake
            .metric_series(
                &cpu("i-1"),
                at(day - 3600, 0.0).time,
                at(day + 3600, 0.0).time,
            )
            .await
            .expect("read");
        let values: Vec<f64> = all.iter().map(|p| p.value).collect();
        assert_eq!(values, [1.0, 2.0, 4.0, 5.0]);
        let other = lake
            .metric_series(
                &cpu("i-2"),
                at(day - 3600, 0.0).time,
                at(day + 3600, 0.0).time,
            )
            .await
            .expect("read");
        assert!(other.is_empty());
        let window = lake
            .metric_series(&cpu("i-1"), at(day, 0.0).time, at(day + 600, 0.0).time)
            .await
            .expect("read");
        assert_eq!(window, vec![at(day, 2.0), at(day + 300, 4.0)]);
        assert_eq!(
            lake.list("metrics/").await.expect("list").len(),
            2,
            "two days"
        );
    }
}
