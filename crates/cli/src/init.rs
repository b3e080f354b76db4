//! `costwatch init`: writes a commented `costwatch.toml` with every option, its default and one
//! line on what it does, and never overwrites a file that exists.
//!
//! The defaults are not copied by hand: they are the real config structs' `Default`s,
//! serialized (`[pipeline]`, `[collect]`) or read from `CostExplorerOptions::default()`
//! (`[cost_explorer]`); the integration tables are examples/contract.toml's, commented out, with
//! every credential replaced by a `{ secrets_manager = "…" }` reference. A unit test checks that
//! every field the structs serialize has a line here.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::incremental::CollectSettings;
use costwatch_pipeline::metrics::MetricsSettings;
use costwatch_store::cost_explorer_options::CostExplorerOptions;

/// examples/contract.toml: every integration's table with placeholder credentials (`render`
/// and `notify` read it when there is no costwatch.toml).
pub(crate) const CONTRACT: &str = include_str!("../../../examples/contract.toml");

/// The line that starts the commented-out integration tables.
pub const INTEGRATIONS_MARKER: &str = "# ---- integrations ----";

#[derive(Args)]
pub struct InitArgs {
    /// Where to write the file; an existing file is never overwritten.
    #[arg(long, default_value = "costwatch.toml")]
    path: PathBuf,
}

/// One option: its key, one line on what it does, and an example for options without a default
/// (written as a comment, never as a value).
struct Opt {
    key: &'static str,
    doc: &'static str,
    example: Option<&'static str>,
}

const fn opt(key: &'static str, doc: &'static str) -> Opt {
    Opt {
        key,
        doc,
        example: None,
    }
}

const fn example(key: &'static str, doc: &'static str, example: &'static str) -> Opt {
    Opt {
        key,
        doc,
        example: Some(example),
    }
}

const PIPELINE: &[Opt] = &[
    opt(
        "cost_metric",
        "`billed` (the invoice, Cost Explorer UnblendedCost) or `effective` (amortised).",
    ),
    opt(
        "rollup_scopes",
        "Scope kinds rolled up daily: org, account, service, account_service, tag, cost_category.",
    ),
    opt(
        "detect_scopes",
        "Scope kinds the detector watches (each must be in rollup_scopes).",
    ),
    opt(
        "history_days",
        "Days of history detection and forecasts read (at least 28).",
    ),
    opt(
        "resolve_after_days",
        "Consecutive in-band days after which an open anomaly is resolved (at least 1).",
    ),
    opt(
        "forecast_alert_pct",
        "Notify (once a month) when the month-end forecast is this % above last month.",
    ),
    example(
        "dashboard_url",
        "Base URL of the dashboard, for links in notifications (none by default).",
        "\"https://costs.example.com\"",
    ),
    opt(
        "budgets",
        "Budgets, none by default; one [[pipeline.budgets]] table each, e.g. (uncomment the `#   ` lines):",
    ),
];

const BUDGET_EXAMPLE: &[&str] = &[
    "[[pipeline.budgets]]",
    "name = \"org monthly\"",
    "scope = \"org\"            # or account=123456789012, service=Amazon EC2, tag=team|value=web, tag=team|value= (untagged), costcategory=NAME|value=V",
    "amount = \"10000\"         # for one period, in the billing currency",
    "# period = \"quarterly\"    # or annually, or daily: a calendar quarter, year or day (default monthly)",
    "# start_month = 4          # quarterly/annually: periods start in April (a fiscal year), not January",
    "# auto_adjust_months = 3   # instead of amount: each period, the scope's average month over its last 3 full months (1-12)",
    "# planned_amounts = { \"2027-01\" = \"12000\" }   # periods (by first month) held to their own amount (a ramp, a launch)",
];

const DETECTOR: &[Opt] = &[
    opt(
        "min_impact",
        "Smallest $ impact (|actual - expected|) worth an alert.",
    ),
    opt(
        "min_pct",
        "Smallest impact as a % of expected worth an alert.",
    ),
    opt(
        "require",
        "`both`: the $ and the % floor must hold; `either`: one is enough.",
    ),
    opt(
        "sensitivity",
        "Robust z (impact over the model's spread) an anomaly must reach: higher, fewer alerts.",
    ),
    opt("detect_falls", "Also alert on drops."),
    opt(
        "lookback_days",
        "Days of history the spread and weekly shape read (at least 14 are used).",
    ),
    opt(
        "new_spend_floor",
        "A first charge on a scope with no history alerts at or above this $ amount.",
    ),
    opt(
        "scopes",
        "Per-scope overrides, applied in order; one [[pipeline.detector.scopes]] table each, e.g.:",
    ),
];

