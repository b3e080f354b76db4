//! Fuzz target for the CLI's config file, `costwatch.toml` (issue 17): arbitrary bytes and
//! mutations of a file with every section (`[pipeline]` with detector scopes and budgets,
//! `[collect]`, `[cost_explorer]`, every `[integrations.*]` table of examples/contract.toml), read
//! by the same loader as every command. The answer is settings or an error saying what is wrong
//! and where, never a panic, within `costwatch_testkit::fuzz::memory_bound`. `PROPTEST_CASES` sets
//! the number of cases (`make fuzz`).

// The CLI is a binary without a library, so its loader is compiled into this test as a module.
#[allow(dead_code)]
#[path = "../src/config.rs"]
mod config;

use std::path::PathBuf;

use config::{FileConfig, Settings, parse_toml};
use costwatch_testkit::fuzz;
use costwatch_testkit::repo_file;
use proptest::prelude::*;
use serde_json::Value;

costwatch_testkit::counting_allocator!();

/// The configuration guide's example with the other sections and every integration table.
fn sample() -> String {
    format!(
        r#"data_dir = "/var/lib/costwatch"

[pipeline]
cost_metric = "billed"
history_days = 120
forecast_alert_pct = 20.0
rollup_scopes = ["org", "account", "service", "account_service", "tag", "cost_category"]
[pipeline.detector]
min_impact = 50
[[pipeline.detector.scopes]]
scope = "service=Amazon Elastic Compute Cloud - Compute"
min_impact = 200
require = "either"
[[pipeline.budgets]]
name = "platform monthly"
scope = "account=222233334444"
amount = "12000"
thresholds = [{{ percent = 80, basis = "actual" }}, {{ percent = 100, basis = "forecast" }}]

[collect]
restate_days = 3
backfill_days = 90
max_requests_per_run = 20

[cost_explorer]
billing_account_id = "111122223333"
tag_keys = ["team"]
cost_categories = ["Product"]
days_per_request = 7
import_anomalies = false

{}"#,
        repo_file("examples/contract.toml")
    )
}

/// The sample's tree (as JSON) mutated, written back as TOML; JSON text where the mutation made
/// something TOML cannot hold (a null, a number past i64).
fn tree_mutations(sample: &str) -> impl Strategy<Value = String> {
    let tree: Value = toml::from_str(sample).unwrap();
    fuzz::mutated_json(&tree).prop_map(|json| {
        serde_json::from_str::<Value>(&json)
            .ok()
            .and_then(|v| toml::to_string(&v).ok())
            .unwrap_or(json)
    })
}

fn load(text: &str) -> anyhow::Result<Settings> {
    let parsed: FileConfig = parse_toml(text)?;
    Settings::validated(parsed, Some(PathBuf::from("/nonexistent/costwatch-fuzz")))
}

proptest! {
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn fuzz_config_toml(text in prop_oneof![
        fuzz::text_input(&sample()),
        tree_mutations(&sample()),
    ]) {
        if let Err(e) = fuzz::bounded(text.len(), || load(&text))? {
            let message = format!("{e:#}");
            prop_assert!(!message.is_empty());
        }
    }
}

#[test]
fn the_sample_is_a_valid_config() {
    load(&sample()).unwrap();
}
