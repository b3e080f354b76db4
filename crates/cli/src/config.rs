//! The CLI's settings: a TOML file (unknown keys are errors) plus flags and environment.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use costwatch_pipeline::PipelineConfig;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    pipeline: PipelineConfig,
}

#[derive(Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub pipeline: PipelineConfig,
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
                toml::from_str(&text).with_context(|| format!("invalid config {}", p.display()))?
            }
            None => FileConfig::default(),
        };
        parsed
            .pipeline
            .validate()
            .context("invalid [pipeline] configuration")?;
        Ok(Self {
            data_dir: data_dir_flag
                .or(parsed.data_dir)
                .unwrap_or_else(costwatch_store::local::default_data_dir),
            pipeline: parsed.pipeline,
        })
    }
}