const SCOPES_EXAMPLE: &[&str] = &[
    "[[pipeline.detector.scopes]]",
    "scope = \"service=Amazon Elastic Compute Cloud - Compute\"   # or a kind: service, account, …",
    "min_impact = \"200\"       # any of min_impact, min_pct, require, sensitivity, detect_falls",
];

const RECOMMEND: &[Opt] = &[
    opt(
        "thresholds",
        "Listed when the monthly saving reaches both the $ and the % of the resource's cost; per account or service in `accounts` / `services` tables; untagged spend from its share.",
    ),
    opt(
        "update_share",
        "A listed recommendation is announced again when its estimate moves by more than this share.",
    ),
    opt(
        "rules",
        "The rules' trailing windows in days (docs/recommendations.md).",
    ),
    opt(
        "realised_days",
        "Days of cost data after a resolution over which the realised saving is measured.",
    ),
];

const FORECAST: &[Opt] = &[opt(
    "credits",
    "`included`: forecasts are net of credits; `excluded`: gross (budgets still count net spend).",
)];

const COLLECT: &[Opt] = &[
    opt(
        "restate_days",
        "Days before the watermark checked again on every run, as Cost Explorer revises them.",
    ),
    opt(
        "backfill_days",
        "Days the first run pulls, ending yesterday (1 to 425).",
    ),
    opt(
        "max_requests_per_run",
        "Cost Explorer requests ($0.01 each) a run never passes (at least 2); --max-requests overrides.",
    ),
];

const COST_EXPLORER: &[Opt] = &[
    example(
        "billing_account_id",
        "The management account's id, written as BillingAccountId (\"unknown\" when not set).",
        "\"123456789012\"",
    ),
    opt(
        "tag_keys",
        "Cost allocation tag keys to roll up by: one more request each per run that pulls days.",
    ),
    opt(
        "cost_categories",
        "Cost category names to roll up by: one more request each per run that pulls days.",
    ),
    opt(
        "days_per_request",
        "Longest run of days one request covers.",
    ),
    opt(
        "import_anomalies",
        "With `run --aws`, also import AWS Cost Anomaly Detection's findings of the last week.",
    ),
];

const METRICS: &[Opt] = &[
    opt(
        "watch",
        "CloudWatch series `run --aws` pulls (GetMetricData, $0.01 per 1,000 metrics) and judges with the stream detector; one [[metrics.watch]] table each, e.g.:",
    ),
    opt(
        "backfill_hours",
        "Hours the first pull reaches back (1 to 360: CloudWatch keeps 1-minute data 15 days).",
    ),
    opt(
        "overlap_minutes",
        "Minutes before the last pull's end read again: CloudWatch revises its latest points.",
    ),
    opt(
        "history_hours",
        "Hours of stored history the detector reads before the new points (576 for the weekly channel).",
    ),
    opt(
        "max_requests_per_run",
        "GetMetricData requests (pages) a run never passes.",
    ),
    opt(
        "threshold",
        "Stream detector score (0-1) at or above which a point is anomalous.",
    ),
];

const WATCH_EXAMPLE: &[&str] = &[
    "[[metrics.watch]]",
    "metric = { namespace = \"AWS/EC2\", name = \"CPUUtilization\", dimensions = { InstanceId = \"i-0abc123def4567890\" } }",
    "stat = \"Average\"         # or Maximum, Sum, p99",
    "period_secs = 300         # a multiple of 60",
];

/// Keys whose values are credentials in the integration tables: replaced by references.
const CREDENTIAL_KEYS: &[&str] = &[
    "webhook_url",
    "bot_token",
    "routing_key",
    "api_key",
    "api_token",
    "bearer_token",
    // Mixpanel's service account secret, GA4's Measurement Protocol API secret.
    "secret",
    "api_secret",
    // Custom webhooks: the receiver's URL (it may hold a token) and the whsec_ signing secrets.
    "url",
    "signing_secrets",
    // Azure Blob Storage: the storage account's key or a SAS token.
    "account_key",
    "sas_token",
];

