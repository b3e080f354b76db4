//! `costwatch config push | show`: the `[pipeline]` settings of costwatch.toml, budgets
//! included, as the deployed functions read them — the lake object the stack's
//! `PipelineConfigKey` names (crates/pipeline config_source.rs). `push` validates the file as
//! every local command does, says what changes against the object the stack runs with now
//! (budgets added, removed and changed by name; other settings by field), and writes it only
//! when something does; the functions read it within a minute, no deploy needed. `show` prints
//! the object the stack runs with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::sync::Arc;
use std::time::Duration;

use costwatch_analytics::budget::Budget;
use costwatch_core::Scope;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::config_source::{ConfigObject, ConfigSource, to_object};
use costwatch_store::aws::S3Lake;
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::{LakeReader, LakeWriter};
use serde::Serialize;
use serde_json::Value;

use crate::config::Settings;
use crate::deployed::{self, Stack, StackArgs, sdk_config};

/// The stack output naming the object (set when the stack was deployed with PipelineConfigKey).
const KEY_OUTPUT: &str = "PipelineConfigKey";
const BUCKET_OUTPUT: &str = "LakeBucketName";

#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Write costwatch.toml's [pipeline] settings (budgets included) to the stack's
    /// PipelineConfigKey object, after validating them and showing what changes.
    Push(PushArgs),
    /// Print the pipeline configuration the stack runs with: its PipelineConfigKey object, else
    /// its PipelineConfigJson and BudgetsJson; `--toml` as a [pipeline] table for costwatch.toml.
    Show(ShowArgs),
}

#[derive(Args)]
pub struct PushArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Show what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// For a stack not yet deployed with PipelineConfigKey: write to this key of its lake bucket
    /// (e.g. config/pipeline.json), then deploy with PipelineConfigKey set to it, so the
    /// functions find the object from their first run.
    #[arg(long, value_parser = config_key)]
    key: Option<String>,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// As a `[pipeline]` table for costwatch.toml, only what differs from the defaults.
    #[arg(long)]
    toml: bool,
}

/// What template.yaml's PipelineConfigKey allows: a `.json` key under `config/`.
fn config_key(key: &str) -> Result<String, String> {
    let name = key
        .strip_prefix("config/")
        .and_then(|k| k.strip_suffix(".json"));
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
    match name {
        Some(name)
            if name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.chars().all(allowed) =>
        {
            Ok(key.to_owned())
        }
        _ => Err(format!(
            "`{key}` is not a key PipelineConfigKey takes: config/<name>.json, the name of \
             letters, digits, `.`, `_`, `-` and `/`"
        )),
    }
}

/// What `push` did, for `--json` and the text summary alike.
#[derive(Debug, Serialize)]
struct Pushed {
    object: String,
    bytes: usize,
    budgets: usize,
    /// `added budget NAME`, `removed budget NAME`, `changed budget NAME`; `changed setting
    /// FIELD` for the rest.
    changes: Vec<String>,
    /// Budgets on a tag key or cost category the stack does not roll up, and how `[metrics]`
    /// differs from the stack's metrics parameters (crate::stack_metrics).
    warnings: Vec<String>,
    written: bool,
}

pub async fn config(
    args: ConfigArgs,
    settings: &Settings,
    file: Option<&Path>,
    json: bool,
) -> Result<()> {
    match args.command {
        ConfigCommand::Push(args) => push(args, settings, file, json).await,
        ConfigCommand::Show(args) => show(args).await,
    }
}

/// The deployed stack, with the SDK configuration that read it.
async fn deployed_stack(stack: &StackArgs) -> Result<(SdkConfig, Stack)> {
    let sdk = sdk_config(stack.profile.as_deref()).await;
    crate::credentials::require(
        &sdk,
        "the stack's lake bucket",
        "the account the stack is in",
    )
    .await?;
    let (name, from) = stack.name();
    let deployed = match deployed::describe(&sdk, &name).await {
        Ok(stack) => stack,
        Err(deployed::Missing::Absent) => bail!(
            "no stack `{name}` ({from}): name the deployed one with --stack (and its region with \
             AWS_REGION); `costwatch doctor` checks it"
        ),
        Err(deployed::Missing::Failed(_, why)) => bail!("cannot read stack `{name}`: {why}"),
    };
    Ok((sdk, deployed))
}

