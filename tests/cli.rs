//! The `costwatch` binary as a user runs it.

use std::path::Path;

use assert_cmd::Command;
use costwatch_core::shared::shared_path;
use serde_json::Value;

fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

/// `costwatch ARGS` in `dir`, which must succeed (its stderr shown otherwise): its JSON summary.
fn succeeds(dir: &Path, args: &[&str]) -> Value {
    let out = costwatch(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/notification.v1.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn demo_writes_a_report_with_the_spike_and_valid_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path())
        .args(["demo", "--json", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    for kind in ["anomaly", "budget", "report"] {
        assert!(
            summary["notifications_by_kind"][kind].as_u64().unwrap_or(0) >= 1,
            "no {kind}: {summary}"
        );
    }
    let today: Vec<&str> = summary["open_anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        today
            .iter()
            .any(|t| t.contains("Amazon SageMaker in data-platform")),
        "{today:?}"
    );

    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Amazon SageMaker in data-platform"));
    // The report's archive files beside it: the open anomaly is a row of the CSV and the JSON.
    let archive_csv = std::fs::read_to_string(dir.path().join("out/report.csv")).unwrap();
    assert!(
        archive_csv.starts_with("table,label,scope,"),
        "{archive_csv}"
    );
    assert!(
        archive_csv
            .lines()
            .any(|l| l.starts_with("anomaly,Amazon SageMaker in data-platform,")),
        "{archive_csv}"
    );
    let archive_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert!(
        archive_json["anomalies"]
            .to_string()
            .contains("Amazon SageMaker in data-platform")
    );

    let v = validator();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("out/notifications"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        summary["notifications"].as_array().unwrap().len()
    );
    for f in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert!(v.is_valid(&doc), "{} is not a valid envelope", f.display());
    }
}

#[test]
fn import_then_run_on_real_focus_data() {
    let dir = tempfile::tempdir().unwrap();
    let focus = shared_path("data/cost/focus/focus_1.0_sample_1000.csv");
    let out = costwatch(dir.path())
        .args(["--json", "import", "--focus"])
        .arg(&focus)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["records"].as_u64().unwrap() > 0);
    assert!(
        dir.path()
            .join(".costwatch/lake/raw/import/focus_1.0_sample_1000.csv")
            .is_file()
    );

    // Importing the same file again replaces its days: the rollups do not double.
    let again = costwatch(dir.path())
        .args(["--json", "import", "--focus"])
        .arg(&focus)
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["rollup_rows"], summary["rollup_rows"]);

    let run = succeeds(dir.path(), &["--json", "run"]);
    assert_eq!(run["notifications_by_kind"]["report"], 1);
    assert!(dir.path().join("costwatch-out/report.html").is_file());
}

/// Cost Explorer's CSV download from the console, imported as it comes (byte-order mark, quoted
/// cells, its totals row), is enough to run on: a jump in one service on the last day is found
/// as that service's anomaly.
#[test]
fn a_cost_explorer_console_download_imports_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from(
        "\u{feff}\"Service\",\"EC2-Instances($)\",\"S3($)\",\"Total costs($)\"\r\n\"Service total\",\"0\",\"0\",\"0\"\r\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    for i in 0..70u64 {
        let day = start + chrono::Days::new(i);
        let ec2 = if i == 69 {
            900.0
        } else {
            100.0 + (i * 7 % 11) as f64
        };
        let s3 = 10.0 + (i % 3) as f64;
        csv.push_str(&format!(
            "\"{day}\",\"{ec2:.2}\",\"{s3:.2}\",\"{:.2}\"\r\n",
            ec2 + s3
        ));
    }
    std::fs::write(dir.path().join("costs.csv"), csv).unwrap();
    let summary = succeeds(dir.path(), &["--json", "import", "--ce-csv", "costs.csv"]);
    assert_eq!(summary["format"], "CeCsv");
    assert_eq!(summary["records"], 140);
    assert_eq!(summary["last_day"], "2026-11-09");

    let run = succeeds(dir.path(), &["--json", "run"]);
    let open: Vec<&str> = run["open_anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(open.iter().any(|t| t.contains("EC2-Instances")), "{open:?}");

    // Under another flag, the error names the one that reads it.
    let wrong = costwatch(dir.path())
        .args(["import", "--focus", "costs.csv"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success() && err.contains("--ce-csv"), "{err}");
}

/// A `[metrics]` table is pulled with `--aws` only: a run on the local store says so on stderr
/// rather than skipping the series silently, and its summary has no CloudWatch line.
#[test]
fn a_run_without_aws_says_its_metrics_wait_for_aws() {
    let dir = tempfile::tempdir().unwrap();
    let focus = shared_path("data/cost/focus/focus_1.0_sample_1000.csv");
    let import = costwatch(dir.path())
        .args(["import", "--focus"])
        .arg(&focus)
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[[metrics.watch]]\nstat = \"Average\"\nperiod_secs = 300\nmetric = { namespace = \
         \"AWS/EC2\", name = \"CPUUtilization\", dimensions = { InstanceId = \"i-0abc\" } }\n",
    )
    .unwrap();
    let run = costwatch(dir.path())
        .args(["--json", "run"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains("[metrics] watches 1 CloudWatch series") && err.contains("--aws"),
        "{err}"
    );
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(summary.get("cloudwatch").is_none(), "{summary:#}");
}

/// The line a person reads names the file as they would, and a single day as one.
#[test]
fn import_says_what_it_read_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let cur = shared_path("data/cost/cur/Step1CUR.gz");
    let out = costwatch(dir.path())
        .args(["import", "--cur"])
        .arg(&cur)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("(a Cost and Usage Report): 544 records, 1 day (2019-11-26), billed $"),
        "{text}"
    );
    let focus = shared_path("data/cost/focus/focus_1.0_sample_1000.csv");
    let out = costwatch(dir.path())
        .args(["import", "--focus"])
        .arg(&focus)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(a FOCUS export): 996 records, 30 days (2024-09-01 to 2024-09-30)"),
        "{text}"
    );
}

