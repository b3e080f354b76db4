use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::error::Result;
use crate::metrics::{
    MAX_QUERIES_PER_REQUEST, MetricPoint, MetricPull, MetricQuery, MetricSeries, MetricSource,
};
use crate::ports::RequestBudget;

/// Metric series held in memory (tests, the CLI's demo data). Requests are counted as
/// CloudWatch would bill them: one per batch of up to 500 queries, within the budget.
#[derive(Debug, Default)]
pub struct MemoryMetricSource {
    series: Mutex<BTreeMap<MetricQuery, Vec<MetricPoint>>>,
}

impl MemoryMetricSource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds points to a series (later points at the same time replace earlier ones).
    pub fn insert(&self, query: &MetricQuery, points: &[MetricPoint]) {
        let mut all = lock(&self.series);
        let stored = all.entry(query.clone()).or_default();
        stored.extend_from_slice(points);
        stored.sort_by_key(|p| p.time);
        stored.reverse();
        stored.dedup_by_key(|p| p.time);
        stored.reverse();
    }
}

#[async_trait]
impl MetricSource for MemoryMetricSource {
    async fn fetch(
        &self,
        queries: &[MetricQuery],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        budget: &RequestBudget,
    ) -> Result<MetricPull> {
        let all = lock(&self.series).clone();
        let mut pull = MetricPull {
            complete: true,
            ..MetricPull::default()
        };
        for batch in queries.chunks(MAX_QUERIES_PER_REQUEST) {
            if !budget.try_take() {
                pull.complete = false;
                break;
            }
            pull.metrics_requested += batch.len() as u64;
            pull.series.extend(batch.iter().map(|q| {
                MetricSeries {
                    query: q.clone(),
                    points: all
                        .get(q)
                        .into_iter()
                        .flatten()
                        .filter(|p| start <= p.time && p.time < end)
                        .copied()
                        .collect(),
                }
            }));
        }
        Ok(pull)
    }
}