/// How a credential key's reference is named beside its destination's (`costwatch/<integration>/
/// <destination>` for the one credential most tables have) and whether it is a list: the custom
/// webhook's two credentials get names of their own, as docs/integrations/webhook.md shows.
fn reference_shape(key: &str) -> (&'static str, bool) {
    match key {
        "url" => ("-url", false),
        "signing_secrets" => ("-signing", true),
        _ => ("", false),
    }
}

fn table_of<T: serde::Serialize>(value: &T) -> toml::Table {
    match toml::Value::try_from(value) {
        Ok(toml::Value::Table(t)) => t,
        // The config structs are plain data: serializing them cannot fail.
        other => panic!("config default did not serialize to a table: {other:?}"),
    }
}

fn strings(list: &[String]) -> toml::Value {
    toml::Value::Array(list.iter().cloned().map(toml::Value::String).collect())
}

/// The defaults, by section, as the config structs serialize them.
pub struct Defaults {
    pub pipeline: toml::Table,
    pub detector: toml::Table,
    pub forecast: toml::Table,
    pub recommend: toml::Table,
    pub collect: toml::Table,
    pub cost_explorer: toml::Table,
    pub metrics: toml::Table,
}

pub fn defaults() -> Defaults {
    let mut pipeline = table_of(&PipelineConfig::default());
    let mut nested = |name: &str| match pipeline.remove(name) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    let detector = nested("detector");
    let forecast = nested("forecast");
    let recommend = nested("recommend");
    let ce = CostExplorerOptions::default();
    let mut cost_explorer = toml::Table::new();
    cost_explorer.insert("tag_keys".into(), strings(&ce.tag_keys));
    cost_explorer.insert("cost_categories".into(), strings(&ce.cost_categories));
    cost_explorer.insert(
        "days_per_request".into(),
        toml::Value::Integer(i64::from(ce.days_per_request)),
    );
    cost_explorer.insert("import_anomalies".into(), toml::Value::Boolean(false));
    Defaults {
        pipeline,
        detector,
        forecast,
        recommend,
        collect: table_of(&CollectSettings::default()),
        cost_explorer,
        metrics: table_of(&MetricsSettings::default()),
    }
}

/// `# doc` then `#key = default` (or `# key = example` for options without a default).
fn section(out: &mut String, header: Option<&str>, opts: &[Opt], values: &toml::Table) {
    if let Some(header) = header {
        out.push_str(&format!("\n[{header}]\n"));
    }
    for o in opts {
        out.push_str(&format!("# {}\n", o.doc));
        match (values.get(o.key), o.example) {
            (_, Some(example)) => out.push_str(&format!("# {} = {example}\n", o.key)),
            (Some(v), None) => out.push_str(&format!("#{} = {v}\n", o.key)),
            (None, None) => out.push_str(&format!("# {}: no default\n", o.key)),
        }
    }
}

fn example_block(out: &mut String, lines: &[&str]) {
    for line in lines {
        out.push_str(&format!("#   {line}\n"));
    }
}

/// A commented `key = "…"` credential line turned into a reference named after where it sits.
fn as_reference(line: &str, integration: &str, place: Option<&str>) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if !CREDENTIAL_KEYS.contains(&key) {
        return None;
    }
    let (suffix, list) = reference_shape(key);
    let name = match place {
        Some(destination) => format!("costwatch/{integration}/{destination}{suffix}"),
        None => format!("costwatch/{integration}/{key}"),
    };
    let reference = format!("{{ secrets_manager = \"{name}\" }}");
    Some(match list {
        true => format!("{key} = [{reference}]"),
        false => format!("{key} = {reference}"),
    })
}