/// Where `push` writes: the object the stack reads, or (`--key`, before the deploy that sets
/// PipelineConfigKey) the key given, in the stack's lake bucket.
fn push_target(sdk: &SdkConfig, stack: &Stack, key: Option<&str>) -> Result<(S3Lake, String)> {
    let name = &stack.name;
    match (lake_object(sdk, stack), key) {
        (Some(found), None) => found,
        (Some(found), Some(given)) => {
            let (lake, running) = found?;
            if running != given {
                bail!(
                    "stack `{name}` reads `{running}` (PipelineConfigKey); `{given}` would not be \
                     read: leave --key out"
                );
            }
            Ok((lake, running))
        }
        (None, Some(given)) => match stack.outputs.get(BUCKET_OUTPUT) {
            Some(bucket) => Ok((S3Lake::new(sdk, bucket), given.to_owned())),
            None => bail!("stack `{name}` has no {BUCKET_OUTPUT} output: `make deploy` first"),
        },
        (None, None) => bail!(
            "stack `{name}` reads its settings from PipelineConfigJson and BudgetsJson, not from \
             the lake: push with --key config/pipeline.json, then deploy with \
             PipelineConfigKey=config/pipeline.json and those two at their defaults \
             (docs/configuration.md, \"Budgets in the lake\")"
        ),
    }
}

/// The object a stack deployed with PipelineConfigKey reads; `None` for one deployed without.
fn lake_object(sdk: &SdkConfig, stack: &Stack) -> Option<Result<(S3Lake, String)>> {
    let key = stack.outputs.get(KEY_OUTPUT)?;
    Some(match stack.outputs.get(BUCKET_OUTPUT) {
        Some(bucket) => Ok((S3Lake::new(sdk, bucket), key.clone())),
        None => Err(anyhow::anyhow!(
            "stack `{}` has no {BUCKET_OUTPUT} output: `make deploy` the current template",
            stack.name
        )),
    })
}

/// `doctor`'s check of a stack deployed with PipelineConfigKey: its object read as the
/// functions read it. `None` for a stack deployed without; else what was found, or what is
/// wrong (the functions' own words).
pub async fn check_running(sdk: &SdkConfig, stack: &Stack) -> Option<Result<String, String>> {
    let (lake, key) = match lake_object(sdk, stack)? {
        Ok(found) => found,
        Err(e) => return Some(Err(e.to_string())),
    };
    let object = format!("s3://{}/{key}", lake.bucket());
    let functions = ConfigObject::new(Arc::new(lake), key).with_max_age(Duration::ZERO);
    Some(match functions.current().await {
        Ok(config) => Ok(format!("{object}: {} budgets", config.budgets.len())),
        Err(e) => Err(format!("{object}: {e}")),
    })
}

