//! Settings from the function's environment (set by template.yaml), read once, on the first
//! event ([`crate::ready`]), and validated before it is handled: a missing variable fails that
//! invocation with its name (and each one after it, until fixed), never half-way through one.

use std::collections::BTreeMap;

use costwatch_pipeline::config_source::HostSettings;
use costwatch_pipeline::{PipelineConfig, PipelineError};

use crate::error::{HandlerError, Result};

pub const BUCKET: &str = "COSTWATCH_BUCKET";
pub const TABLE: &str = "COSTWATCH_TABLE";
pub const PIPELINE_TOPIC_ARN: &str = "COSTWATCH_PIPELINE_TOPIC_ARN";
pub const NOTIFICATIONS_TOPIC_ARN: &str = "COSTWATCH_NOTIFICATIONS_TOPIC_ARN";
pub const DEAD_LETTER_QUEUE_URL: &str = "COSTWATCH_DEAD_LETTER_QUEUE_URL";
/// The pipeline configuration as JSON (the TOML file's fields); `{}` or unset for defaults.
pub const PIPELINE_CONFIG: &str = "COSTWATCH_PIPELINE_CONFIG";
/// Budgets as a JSON array. The template's default is `[]`, which leaves the budgets of the
/// pipeline configuration as they are; budgets in both is an error (which would win is a guess).
pub const BUDGETS: &str = "COSTWATCH_BUDGETS";
pub const DASHBOARD_URL: &str = "COSTWATCH_DASHBOARD_URL";
/// The key, in the lake bucket, of the pipeline configuration object `costwatch config push`
/// writes (`PipelineConfigKey`); unset: the configuration is [`PIPELINE_CONFIG`] and [`BUDGETS`].
pub const PIPELINE_CONFIG_KEY: &str = "COSTWATCH_PIPELINE_CONFIG_KEY";

