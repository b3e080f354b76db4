//! Per-integration delivery metrics, recorded through the `metrics` facade: a dispatcher Lambda
//! installs the EMF recorder (costwatch-lambda's `emf`), so they reach CloudWatch as log lines;
//! without a recorder (tests, the CLI) recording is a no-op. Dimension: `Integration`.

use std::time::Duration;

pub fn sent(integration: &'static str, messages: u64, latency: Duration) {
    metrics::counter!("DispatchSent", "Integration" => integration).increment(messages);
    metrics::histogram!("DispatchLatencyMs", "Integration" => integration)
        .record(latency.as_secs_f64() * 1000.0);
}

pub fn retried(integration: &'static str, retries: u64) {
    if retries > 0 {
        metrics::counter!("DispatchRetried", "Integration" => integration).increment(retries);
    }
}

pub fn failed(integration: &'static str) {
    metrics::counter!("DispatchFailed", "Integration" => integration).increment(1);
}

/// Envelopes a full storm window held for a later digest ([`crate::storm`]).
pub fn held(integration: &'static str, envelopes: u64) {
    metrics::counter!("DispatchHeld", "Integration" => integration).increment(envelopes);
}

pub fn digested(integration: &'static str, envelopes: u64) {
    metrics::counter!("DispatchDigested", "Integration" => integration).increment(envelopes);
}
