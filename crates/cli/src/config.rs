//! The CLI's settings: a TOML file (unknown keys are errors) plus flags and environment.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::incremental::CollectSettings;
use costwatch_pipeline::metrics::MetricsSettings;
use costwatch_store::cost_explorer_options::CostExplorerOptions;
use serde::Deserialize;

/// A config file as written; [`Settings::validated`] checks it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    data_dir: Option<PathBuf>,
    pipeline: PipelineConfig,
    collect: CollectSettings,
    cost_explorer: CostExplorerConfig,
    source: SourceConfig,
    /// `[metrics]`: the CloudWatch series `run --aws` pulls and judges, as the metrics Lambda.
    metrics: MetricsSettings,
    /// `[integrations.<name>]`: accepted here so one costwatch.toml serves every command;
    /// `render` and `notify` read them (notify.rs), `run` does not.
    #[allow(dead_code)]
    integrations: std::collections::BTreeMap<String, toml::Value>,
}

/// `[source]`: where `costwatch run` gets new costs when neither `--aws` nor `--data-export`
/// says: the CLI's counterpart of the stack's `CostSource` parameter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// The Data Export on disk (`kind = "data-export"`): its folder or Parquet.
    pub data_export: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Only what `costwatch import` put in the data directory.
    #[default]
    Local,
    /// As `run --aws`: new and revised days from Cost Explorer first.
    CostExplorer,
    /// As `run --data-export <data_export>`: the days AWS may revise, from the export.
    DataExport,
}

/// `[cost_explorer]`: what `run --aws` asks Cost Explorer for, beyond account × service.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostExplorerConfig {
    /// The management account's id, written as BillingAccountId.
    pub billing_account_id: Option<String>,
    /// Cost allocation tag keys: one more request each per run that pulls days.
    pub tag_keys: Vec<String>,
    /// Cost category names: one more request each per run that pulls days.
    pub cost_categories: Vec<String>,
    /// Longest run of days one request covers (default 7).
    pub days_per_request: Option<u32>,
    /// With `run --aws`, also import AWS Cost Anomaly Detection's findings of the last week
    /// (GetAnomalies, one request per page, at most 5) and merge them with ours.
    pub import_anomalies: bool,
}

impl CostExplorerConfig {
    pub fn options(&self) -> CostExplorerOptions {
        let defaults = CostExplorerOptions::default();
        CostExplorerOptions {
            billing_account_id: self
                .billing_account_id
                .clone()
                .unwrap_or(defaults.billing_account_id),
            tag_keys: self.tag_keys.clone(),
            cost_categories: self.cost_categories.clone(),
            days_per_request: self.days_per_request.unwrap_or(defaults.days_per_request),
            retry: defaults.retry,
        }
    }
}

#[derive(Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub pipeline: PipelineConfig,
    /// Read by `run --aws` only: checked in every build, so one file serves both.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub collect: CollectSettings,
    pub cost_explorer: CostExplorerConfig,
    pub source: SourceConfig,
    /// Read by `run --aws` only, like `collect`.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub metrics: MetricsSettings,
}

impl Settings {
    /// `--config` must exist; the default ./costwatch.toml is used only when present.
    pub fn load(path: Option<&Path>, data_dir_flag: Option<PathBuf>) -> Result<Self> {
        let default = Path::new("costwatch.toml");
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None if default.is_file() => Some(default.to_path_buf()),
            None => None,
        };
        let parsed: FileConfig = match &file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading config {}", p.display()))?;
                parse_toml(&text).with_context(|| format!("invalid config {}", p.display()))?
            }
            None => FileConfig::default(),
        };
        Self::validated(parsed, data_dir_flag)
    }

    /// The settings of a parsed file, checked without I/O; `data_dir_flag` wins over the file's.
    pub fn validated(parsed: FileConfig, data_dir_flag: Option<PathBuf>) -> Result<Self> {
        parsed
            .pipeline
            .validate()
            .context("invalid [pipeline] configuration")?;
        parsed
            .collect
            .validate()
            .context("invalid [collect] configuration")?;
        parsed
            .cost_explorer
            .options()
            .validate()
            .context("invalid [cost_explorer] configuration")?;
        parsed
            .metrics
            .validate()
            .context("invalid [metrics] configuration")?;
        if parsed.source.kind == SourceKind::DataExport && parsed.source.data_export.is_none() {
            anyhow::bail!(
                "invalid [source] configuration: kind = \"data-export\" needs data_export = \"<the export's folder>\""
            );
        }
        // Budgets and detection look again at the days collection restates.
        let pipeline = PipelineConfig {
            recheck_days: parsed.collect.restate_days,
            ..parsed.pipeline
        };
        Ok(Self {
            data_dir: data_dir_flag
                .or(parsed.data_dir)
                .unwrap_or_else(costwatch_store::local::default_data_dir),
            pipeline,
            collect: parsed.collect,
            cost_explorer: parsed.cost_explorer,
            source: parsed.source,
            metrics: parsed.metrics,
        })
    }
}

/// Parses a config file. toml's own error quotes the offending line, and a config line may hold
/// a token: the error here says what is wrong and where (line and column), never the text.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(" at line {line}, column {column}")
        });
        anyhow::anyhow!("{}{}", e.message().trim_end(), at.unwrap_or_default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<Settings> {
        Settings::validated(parse_toml(text)?, None)
    }

    /// Budgets and detection look again at the days collection restates, set in one place.
    #[test]
    fn the_days_collection_restates_are_the_days_looked_at_again() {
        let default = settings("").unwrap();
        assert_eq!(default.pipeline.recheck_days, default.collect.restate_days);
        let wider = settings("[collect]\nrestate_days = 6\n").unwrap();
        assert_eq!(wider.pipeline.recheck_days, 6);
        let err = settings("[pipeline]\nrecheck_days = 6\n").unwrap_err();
        assert!(err.to_string().contains("recheck_days"), "{err}");
    }
}