/// The environment as read at start. Built from any list of pairs, so tests never touch the
/// process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A set, non-blank variable.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.optional(name)
            .ok_or_else(|| HandlerError::Config(format!("environment variable {name} is not set")))
    }

    /// A number, or `default` when unset.
    pub fn number(&self, name: &str, default: u32) -> Result<u32> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                HandlerError::Config(format!("{name} must be a whole number, got `{v}`"))
            }),
        }
    }

    /// A comma-separated list; blank items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The key of the pipeline configuration object, when the stack reads its configuration from
    /// the lake. [`PIPELINE_CONFIG`] and [`BUDGETS`] must then be left at their defaults (`{}`,
    /// `[]`): with settings in both, which one wins would be a guess.
    pub fn pipeline_config_key(&self) -> Result<Option<&str>> {
        let Some(key) = self.optional(PIPELINE_CONFIG_KEY) else {
            return Ok(None);
        };
        let holds_settings = |name: &str| {
            self.optional(name).is_some_and(|text| {
                !serde_json::from_str::<serde_json::Value>(text).is_ok_and(|value| {
                    value.as_object().is_some_and(|o| o.is_empty())
                        || value.as_array().is_some_and(|a| a.is_empty())
                })
            })
        };
        let both: Vec<&str> = [
            (PIPELINE_CONFIG, "PipelineConfigJson"),
            (BUDGETS, "BudgetsJson"),
        ]
        .into_iter()
        .filter(|(name, _)| holds_settings(name))
        .map(|(_, parameter)| parameter)
        .collect();
        if !both.is_empty() {
            let names = both.join(" and ");
            let holds = if both.len() == 1 { "holds" } else { "hold" };
            return Err(HandlerError::Config(format!(
                "the configuration is read from the lake object `{key}` (PipelineConfigKey), and \
                 {names} {holds} settings too: move them into costwatch.toml's [pipeline], run \
                 `costwatch config push`, and deploy with {names} at the default"
            )));
        }
        Ok(Some(key))
    }

    /// The settings the stack gives beside the configuration, laid over it: [`DASHBOARD_URL`],
    /// and the days budgets and detection look again at, which are the days collection
    /// restates (`CeRestateDays`, which the template gives the detect and forecast functions
    /// too).
    pub fn host(&self) -> Result<HostSettings> {
        let defaults = PipelineConfig::default();
        Ok(HostSettings {
            dashboard_url: self.optional(DASHBOARD_URL).map(str::to_owned),
            recheck_days: Some(self.number(
                crate::handlers::collect::RESTATE_DAYS,
                defaults.recheck_days,
            )?),
        })
    }

    /// The pipeline configuration: [`PIPELINE_CONFIG`], its budgets from [`BUDGETS`] when that
    /// lists any, the host's settings ([`Env::host`]) over it, validated as the CLI validates
    /// its file.
    pub fn pipeline_config(&self) -> Result<PipelineConfig> {
        let mut cfg =
            PipelineConfig::from_parameters(self.optional(PIPELINE_CONFIG), self.optional(BUDGETS))
                .map_err(|e| match e {
                    PipelineError::Config(why) => HandlerError::Config(why),
                    other => other.into(),
                })?;
        self.host()?.apply(&mut cfg);
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detect and forecast functions look again at the days collection restates.
    #[test]
    fn the_re_checked_days_are_the_days_collection_restates() {
        let default = Env::from_pairs([("COSTWATCH_PIPELINE_CONFIG", "{}")]);
        assert_eq!(default.pipeline_config().unwrap().recheck_days, 3);
        let wider = Env::from_pairs([("COSTWATCH_CE_RESTATE_DAYS", "7")]);
        assert_eq!(wider.pipeline_config().unwrap().recheck_days, 7);
        let bad = Env::from_pairs([("COSTWATCH_CE_RESTATE_DAYS", "a week")]);
        assert!(bad.pipeline_config().is_err());
    }

    #[test]
    fn a_configuration_object_leaves_the_environment_settings_at_their_defaults() {
        let key = (PIPELINE_CONFIG_KEY, "config/pipeline.json");
        let defaults = Env::from_pairs([key, (PIPELINE_CONFIG, "{}"), (BUDGETS, " [] ")]);
        assert_eq!(
            defaults.pipeline_config_key().unwrap(),
            Some("config/pipeline.json")
        );
        assert_eq!(Env::default().pipeline_config_key().unwrap(), None);
        let budgets = r#"[{"name":"org","scope":"org","amount":"100"}]"#;
        let err = Env::from_pairs([key, (PIPELINE_CONFIG, "{}"), (BUDGETS, budgets)])
            .pipeline_config_key()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("BudgetsJson")
                && !err.contains("PipelineConfigJson")
                && err.contains("config/pipeline.json"),
            "{err}"
        );
        let err = Env::from_pairs([key, (PIPELINE_CONFIG, r#"{"history_days": 90}"#)])
            .pipeline_config_key()
            .unwrap_err()
            .to_string();
        assert!(err.contains("PipelineConfigJson"), "{err}");
    }

    #[test]
    fn budgets_and_dashboard_override_the_config_json() {
        let env = Env::from_pairs([
            (PIPELINE_CONFIG, r#"{"history_days": 90}"#),
            (
                BUDGETS,
                r#"[{"name":"org","scope":"org","amount":"1000"},{"name":"ec2","scope":"service=Amazon EC2","amount":"250"}]"#,
            ),
            (DASHBOARD_URL, "https://costs.example.com"),
        ]);
        let cfg = env.pipeline_config().unwrap();
        assert_eq!(cfg.history_days, 90);
        assert_eq!(cfg.budgets.len(), 2);
        assert_eq!(cfg.budgets[1].name, "ec2");
        assert_eq!(
            cfg.dashboard_url.as_deref(),
            Some("https://costs.example.com")
        );
    }

    #[test]
    fn budgets_in_the_config_json_survive_the_templates_empty_budgets_json() {
        let config = r#"{"budgets": [{"name":"org","scope":"org","amount":"1000"}]}"#;
        let env = Env::from_pairs([(PIPELINE_CONFIG, config), (BUDGETS, "[]")]);
        let cfg = env.pipeline_config().unwrap();
        assert_eq!(cfg.budgets.len(), 1, "BudgetsJson's default dropped them");

        let both = r#"[{"name":"ec2","scope":"service=Amazon EC2","amount":"250"}]"#;
        let env = Env::from_pairs([(PIPELINE_CONFIG, config), (BUDGETS, both)]);
        let err = env.pipeline_config().unwrap_err().to_string();
        assert!(
            err.contains("BudgetsJson") && err.contains("PipelineConfigJson"),
            "{err}"
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let env = Env::from_pairs([(PIPELINE_CONFIG, r#"{"histroy_days": 90}"#)]);
        let err = env.pipeline_config().unwrap_err().to_string();
        assert!(
            err.contains("PipelineConfigJson") && err.contains("histroy_days"),
            "{err}"
        );

        let env = Env::from_pairs([(BUDGETS, r#"[{"name":"x","scope":"org","amount":"-5"}]"#)]);
        let err = env.pipeline_config().unwrap_err().to_string();
        assert!(err.contains("positive amount"), "{err}");

        let env = Env::from_pairs([("COSTWATCH_CE_RESTATE_DAYS", "three")]);
        let err = env.number("COSTWATCH_CE_RESTATE_DAYS", 3).unwrap_err();
        assert!(err.to_string().contains("three"));
        assert!(
            Env::default()
                .required(TABLE)
                .unwrap_err()
                .to_string()
                .contains(TABLE)
        );
    }

    #[test]
    fn lists_drop_blanks() {
        let env = Env::from_pairs([("K", " team, ,cost-center ")]);
        assert_eq!(env.list("K"), vec!["team", "cost-center"]);
        assert!(env.list("MISSING").is_empty());
    }
}
