//! `costwatch forecast` as a user (or an independent check) runs it: real series, the header
//! and date spellings it accepts, and bad input named by file and row.

use std::path::Path;

use assert_cmd::Command;
use chrono::NaiveDate;
use costwatch_core::shared::shared_path;

fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

/// Runs `forecast` and returns the parsed rows (date, mean, lo80, hi80).
fn run(dir: &Path, input: &Path, horizon: usize) -> Vec<(NaiveDate, f64, f64, f64)> {
    let out = costwatch(dir)
        .args(["forecast", "--input"])
        .arg(input)
        .args(["--horizon", &horizon.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("ds,mean,lo80,hi80"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "{l}");
            let n = |i: usize| f[i].parse::<f64>().unwrap();
            (f[0].parse().unwrap(), n(1), n(2), n(3))
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn real_series_give_exactly_n_rows_after_the_last_date() {
    let dir = tempfile::tempdir().unwrap();
    // Unsorted rows, quoted header, gaps: the R page views end on 2015-12-31.
    let rows = run(
        dir.path(),
        &shared_path("data/forecast/example_wp_log_R.csv"),
        30,
    );
    assert_eq!(rows.len(), 30);
    assert_eq!(rows[0].0, NaiveDate::from_ymd_opt(2016, 1, 1).unwrap());
    assert_eq!(rows[29].0, NaiveDate::from_ymd_opt(2016, 1, 30).unwrap());
    for (d, mean, lo, hi) in &rows {
        assert!(lo <= mean && mean <= hi, "{d}: {lo} {mean} {hi}");
        assert!((5.0..10.0).contains(mean), "{d}: log views {mean}");
    }
    let taxi = run(
        dir.path(),
        &shared_path("data/forecast/nab_nyc_taxi_daily.csv"),
        7,
    );
    assert_eq!(taxi[0].0, NaiveDate::from_ymd_opt(2015, 2, 1).unwrap());
    assert!(taxi.iter().all(|r| r.1 > 100_000.0), "{taxi:?}");
}

#[test]
fn timestamp_value_headers_times_gaps_and_short_series_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("\"timestamp\",\"value\"\n");
    for d in 1..=20 {
        if d % 6 != 0 {
            text.push_str(&format!("\"2014-07-{d:02} 00:00:00\",{}\n", 100 + d));
        }
    }
    // A last date with an empty value still counts as the last date.
    text.push_str("2014-07-21 00:00:00,\n");
    let p = write(dir.path(), "ts.csv", &text);
    let rows = run(dir.path(), &p, 5);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].0, NaiveDate::from_ymd_opt(2014, 7, 22).unwrap());

    let short = write(
        dir.path(),
        "short.csv",
        "ds,y\n2020-01-01,5\n2020-01-03,-2\n",
    );
    let rows = run(dir.path(), &short, 3);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].0, NaiveDate::from_ymd_opt(2020, 1, 4).unwrap());
}

#[test]
fn duplicate_dates_are_summed_or_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("ds,y\n");
    for d in 1..=28 {
        text.push_str(&format!("2021-02-{d:02},10\n"));
    }
    text.push_str("2021-02-28,10\n");
    let p = write(dir.path(), "dup.csv", &text);
    let out = costwatch(dir.path())
        .args(["forecast", "--horizon", "3", "--input"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("summed"));
    let out = costwatch(dir.path())
        .args([
            "forecast",
            "--horizon",
            "3",
            "--on-duplicate",
            "error",
            "--input",
        ])
        .arg(&p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dup.csv") && err.contains("row 29") && err.contains("row 28"),
        "{err}"
    );
}

#[test]
fn bad_input_is_named_by_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "bad_value.csv",
            "ds,y\n2020-01-01,1\n2020-01-02,abc\n",
            "row 2 column y",
        ),
        (
            "bad_date.csv",
            "ds,y\n2020-01-01,1\n01/02/2020,2\n",
            "row 2 column ds",
        ),
        (
            "no_value.csv",
            "ds,amount\n2020-01-01,1\n",
            "missing required column",
        ),
        ("empty.csv", "ds,y\n", "no data rows"),
    ];
    for (name, text, want) in cases {
        let p = write(dir.path(), name, text);
        let out = costwatch(dir.path())
            .args(["forecast", "--horizon", "2", "--input"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
    let out = costwatch(dir.path())
        .args(["forecast", "--horizon", "0", "--input", "x.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn out_writes_the_file_instead_of_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path())
        .args(["forecast", "--horizon", "4", "--out", "f.csv", "--input"])
        .arg(shared_path("data/forecast/nab_nyc_taxi_daily.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(dir.path().join("f.csv")).unwrap();
    assert_eq!(text.lines().count(), 5);
}
