//! Where a function finds the configuration it runs with: fixed at start (the CLI's file, a
//! Lambda's `PipelineConfigJson`), or an object in the lake bucket that `costwatch config push`
//! writes. The object has no size limit worth the name, where a Lambda's environment holds 4 KB
//! in all (a few dozen budgets, shared with every other setting), and a warm function re-reads
//! it after [`DEFAULT_MAX_AGE`], so a changed budget takes effect within a minute without a
//! deploy.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use costwatch_store::LakeReader;

use crate::config::PipelineConfig;
use crate::error::{PipelineError, Result};

/// How long a read configuration object is used before the next run reads it again: one S3
/// GET a minute at most per warm function, and a pushed change reaches every function within it.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);

/// The configuration to run with now.
#[async_trait]
pub trait ConfigSource: Send + Sync {
    async fn current(&self) -> Result<Arc<PipelineConfig>>;
}

/// A configuration fixed for the life of the process.
#[async_trait]
impl ConfigSource for Arc<PipelineConfig> {
    async fn current(&self) -> Result<Arc<PipelineConfig>> {
        Ok(self.clone())
    }
}

/// The pipeline configuration as JSON (the `[pipeline]` table's fields), validated before it is
/// written anywhere: what `costwatch config push` uploads and [`ConfigObject`] reads back.
pub fn to_object(config: &PipelineConfig) -> Result<Vec<u8>> {
    config.validate()?;
    serde_json::to_vec_pretty(config).map_err(|e| PipelineError::Config(e.to_string()))
}

/// Settings a host gives a function beside its configuration, as template parameters of their
/// own (`DashboardUrl`, `CeRestateDays`): laid over whichever configuration it runs with, the
/// environment's or a pushed object, so both read them alike.
#[derive(Debug, Clone, Default)]
pub struct HostSettings {
    pub dashboard_url: Option<String>,
    /// The days collection restates, looked at again by detection and daily budgets.
    pub recheck_days: Option<u32>,
}

impl HostSettings {
    pub fn apply(&self, config: &mut PipelineConfig) {
        if let Some(url) = &self.dashboard_url {
            config.dashboard_url = Some(url.clone());
        }
        if let Some(days) = self.recheck_days {
            config.recheck_days = days;
        }
    }
}

/// The configuration in one lake object, read on first use and again once older than its
/// maximum age. A missing or invalid object fails the run that reads it, naming the object and
/// what is wrong (on AWS the event goes to the dead-letter queue with that reason, to be
/// redriven once the object is fixed); it never falls back to defaults, which would silently
/// drop every budget.
pub struct ConfigObject {
    lake: Arc<dyn LakeReader>,
    key: String,
    host: HostSettings,
    max_age: Duration,
    cached: Mutex<Option<(Arc<PipelineConfig>, Instant)>>,
}

impl ConfigObject {
    pub fn new(lake: Arc<dyn LakeReader>, key: impl Into<String>) -> Self {
        Self {
            lake,
            key: key.into(),
            host: HostSettings::default(),
            max_age: DEFAULT_MAX_AGE,
            cached: Mutex::new(None),
        }
    }

    /// Lays `host` over every object read.
    pub fn with_host(mut self, host: HostSettings) -> Self {
        self.host = host;
        self
    }

    /// Reuse a read configuration for `max_age` instead of [`DEFAULT_MAX_AGE`].
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    fn fresh(&self) -> Option<Arc<PipelineConfig>> {
        let cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .filter(|(_, read_at)| read_at.elapsed() < self.max_age)
            .map(|(config, _)| config.clone())
    }

    async fn read(&self) -> Result<Arc<PipelineConfig>> {
        let bad = |what: String| PipelineError::Config(format!("{} in the lake: {what}", self.key));
        let body = self.lake.get(&self.key).await?.ok_or_else(|| {
            bad("no such object; write it with `costwatch config push`".to_owned())
        })?;
        let mut config: PipelineConfig =
            serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        self.host.apply(&mut config);
        config.validate().map_err(|e| bad(e.to_string()))?;
        Ok(Arc::new(config))
    }
}