/// examples/contract.toml's integration tables, commented out (`# ` before each line of TOML,
/// `## ` before its own comments), credentials replaced by Secrets Manager references.
fn integrations(out: &mut String) {
    out.push_str(&format!("\n{INTEGRATIONS_MARKER}\n"));
    out.push_str(
        "# One [integrations.<name>] table per tool to notify; uncomment the ones you use. Shared keys:\n\
         # destinations.<name> (at least one), routing.rules / routing.fallback (no rules: every\n\
         # destination gets everything), routing.quiet_hours = { start = \"22:00:00\", end = \"07:00:00\",\n\
         # time_zone = \"Europe/Berlin\", min_severity = \"critical\" }, rate_per_second (default: the\n\
         # vendor's), allow_hosts = [\"proxy.example.com\"] (none). Credentials: inline (local use\n\
         # only) or { secrets_manager = \"name\" } / { ssm = \"/name\" } (the only form the Lambdas take;\n\
         # `costwatch doctor` checks they resolve). Each tool's page: docs/integrations/<name>.md.\n",
    );
    let mut integration = String::new();
    let mut place: Option<String> = None;
    let mut started = false;
    for line in CONTRACT.lines() {
        let trimmed = line.trim();
        if !started {
            if !trimmed.starts_with("[integrations.") {
                continue;
            }
            started = true;
        }
        if trimmed.is_empty() {
            out.push('\n');
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            out.push_str(&format!("##{comment}\n"));
            continue;
        }
        if trimmed.starts_with('[') {
            let path = trimmed.trim_matches(|c| c == '[' || c == ']');
            let parts: Vec<&str> = path.split('.').collect();
            integration = parts.get(1).copied().unwrap_or_default().to_owned();
            place = match parts.as_slice() {
                [_, _, "destinations", d] => Some((*d).to_owned()),
                _ => None,
            };
            out.push_str(&format!("# {trimmed}\n"));
            continue;
        }
        let line = as_reference(trimmed, &integration, place.as_deref())
            .unwrap_or_else(|| trimmed.to_owned());
        out.push_str(&format!("# {line}\n"));
    }
}