#[test]
fn bad_input_fails_with_a_clear_message_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "ChargePeriodStart,ChargePeriodEnd,BillingAccountId,SubAccountId,ServiceName,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency\n\
         2026-01-01 00:00:00,2026-01-02 00:00:00,1,2,S3,Usage,1.0,1.0,USD\n\
         2026-01-02 00:00:00,2026-01-03 00:00:00,1,2,S3,Usage,abc,1.0,USD\n",
    )
    .unwrap();
    let out = costwatch(dir.path())
        .args(["import", "--focus"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv") && err.contains("BilledCost") && err.contains("row 2"),
        "{err}"
    );
    assert!(
        !dir.path().join(".costwatch/lake/curated").exists(),
        "a failed import left data behind"
    );

    let missing = costwatch(dir.path()).args(["run"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("costwatch import"));

    // A file under the wrong flag says which flag reads it.
    let wrong = costwatch(dir.path())
        .args(["import", "--cur"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.contains("looks like a FOCUS export") && err.contains("import it with --focus"),
        "{err}"
    );

    // A mistyped path names the file and says why once (the reader's message already carries
    // the OS error, which the error chain used to repeat).
    let typo = costwatch(dir.path())
        .args(["import", "--cur", "no-such-export.csv"])
        .output()
        .unwrap();
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(err.contains("no-such-export.csv"), "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn unknown_config_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[pipeline]\ncost_metrics = \"billed\"\n",
    )
    .unwrap();
    let out = costwatch(dir.path()).args(["run"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field") && err.contains("cost_metrics"),
        "{err}"
    );
}

#[test]
fn a_data_export_source_without_its_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[source]\nkind = \"data-export\"\n",
    )
    .unwrap();
    let out = costwatch(dir.path()).args(["run"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[source]") && err.contains("data_export"),
        "{err}"
    );
}

/// Thirteen budgets on one day of a real CUR: `run` prints the ten most used, most used first,
/// and the one watching a scope with no costs (a misspelt service, with its "did you mean"),
/// then one line for the rest; `--json` lists all thirteen in that order.
#[test]
fn run_prints_the_budgets_most_at_risk_and_those_watching_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config: String = (1..=12)
        .map(|i| {
            format!(
                "[[pipeline.budgets]]\nname = \"org-{i}00\"\nscope = \"org\"\namount = \"{i}00\"\n"
            )
        })
        .collect();
    config.push_str(
        "[[pipeline.budgets]]\nname = \"glue\"\nscope = \"service=AWS Glu\"\namount = \"50\"\n",
    );
    std::fs::write(dir.path().join("costwatch.toml"), config).unwrap();
    let cur = shared_path("data/cost/cur/Step1CUR.gz");
    let imported = costwatch(dir.path())
        .args(["import", "--cur"])
        .arg(&cur)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");

    let out = costwatch(dir.path()).arg("run").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let budgets: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  budget "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let mut expected: Vec<String> = (1..=10).map(|i| format!("org-{i}00")).collect();
    expected.push("glue".into());
    assert_eq!(budgets, expected, "{text}");
    assert!(text.contains("did you mean"), "{text}");
    assert!(
        text.contains("  … and 2 more budgets, less at risk (--json lists every one)"),
        "{text}"
    );

    let out = costwatch(dir.path())
        .args(["run", "--json"])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all: Vec<&str> = summary["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().split(':').next().unwrap())
        .collect();
    assert_eq!(all.len(), 13, "{summary:#}");
    assert_eq!(&all[..2], ["org-100", "org-200"], "{summary:#}");
    assert_eq!(all[12], "glue", "{summary:#}");
    assert!(summary.get("watching_nothing").is_none(), "{summary:#}");
}
