//! `costwatch init` and `costwatch doctor` as a user runs them: init writes a commented
//! costwatch.toml and refuses to overwrite it (that the loader takes the file and its
//! uncommented defaults is checked by init.rs's unit tests, on the real `Settings::load`).

use std::path::Path;

use assert_cmd::Command;

/// The binary in `dir`, with no config or data dir from the environment.
fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every top-level option of costwatch.toml and every key of its sections.
const OPTIONS: &[&str] = &[
    "data_dir",
    "[pipeline]",
    "cost_metric",
    "rollup_scopes",
    "detect_scopes",
    "history_days",
    "resolve_after_days",
    "forecast_alert_pct",
    "dashboard_url",
    "budgets",
    "[pipeline.detector]",
    "min_impact",
    "min_pct",
    "require",
    "sensitivity",
    "detect_falls",
    "lookback_days",
    "new_spend_floor",
    "scopes",
    "[pipeline.forecast]",
    "credits",
    "[collect]",
    "restate_days",
    "backfill_days",
    "max_requests_per_run",
    "[cost_explorer]",
    "billing_account_id",
    "tag_keys",
    "cost_categories",
    "days_per_request",
    "import_anomalies",
    "[integrations.slack]",
    "[integrations.teams]",
    "[integrations.discord]",
    "[integrations.pagerduty]",
    "[integrations.datadog]",
    "[integrations.jira]",
];

#[test]
fn init_writes_every_option_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = output(costwatch(dir.path()).args(["init", "--json"]));
    assert!(ok, "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["path"], "costwatch.toml");
    let path = dir.path().join("costwatch.toml");
    let written = std::fs::read_to_string(&path).unwrap();
    for option in OPTIONS {
        assert!(written.contains(option), "{option} missing:\n{written}");
    }
    assert!(written.contains("#history_days = 120"), "{written}");
    assert!(
        written.contains("webhook_url = { secrets_manager = \"costwatch/slack/finops\" }"),
        "{written}"
    );

    // A second run refuses, says why, and leaves the file as it was.
    let (ok, _, stderr) = output(costwatch(dir.path()).arg("init"));
    assert!(!ok);
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    // --path writes elsewhere.
    let (ok, _, stderr) = output(costwatch(dir.path()).args(["init", "--path", "other.toml"]));
    assert!(ok, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("other.toml")).unwrap(),
        written
    );
}
