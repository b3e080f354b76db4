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
    /// Print the pipeline configuration object the stack runs with.
    Show(ShowArgs),
}

#[derive(Args)]
pub struct PushArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Show what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    stack: StackArgs,
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
    /// Budgets on a tag key or cost category the stack does not roll up.
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

/// The stack's lake and the object's key, from its outputs, and the stack.
async fn object(stack: &StackArgs) -> Result<(S3Lake, String, Stack)> {
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
    match lake_object(&sdk, &deployed) {
        Some(found) => found.map(|(lake, key)| (lake, key, deployed)),
        None => bail!(
            "stack `{name}` reads its settings from PipelineConfigJson and BudgetsJson, not from \
             the lake: deploy it with PipelineConfigKey=config/pipeline.json (and those two at \
             their defaults) to push them (docs/configuration.md, \"Budgets in the lake\")"
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
    let (lake, key, stack) = object(&args.stack).await?;
    let warnings = not_rolled_up(&settings.pipeline, &stack);
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
    if written {
        println!("wrote {what}; the functions run with it within a minute");
    } else {
        println!("dry run: would write {what}");
    }
    Ok(())
}

async fn show(args: ShowArgs) -> Result<()> {
    let (lake, key, _) = object(&args.stack).await?;
    match lake.get(&key).await.context("reading the object")? {
        Some(body) => println!("{}", String::from_utf8_lossy(&body).trim_end()),
        None => bail!(
            "s3://{}/{key} does not exist yet: the functions fail until `costwatch config push` \
             writes it",
            lake.bucket()
        ),
    }
    Ok(())
}

/// Budgets whose scope is a tag key or cost category the stack does not roll up (its `CeTagKeys`
/// / `CeCostCategories`, which both cost sources group by): they would read $0.00 every day, the
/// commonest way a budget watches nothing. One line per key, naming its budgets. Nothing is said
/// when the stack does not report the parameter.
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
    let mut unrolled: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for budget in &config.budgets {
        let (parameter, key) = match &budget.scope {
            Scope::Tag { key, .. } => ("CeTagKeys", key),
            Scope::CostCategory { name, .. } => ("CeCostCategories", name),
            _ => continue,
        };
        if listed(parameter).is_some_and(|keys| !keys.contains(key.as_str())) {
            unrolled
                .entry((parameter, key))
                .or_default()
                .push(&budget.name);
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
                 {read} $0.00 until `{key}` is added to {parameter} and the stack deployed"
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
            {"name": "org", "scope": "org", "amount": "100"},
        ]}))
        .unwrap();
        let stack = |parameters: &[(&str, &str)]| Stack {
            name: "costwatch".into(),
            status: "UPDATE_COMPLETE".into(),
            outputs: BTreeMap::new(),
            parameters: parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let warnings = not_rolled_up(
            &config,
            &stack(&[("CeTagKeys", " env "), ("CeCostCategories", "")]),
        );
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(
            warnings[0].starts_with("budget unit-a is on cost category `Unit`")
                && warnings[0].contains("(CeCostCategories is empty): it reads $0.00"),
            "{warnings:#?}"
        );
        assert!(
            warnings[1].starts_with("budgets payments and search are on tag key `team`"),
            "{warnings:#?}"
        );
        // A stack that does not report the parameters: nothing to compare with.
        assert!(not_rolled_up(&config, &stack(&[])).is_empty());
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