async fn push(args: PushArgs, settings: &Settings, file: Option<&Path>, json: bool) -> Result<()> {
    // Pushing the defaults would drop every budget the stack runs with: a file is required.
    let default = Path::new("costwatch.toml");
    if file.is_none() && !default.is_file() {
        bail!(
            "no costwatch.toml here and no --config: push sends a file's [pipeline] settings \
             (`costwatch init` writes one), never the defaults"
        );
    }
    let body = to_object(&settings.pipeline).context("invalid [pipeline] configuration")?;
    let (sdk, stack) = deployed_stack(&args.stack).await?;
    let (lake, key) = push_target(&sdk, &stack, args.key.as_deref())?;
    // Written ahead of the deploy that makes the stack read it.
    let ahead = !stack.outputs.contains_key(KEY_OUTPUT);
    let mut warnings = not_rolled_up(&settings.pipeline, &stack);
    warnings.extend(crate::stack_metrics::drift(&settings.metrics, &stack));
    let running = lake
        .get(&key)
        .await
        .context("reading the stack's current object")?;
    let changes = changes(running.as_deref(), &body)?;
    let written = !args.dry_run && !changes.is_empty();
    let pushed = Pushed {
        object: format!("s3://{}/{key}", lake.bucket()),
        bytes: body.len(),
        budgets: settings.pipeline.budgets.len(),
        changes,
        warnings,
        written,
    };
    if written {
        lake.put(&key, body).await.context("writing the object")?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&pushed)?);
        return Ok(());
    }
    for warning in &pushed.warnings {
        eprintln!("warning: {warning}");
    }
    let what = format!(
        "{} ({} budgets, {} bytes)",
        pushed.object, pushed.budgets, pushed.bytes
    );
    if pushed.changes.is_empty() {
        println!("{what}: unchanged, nothing written");
        return Ok(());
    }
    for change in &pushed.changes {
        println!("  {change}");
    }
    if written && ahead {
        println!(
            "wrote {what}; deploy with PipelineConfigKey={key} (PipelineConfigJson and \
             BudgetsJson at their defaults) for the functions to read it"
        );
    } else if written {
        println!("wrote {what}; the functions run with it within a minute");
    } else {
        println!("dry run: would write {what}");
    }
    Ok(())
}

async fn show(args: ShowArgs) -> Result<()> {
    let (sdk, stack) = deployed_stack(&args.stack).await?;
    let running = match lake_object(&sdk, &stack) {
        Some(found) => {
            let (lake, key) = found?;
            let Some(body) = lake.get(&key).await.context("reading the object")? else {
                bail!(
                    "s3://{}/{key} does not exist yet: the functions fail until `costwatch \
                     config push` writes it",
                    lake.bucket()
                );
            };
            serde_json::from_slice::<PipelineConfig>(&body)
                .with_context(|| format!("s3://{}/{key} does not parse", lake.bucket()))?
        }
        None => {
            let parameter = |name: &str| stack.parameters.get(name).map(String::as_str);
            PipelineConfig::from_parameters(
                parameter("PipelineConfigJson"),
                parameter("BudgetsJson"),
            )
            .with_context(|| format!("the parameters of stack `{}`", stack.name))?
        }
    };
    match args.toml {
        true => print!("{}", as_toml(&running)?),
        false => println!("{}", serde_json::to_string_pretty(&running)?),
    }
    Ok(())
}

/// `config` as costwatch.toml's `[pipeline]` table, with only the settings that differ from
/// the defaults (a pasted table keeps later releases' improved defaults for the rest).
fn as_toml(config: &PipelineConfig) -> Result<String> {
    let ours = serde_json::to_value(config)?;
    let defaults = serde_json::to_value(PipelineConfig::default())?;
    let changed: serde_json::Map<String, Value> = ours
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, value)| !value.is_null() && defaults.get(name.as_str()) != Some(value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let table = serde_json::json!({ "pipeline": changed });
    Ok(toml::to_string(&table)?)
}

