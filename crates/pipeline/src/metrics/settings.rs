//! What the metrics step watches and how far it may go, validated without I/O.

use costwatch_store::MetricQuery;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// CloudWatch keeps 5-minute data for 63 days and 1-minute data for 15: a first pull reaches
/// back at most 15 days so every period asked for is still there.
const MAX_BACKFILL_HOURS: u32 = 15 * 24;
/// CloudWatch allows at most 30 dimensions per metric.
const MAX_DIMENSIONS: usize = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// The series to pull and judge (template parameter `WatchedMetrics`).
    pub watch: Vec<MetricQuery>,
    /// Hours pulled on the first run; also the most history the detector reads.
    pub backfill_hours: u32,
    /// Minutes before the last pull's end read again (CloudWatch revises its latest points).
    pub overlap_minutes: u32,
    /// Hours of stored history the detector reads before the new points, to learn each series.
    /// A week by default: the seasonal channel compares each point with the same time on the
    /// three days before it, and needs some days of its own residuals on top. The weekly
    /// channel compares with the last three weeks and acts from about 576 hours; each day read
    /// is one LIST and one GET per series per run, so that is the user's choice.
    pub history_hours: u32,
    /// GetMetricData requests (pages) a run never passes.
    pub max_requests_per_run: u32,
    /// Stream detector score (0–1) at or above which a point is anomalous. 0.561 is the
    /// standard-profile threshold on NAB's CloudWatch files (docs/detection.md).
    pub threshold: f64,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            watch: Vec::new(),
            backfill_hours: 168,
            overlap_minutes: 15,
            history_hours: 168,
            max_requests_per_run: 20,
            threshold: 0.561,
        }
    }
}

impl MetricsSettings {
    /// Checks what serde cannot, without I/O.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PipelineError::Config(m));
        if !(1..=MAX_BACKFILL_HOURS).contains(&self.backfill_hours) {
            return bad(format!(
                "backfill_hours must be 1 to {MAX_BACKFILL_HOURS}, got {}",
                self.backfill_hours
            ));
        }
        if self.history_hours == 0 || self.max_requests_per_run == 0 {
            return bad("history_hours and max_requests_per_run must be at least 1".into());
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return bad(format!(
                "threshold must be between 0 and 1, got {}",
                self.threshold
            ));
        }
        for q in &self.watch {
            let name = q.metric.to_string();
            if q.metric.namespace.is_empty() || q.metric.name.is_empty() || q.stat.is_empty() {
                return bad(format!("{name}: namespace, name and stat are required"));
            }
            if q.period_secs < 60 || q.period_secs % 60 != 0 {
                return bad(format!(
                    "{name}: period_secs must be a multiple of 60, got {}",
                    q.period_secs
                ));
            }
            if q.metric.dimensions.len() > MAX_DIMENSIONS {
                return bad(format!("{name}: at most {MAX_DIMENSIONS} dimensions"));
            }
        }
        Ok(())
    }

    /// The settings from their JSON (`{"watch": [...], ...}`), validated.
    pub fn from_json(text: &str) -> Result<Self> {
        let settings: Self = serde_json::from_str(text)
            .map_err(|e| PipelineError::Config(format!("metrics settings: {e}")))?;
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_parses_and_bad_values_are_refused() {
        let ok = MetricsSettings::from_json(
            r#"{"watch": [{"metric": {"namespace": "AWS/EC2", "name": "CPUUtilization",
                "dimensions": {"InstanceId": "i-0abc"}}, "stat": "Average", "period_secs": 300}]}"#,
        )
        .expect("valid");
        assert_eq!(ok.watch.len(), 1);
        assert_eq!(ok.max_requests_per_run, 20);
        let period = r#"{"watch": [{"metric": {"namespace": "AWS/EC2", "name": "CPUUtilization"},
            "stat": "Average", "period_secs": 90}]}"#;
        assert!(MetricsSettings::from_json(period).is_err());
        assert!(MetricsSettings::from_json(r#"{"threshold": 1.5}"#).is_err());
        assert!(MetricsSettings::from_json(r#"{"unknown": 1}"#).is_err());
        assert!(MetricsSettings::from_json(r#"{"backfill_hours": 0}"#).is_err());
    }
}
