//! A CloudWatch metric as the suite names it: namespace, metric name and dimensions. It is what
//! a metric anomaly is about ([`crate::Scope::Metric`]) and what the lake's metric series are
//! keyed by, so an envelope, a state key and a lake key all name the same series.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricId {
    /// `AWS/EC2`, `AWS/Lambda`, a custom namespace…
    pub namespace: String,
    /// `CPUUtilization`, `NetworkIn`…
    pub name: String,
    /// `InstanceId` → `i-0abc…`; sorted, so the same metric always has the same key.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
}

impl MetricId {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions: dimensions
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// `InstanceId=i-1, AutoScalingGroupName=web` (sorted by name), empty without dimensions.
    pub fn dimensions_text(&self) -> String {
        self.dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "CPUUtilization (AWS/EC2, InstanceId=i-1)": for titles and labels.
impl fmt::Display for MetricId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dimensions.is_empty() {
            true => write!(f, "{} ({})", self.name, self.namespace),
            false => write!(
                f,
                "{} ({}, {})",
                self.name,
                self.namespace,
                self.dimensions_text()
            ),
        }
    }
}
