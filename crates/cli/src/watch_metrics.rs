//! `run --aws` with `[metrics]`: the metrics Lambda's step on this machine. An incremental
//! GetMetricData pull of the watched series (from the last pull's end, within
//! `max_requests_per_run`) into the local lake, the request ledger in the local state, and the
//! stream detector over the points the pull added; its anomalies go through the same lifecycle
//! and into the same notifications folder as the cost run's.

use std::sync::Mutex;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use costwatch_core::Notification;
use costwatch_pipeline::detect::LifecyclePorts;
use costwatch_pipeline::metrics::{MetricsOutcome, MetricsPorts, run};
use costwatch_store::aws::CloudWatchMetrics;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::local::LocalBus;
use costwatch_store::{LocalStore, NotificationBus};

use crate::config::Settings;

/// Pulls and judges the watched series; returns the run's outcome and the envelopes it
/// published (written to `bus`'s folder).
pub async fn watch(
    sdk: &SdkConfig,
    settings: &Settings,
    store: &LocalStore,
    bus: &LocalBus,
    now: DateTime<Utc>,
) -> Result<(MetricsOutcome, Vec<Notification>)> {
    let source = CloudWatchMetrics::new(sdk);
    let kept = Kept {
        bus,
        published: Mutex::default(),
    };
    let ports = MetricsPorts {
        source: &source,
        store: &store.lake,
        lifecycle: LifecyclePorts {
            // No cost records to rank: a metric's anomaly has no root causes (as on AWS).
            lake: None,
            state: &store.state,
            bus: &kept,
            resources: None,
        },
    };
    let outcome = run(&ports, &settings.pipeline, &settings.metrics, now)
        .await
        .context("watching the [metrics] series (CloudWatch GetMetricData)")?;
    let published = kept.published.into_inner().unwrap_or_default();
    Ok((outcome, published))
}

/// The local bus, keeping what went through it for the run's summary.
struct Kept<'a> {
    bus: &'a LocalBus,
    published: Mutex<Vec<Notification>>,
}

#[async_trait::async_trait]
impl NotificationBus for Kept<'_> {
    async fn publish(&self, n: &Notification) -> costwatch_store::error::Result<()> {
        self.bus.publish(n).await?;
        if let Ok(mut published) = self.published.lock() {
            published.push(n.clone());
        }
        Ok(())
    }
}
