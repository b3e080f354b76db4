//! `costwatch import --cur` and `costwatch run --data-export` through the embedded SQL engine:
//! the real CUR (legacy Athena layout) and a generated CUR 2.0 month in the Data Exports folder
//! layout, each checked against an independent sum of the same line items.

use std::path::Path;

use assert_cmd::Command;
use chrono::NaiveDate;
use costwatch_core::Money;
use costwatch_core::shared::shared_path;
use costwatch_query::synthetic::{MonthSpec, write_month};
use serde_json::Value;

fn costwatch(dir: &Path, args: &[&str]) -> Value {
    let out = Command::cargo_bin("costwatch")
        .unwrap()
        .current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn money(v: &Value) -> Money {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| v.as_f64().map(|f| Money::try_from(f).unwrap()))
        .unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[test]
fn import_reads_real_cur_parquet_through_the_engine_to_the_readers_total() {
    let dir = tempfile::tempdir().unwrap();
    let file = shared_path("data/cost/cur/Nov2018-WorkshopCUR-00001.snappy.parquet");
    let summary = costwatch(
        dir.path(),
        &["import", "--json", "--cur", file.to_str().unwrap()],
    );
    assert_eq!(summary["format"], "CurExport", "{summary}");
    // The columns decide what the export is, not the flag: given as FOCUS, it is still a CUR.
    let other = tempfile::tempdir().unwrap();
    let as_focus = costwatch(
        other.path(),
        &["import", "--json", "--focus", file.to_str().unwrap()],
    );
    assert_eq!(as_focus["format"], "CurExport", "{as_focus}");
    let reader: Money = costwatch_ingest::cur::read_parquet(&file)
        .unwrap()
        .iter()
        .map(|r| r.billed_cost)
        .sum();
    assert_eq!(
        money(&summary["billed_cost"]).round_dp(2),
        reader.round_dp(2)
    );
    assert_eq!(summary["days"], 30, "{summary}");
    assert!(summary["rollup_rows"].as_u64().unwrap() > 0);
    assert!(
        !dir.path().join(".costwatch/lake/raw/import").exists(),
        "an export read in place is not copied"
    );
}

#[test]
fn a_cur2_export_folder_imports_and_runs_the_restated_window() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let spec = |month: NaiveDate, lines| MonthSpec {
        month,
        lines,
        accounts: 20,
        lines_per_file: 40_000,
    };
    let october = write_month(
        &export,
        &spec(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), 30_000),
    )
    .unwrap();
    let november = write_month(
        &export,
        &spec(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), 60_000),
    )
    .unwrap();

    let summary = costwatch(
        dir.path(),
        &["import", "--json", "--cur", export.to_str().unwrap()],
    );
    let written: Money = october
        .billed_by_day
        .values()
        .chain(november.billed_by_day.values())
        .sum();
    assert_eq!(money(&summary["billed_cost"]), written, "{summary}");
    assert_eq!(summary["days"], 61, "{summary}");

    // A run on 20 November reads October and November 1–19 again: the restated window.
    let data = dir.path().join("second");
    let run = costwatch(
        dir.path(),
        &[
            "run",
            "--json",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            "out",
            "--data-export",
            export.to_str().unwrap(),
            "--today",
            "2026-11-20",
        ],
    );
    assert_eq!(run["days_collected"], 31 + 19, "{run}");
    assert_eq!(run["as_of"], "2026-11-19", "{run}");
    let line = run["data_export"].as_str().unwrap();
    assert!(line.starts_with("1 Athena query"), "{line}");
    assert!(dir.path().join("out/report.html").is_file());

    // The same source chosen in costwatch.toml instead of the flag.
    let config = dir.path().join("costwatch.toml");
    let toml = format!(
        "[source]\nkind = \"data-export\"\ndata_export = {:?}\n",
        export.to_str().unwrap()
    );
    std::fs::write(&config, toml).unwrap();
    let third = dir.path().join("third");
    let configured = costwatch(
        dir.path(),
        &[
            "run",
            "--json",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            third.to_str().unwrap(),
            "--out",
            "out3",
            "--today",
            "2026-11-20",
        ],
    );
    assert_eq!(
        configured["days_collected"], run["days_collected"],
        "{configured}"
    );
    assert_eq!(
        configured["data_export"], run["data_export"],
        "{configured}"
    );
}