/// Budgets whose scope is a tag key or cost category the stack does not roll up (its `CeTagKeys`
/// / `CeCostCategories`, which both cost sources group by): they would read $0.00 every day, the
/// commonest way a budget watches nothing — or, on the key's untagged spend, the whole
/// organisation's. One line per key, naming its budgets. Nothing is said when the stack does not
/// report the parameter.
fn not_rolled_up(config: &PipelineConfig, stack: &Stack) -> Vec<String> {
    let listed = |parameter: &str| -> Option<BTreeSet<&str>> {
        let value = stack.parameters.get(parameter)?;
        Some(
            value
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .collect(),
        )
    };
    let mut unrolled: BTreeMap<(&str, &str), Vec<&Budget>> = BTreeMap::new();
    for budget in &config.budgets {
        let (parameter, key) = match &budget.scope {
            Scope::Tag { key, .. } => ("CeTagKeys", key),
            Scope::CostCategory { name, .. } => ("CeCostCategories", name),
            _ => continue,
        };
        if listed(parameter).is_some_and(|keys| !keys.contains(key.as_str())) {
            unrolled.entry((parameter, key)).or_default().push(budget);
        }
    }
    unrolled
        .into_iter()
        .map(|((parameter, key), budgets)| {
            let what = if parameter == "CeTagKeys" {
                "tag key"
            } else {
                "cost category"
            };
            let now = stack.parameters.get(parameter).map_or("", String::as_str);
            let now = if now.is_empty() {
                "empty".to_owned()
            } else {
                format!("`{now}`")
            };
            let reads = match (
                budgets.iter().all(|b| b.scope.is_unallocated()),
                budgets.iter().any(|b| b.scope.is_unallocated()),
            ) {
                (true, _) => "the whole organisation's spend as untagged".to_owned(),
                (false, true) => {
                    "$0.00 (those on untagged spend: the whole organisation's)".to_owned()
                }
                (false, false) => "$0.00".to_owned(),
            };
            let budgets: Vec<&str> = budgets.iter().map(|b| b.name.as_str()).collect();
            let (who, read) = match budgets.as_slice() {
                [one] => (format!("budget {one} is"), "it reads"),
                [first, second] => (format!("budgets {first} and {second} are"), "they read"),
                [first, second, rest @ ..] => (
                    format!("budgets {first}, {second} and {} more are", rest.len()),
                    "they read",
                ),
                [] => unreachable!("a key is listed for a budget"),
            };
            format!(
                "{who} on {what} `{key}`, which the stack does not roll up ({parameter} is {now}): \
                 {read} {reads} until `{key}` is added to {parameter} and the stack deployed"
            )
        })
        .collect()
}