/// The whole file.
pub fn render() -> String {
    let d = defaults();
    let mut out = String::new();
    out.push_str(&format!(
        "# costwatch.toml, written by `costwatch init` (costwatch {}).\n\
         # Every option is here with its default, commented out: `#key = value` is the default\n\
         # (remove the `#` to change it), `# …` explains. Unknown keys are errors. The reference is\n\
         # docs/configuration.md; `costwatch doctor` checks this file, AWS access and the secrets.\n\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(
        "# Local store (lake, rollups, state); --data-dir and COSTWATCH_DATA_DIR override it.\n",
    );
    out.push_str(&format!(
        "#data_dir = {}\n",
        toml::Value::String(
            costwatch_store::local::default_data_dir()
                .display()
                .to_string()
        )
    ));
    section(&mut out, Some("pipeline"), PIPELINE, &d.pipeline);
    example_block(&mut out, BUDGET_EXAMPLE);
    // The default thresholds as the budget code has them, so the comment cannot go stale.
    let thresholds = toml::Value::try_from(costwatch_analytics::budget::default_thresholds())
        .map(|v| v.to_string())
        .unwrap_or_default();
    out.push_str(&format!(
        "#   thresholds = {thresholds}   # the default, when left out\n"
    ));
    section(&mut out, Some("pipeline.detector"), DETECTOR, &d.detector);
    example_block(&mut out, SCOPES_EXAMPLE);
    section(&mut out, Some("pipeline.forecast"), FORECAST, &d.forecast);
    section(
        &mut out,
        Some("pipeline.recommend"),
        RECOMMEND,
        &d.recommend,
    );
    out.push_str(
        "\n# [collect] and [cost_explorer]: what `costwatch run --aws` pulls from Cost Explorer\n\
         # (docs/collection.md); on AWS the same settings are the Ce* template parameters.\n",
    );
    section(&mut out, Some("collect"), COLLECT, &d.collect);
    section(
        &mut out,
        Some("cost_explorer"),
        COST_EXPLORER,
        &d.cost_explorer,
    );
    out.push_str(
        "\n# [metrics]: CloudWatch series `costwatch run --aws` also watches, as the metrics\n\
         # function does on AWS (docs/detection.md); there, the WatchedMetrics parameter.\n",
    );
    section(&mut out, Some("metrics"), METRICS, &d.metrics);
    example_block(&mut out, WATCH_EXAMPLE);
    integrations(&mut out);
    out
}

pub fn init(args: InitArgs, json: bool) -> Result<()> {
    let text = render();
    write_new(&args.path, &text)?;
    if json {
        let summary = serde_json::json!({
            "command": "init",
            "path": args.path.display().to_string(),
            "bytes": text.len(),
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "wrote {}: every option with its default, commented out; next: `costwatch doctor`",
            args.path.display()
        );
    }
    Ok(())
}

/// Creates `path` with `text`; an existing file is an error and stays as it was.
fn write_new(path: &Path, text: &str) -> Result<()> {
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists; refusing to overwrite it (move it away, or pass --path for another file)",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// The defaults uncommented (`#key = value` → `key = value`), integration tables left out.
    fn defaults_uncommented(text: &str) -> String {
        let (head, _) = text.split_once(INTEGRATIONS_MARKER).unwrap();
        head.lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.starts_with([' ', '#']) && !rest.is_empty() => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The integration tables uncommented (`# ` TOML lines; `## ` comments stay).
    #[cfg(feature = "integrations")]
    fn integrations_uncommented(text: &str) -> String {
        let (_, tail) = text.split_once(INTEGRATIONS_MARKER).unwrap();
        let mut in_tables = false;
        let mut out = Vec::new();
        for l in tail.lines() {
            in_tables |= l.starts_with("# [integrations.");
            match l.strip_prefix("# ") {
                Some(rest) if in_tables => out.push(rest),
                _ => {}
            }
        }
        out.join("\n")
    }

    fn load(text: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("costwatch.toml");
        std::fs::write(&path, text).unwrap();
        Settings::load(Some(&path), None).unwrap_or_else(|e| panic!("{e:#}\n{text}"))
    }

    fn effective(s: &Settings) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            s.data_dir,
            s.pipeline,
            s.collect,
            s.cost_explorer.options(),
            s.cost_explorer.import_anomalies,
            s.cost_explorer.tag_keys,
            s.cost_explorer.cost_categories,
            s.metrics,
        )
    }

    #[test]
    fn the_file_and_its_uncommented_defaults_load_to_the_defaults() {
        let text = render();
        let none = Settings::load(Some(Path::new("/dev/null")), None).unwrap();
        assert_eq!(effective(&load(&text)), effective(&none));
        let uncommented = defaults_uncommented(&text);
        assert!(
            uncommented.contains("\nhistory_days = 120"),
            "{uncommented}"
        );
        assert_eq!(effective(&load(&uncommented)), effective(&none));
    }

    #[test]
    fn the_examples_load_when_uncommented() {
        let text = render();
        let (head, _) = text.split_once(INTEGRATIONS_MARKER).unwrap();
        let uncommented: String = head
            .lines()
            .map(|l| l.strip_prefix("#   ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let settings = load(&uncommented);
        assert_eq!(settings.pipeline.budgets.len(), 1, "{uncommented}");
        assert_eq!(
            settings.pipeline.budgets[0].thresholds,
            costwatch_analytics::budget::default_thresholds()
        );
        assert_eq!(settings.pipeline.detector.scopes.len(), 1);
        assert_eq!(settings.metrics.watch.len(), 1);
    }

    #[test]
    fn every_serialized_field_has_a_line() {
        let d = defaults();
        for (opts, table, name) in [
            (PIPELINE, &d.pipeline, "pipeline"),
            (DETECTOR, &d.detector, "pipeline.detector"),
            (FORECAST, &d.forecast, "pipeline.forecast"),
            (RECOMMEND, &d.recommend, "pipeline.recommend"),
            (COLLECT, &d.collect, "collect"),
            (COST_EXPLORER, &d.cost_explorer, "cost_explorer"),
            (METRICS, &d.metrics, "metrics"),
        ] {
            for key in table.keys() {
                assert!(
                    opts.iter().any(|o| o.key == key),
                    "[{name}] {key} has no line in `costwatch init`'s file"
                );
            }
            for o in opts.iter().filter(|o| o.example.is_none()) {
                assert!(
                    table.contains_key(o.key),
                    "[{name}] {} has no default",
                    o.key
                );
            }
        }
    }

    #[test]
    #[cfg(feature = "integrations")]
    fn uncommented_integration_tables_load_with_references_only() {
        let text = render();
        let tables: toml::Table = toml::from_str(&integrations_uncommented(&text)).unwrap();
        let tables = tables["integrations"].as_table().unwrap();
        for entry in crate::integrations::all() {
            let table = tables
                .get(entry.name())
                .unwrap_or_else(|| panic!("no [integrations.{}]", entry.name()));
            let configured = entry
                .load(serde_json::to_value(table).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", entry.name()));
            let mut inline = 0;
            configured.with_secrets(&mut |s| inline += usize::from(s.reference_name().is_none()));
            assert_eq!(inline, 0, "{} keeps an inline credential", entry.name());
        }
        for placeholder in ["placeholder", "hooks.slack.com/services/T0", "xoxb-"] {
            assert!(
                !text.contains(placeholder),
                "{placeholder} left in the file"
            );
        }
    }

    #[test]
    fn an_existing_file_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("costwatch.toml");
        std::fs::write(&path, "mine").unwrap();
        let err = write_new(&path, "theirs").unwrap_err().to_string();
        assert!(err.contains("refusing to overwrite"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    }
}