#[async_trait]
impl ConfigSource for ConfigObject {
    async fn current(&self) -> Result<Arc<PipelineConfig>> {
        if let Some(config) = self.fresh() {
            return Ok(config);
        }
        let config = self.read().await?;
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((config.clone(), Instant::now()));
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_analytics::budget::Budget;
    use costwatch_store::LakeWriter;
    use costwatch_store::memory::MemoryLake;

    const KEY: &str = "config/pipeline.json";

    fn budgets(count: usize) -> PipelineConfig {
        let budgets: Vec<Budget> = (0..count)
            .map(|i| {
                serde_json::from_value(serde_json::json!({
                    "name": format!("team-{i}"),
                    "scope": format!("tag=team|value=team-{i}"),
                    "amount": "1200.50",
                    "thresholds": [{"percent": 80, "basis": "actual"},
                                   {"percent": 100, "basis": "forecast"}],
                }))
                .unwrap()
            })
            .collect();
        PipelineConfig {
            budgets,
            history_days: 90,
            ..PipelineConfig::default()
        }
    }

    async fn lake_with(config: &PipelineConfig) -> Arc<MemoryLake> {
        let lake = Arc::new(MemoryLake::default());
        lake.put(KEY, to_object(config).unwrap()).await.unwrap();
        lake
    }

    #[tokio::test]
    async fn a_pushed_configuration_reads_back_whole_beyond_what_an_environment_holds() {
        let pushed = budgets(200);
        let object = to_object(&pushed).unwrap();
        assert!(object.len() > 4096, "200 budgets: {} bytes", object.len());
        let source = ConfigObject::new(lake_with(&pushed).await, KEY).with_host(HostSettings {
            dashboard_url: Some("https://costs.example.com".into()),
            recheck_days: Some(5),
        });
        let read = source.current().await.unwrap();
        assert_eq!(read.budgets.len(), 200);
        assert_eq!(read.history_days, 90);
        assert_eq!(
            serde_json::to_value(&read.budgets).unwrap(),
            serde_json::to_value(&pushed.budgets).unwrap()
        );
        assert_eq!(
            read.dashboard_url.as_deref(),
            Some("https://costs.example.com")
        );
        assert_eq!(read.recheck_days, 5);
    }

    #[tokio::test]
    async fn a_changed_object_is_read_once_the_cached_one_is_too_old() {
        let lake = lake_with(&budgets(1)).await;
        let kept = ConfigObject::new(lake.clone(), KEY).with_max_age(Duration::from_secs(3600));
        let reread = ConfigObject::new(lake.clone(), KEY).with_max_age(Duration::ZERO);
        assert_eq!(kept.current().await.unwrap().budgets.len(), 1);
        assert_eq!(reread.current().await.unwrap().budgets.len(), 1);
        lake.put(KEY, to_object(&budgets(3)).unwrap())
            .await
            .unwrap();
        assert_eq!(kept.current().await.unwrap().budgets.len(), 1);
        assert_eq!(reread.current().await.unwrap().budgets.len(), 3);
    }

    #[tokio::test]
    async fn a_missing_or_invalid_object_fails_the_run_and_names_the_object() {
        let lake = Arc::new(MemoryLake::default());
        let source = ConfigObject::new(lake.clone(), KEY).with_max_age(Duration::ZERO);
        let missing = source.current().await.unwrap_err().to_string();
        assert!(
            missing.contains(KEY) && missing.contains("costwatch config push"),
            "{missing}"
        );
        lake.put(KEY, br#"{"histroy_days": 90}"#.to_vec())
            .await
            .unwrap();
        let unknown = source.current().await.unwrap_err().to_string();
        assert!(
            unknown.contains(KEY) && unknown.contains("histroy_days"),
            "{unknown}"
        );
        lake.put(KEY, br#"{"history_days": 7}"#.to_vec())
            .await
            .unwrap();
        let invalid = source.current().await.unwrap_err();
        assert!(!invalid.is_retryable());
        assert!(invalid.to_string().contains("history_days"), "{invalid}");
    }

    #[test]
    fn an_invalid_configuration_is_never_written() {
        let config = PipelineConfig {
            history_days: 7,
            ..PipelineConfig::default()
        };
        assert!(to_object(&config).is_err());
    }
}