/// What writing `new` over `running` changes: budgets by name, other settings by field. No
/// running object: everything is new. A running object that does not parse (written by hand)
/// is replaced whole.
fn changes(running: Option<&[u8]>, new: &[u8]) -> Result<Vec<String>> {
    let new: Value = serde_json::from_slice(new)?;
    let Some(running) = running else {
        return Ok(vec!["(no object yet: all of it is new)".to_owned()]);
    };
    let Ok(running) = serde_json::from_slice::<Value>(running) else {
        return Ok(vec![
            "(the current object is not JSON: replaced whole)".to_owned(),
        ]);
    };
    let fields = |v: &Value| v.as_object().cloned().unwrap_or_default();
    let (old_fields, new_fields) = (fields(&running), fields(&new));
    let mut out = Vec::new();
    let names: BTreeSet<&String> = old_fields.keys().chain(new_fields.keys()).collect();
    for name in names {
        if name == "budgets" || old_fields.get(name) == new_fields.get(name) {
            continue;
        }
        out.push(format!("changed setting {name}"));
    }
    let by_name = |v: Option<&Value>| -> BTreeMap<String, Value> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|b| (b["name"].as_str().unwrap_or_default().to_owned(), b.clone()))
            .collect()
    };
    let old = by_name(old_fields.get("budgets"));
    let new = by_name(new_fields.get("budgets"));
    for (name, budget) in &new {
        match old.get(name) {
            None => out.push(format!("added budget {name}")),
            Some(before) if before != budget => out.push(format!("changed budget {name}")),
            Some(_) => {}
        }
    }
    out.extend(
        old.keys()
            .filter(|name| !new.contains_key(*name))
            .map(|name| format!("removed budget {name}")),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(budgets: Value, history_days: u32) -> Vec<u8> {
        serde_json::to_vec(&json!({"budgets": budgets, "history_days": history_days})).unwrap()
    }

    #[test]
    fn budgets_on_keys_the_stack_does_not_roll_up_are_named_once_per_key() {
        let config: PipelineConfig = serde_json::from_value(json!({"budgets": [
            {"name": "payments", "scope": "tag=team|value=payments", "amount": "100"},
            {"name": "search", "scope": "tag=team|value=search", "amount": "100"},
            {"name": "prod", "scope": "tag=env|value=prod", "amount": "100"},
            {"name": "unit-a", "scope": "costcategory=Unit|value=A", "amount": "100"},
            {"name": "no-owner", "scope": "tag=owner|value=", "amount": "100"},
            {"name": "org", "scope": "org", "amount": "100"},
        ]}))
        .unwrap();
        let stack = Stack::with_parameters;
        let warnings = not_rolled_up(
            &config,
            &stack(&[("CeTagKeys", " env "), ("CeCostCategories", "")]),
        );
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(
            warnings[0].starts_with("budget unit-a is on cost category `Unit`")
                && warnings[0].contains("(CeCostCategories is empty): it reads $0.00"),
            "{warnings:#?}"
        );
        assert!(
            warnings[1].starts_with("budget no-owner is on tag key `owner`")
                && warnings[1].contains("it reads the whole organisation's spend as untagged"),
            "{warnings:#?}"
        );
        assert!(
            warnings[2].starts_with("budgets payments and search are on tag key `team`")
                && warnings[2].contains("they read $0.00 until"),
            "{warnings:#?}"
        );
        // A stack that does not report the parameters: nothing to compare with.
        assert!(not_rolled_up(&config, &stack(&[])).is_empty());
    }

    #[test]
    fn the_toml_table_holds_what_differs_from_the_defaults_and_reads_back_the_same() {
        let running = PipelineConfig::from_parameters(
            Some(r#"{"detector": {"min_impact": "50"}, "forecast_alert_pct": 30.0}"#),
            Some(
                r#"[{"name": "org-monthly", "scope": "org", "amount": "10000"},
                    {"name": "payments", "scope": "tag=team|value=payments", "amount": "2500",
                     "thresholds": [{"percent": 90, "basis": "forecast"}]}]"#,
            ),
        )
        .unwrap();
        let text = as_toml(&running).unwrap();
        assert!(text.starts_with("[pipeline]"), "{text}");
        assert!(text.contains("[[pipeline.budgets]]"), "{text}");
        assert!(
            !text.contains("history_days"),
            "a default written out: {text}"
        );
        let read = crate::config::Settings::validated(
            crate::config::parse_toml::<crate::config::FileConfig>(&text).unwrap(),
            None,
        )
        .unwrap()
        .pipeline;
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::to_value(&running).unwrap(),
            "{text}"
        );
    }

    #[test]
    fn keys_are_what_the_template_allows() {
        assert_eq!(
            config_key("config/pipeline.json").unwrap(),
            "config/pipeline.json"
        );
        assert!(config_key("config/teams/eu-west.json").is_ok());
        for bad in [
            "pipeline.json",
            "config/.json",
            "config/p.toml",
            "config/a b.json",
            "reports/x.json",
        ] {
            assert!(config_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_name_the_budgets_and_settings_that_differ() {
        let running = object(
            json!([{"name": "a", "amount": "1"}, {"name": "b", "amount": "2"}]),
            120,
        );
        let new = object(
            json!([{"name": "a", "amount": "1"}, {"name": "b", "amount": "3"},
                   {"name": "c", "amount": "4"}]),
            90,
        );
        assert_eq!(
            changes(Some(&running), &new).unwrap(),
            [
                "changed setting history_days",
                "changed budget b",
                "added budget c"
            ]
        );
        let fewer = object(json!([{"name": "a", "amount": "1"}]), 120);
        assert_eq!(
            changes(Some(&running), &fewer).unwrap(),
            ["removed budget b"]
        );
        assert!(changes(Some(&running), &running).unwrap().is_empty());
        assert_eq!(changes(None, &new).unwrap().len(), 1);
    }
}
