//! `costwatch forecast` as a user (or an independent check) runs it: real series, the header
//! and date spellings it accepts, and bad input named by file and row.

use std::path::Path;

use assert_cmd::Command;
use chrono::{Datelike, NaiveDate};
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

/// As a person first tries it: the file as the only argument gives four weeks.
#[test]
fn the_file_alone_gives_four_weeks() {
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path())
        .arg("forecast")
        .arg(shared_path("data/forecast/nab_nyc_taxi_daily.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 28, "{text}");
    assert!(rows[0].starts_with("2015-02-01,") && rows[27].starts_with("2015-02-28,"));
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
            // A lone numeric column of any name is the value (issue 18); text is not.
            "no_value.csv",
            "ds,comment\n2020-01-01,high\n",
            "no value column",
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

/// Runs `forecast` with extra arguments; (success, stdout, stderr).
fn run_with(dir: &Path, input: &Path, extra: &[&str]) -> (bool, String, String) {
    let out = costwatch(dir)
        .args(["forecast", "--horizon", "3", "--input"])
        .arg(input)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn real_export_columns_are_found_or_named_and_a_wrong_guess_is_an_error_listing_them() {
    let dir = tempfile::tempdir().unwrap();
    let days = |header: &str, row: &dyn Fn(u32) -> String| {
        let mut text = format!("{header}\n");
        for d in 1..=28 {
            text.push_str(&row(d));
            text.push('\n');
        }
        text
    };
    // One date column and one numeric column, neither of the usual names: no flags needed.
    let plain = write(
        dir.path(),
        "cost.csv",
        &days("date,unblended_cost", &|d| {
            format!("2024-03-{d:02},{}", 10.0 + f64::from(d % 7))
        }),
    );
    let rows = run(dir.path(), &plain, 3);
    assert_eq!(rows[0].0, NaiveDate::from_ymd_opt(2024, 3, 29).unwrap());
    assert!(rows.iter().all(|r| (9.0..=17.0).contains(&r.1)), "{rows:?}");

    // Two numeric columns and two date columns: each ambiguity is an error naming them, and
    // the flags settle it.
    let export = write(
        dir.path(),
        "export.csv",
        &days("usage_start,usage_end,service,Cost,credits", &|d| {
            format!(
                "2024-03-{d:02},2024-03-{d:02}T23:59:59Z,AmazonEC2,{},-1",
                100 + d
            )
        }),
    );
    let (ok, _, err) = run_with(dir.path(), &export, &[]);
    assert!(!ok);
    assert!(
        err.contains("`usage_start`, `usage_end`") && err.contains("--date-column"),
        "{err}"
    );
    let (ok, _, err) = run_with(dir.path(), &export, &["--date-column", "usage_start"]);
    assert!(!ok);
    assert!(
        err.contains("`Cost`, `credits`") && err.contains("--value-column"),
        "{err}"
    );
    let (ok, out, err) = run_with(
        dir.path(),
        &export,
        &["--date-column", "USAGE_START", "--value-column", "cost"],
    );
    assert!(ok, "{err}");
    let first: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[0], "2024-03-29");
    assert!(first[1].parse::<f64>().unwrap() > 120.0, "{out}");

    // A named column that is not there: the error lists what is.
    let (ok, _, err) = run_with(dir.path(), &plain, &["--value-column", "amount"]);
    assert!(!ok);
    assert!(
        err.contains("`amount`") && err.contains("columns found: `date`, `unblended_cost`"),
        "{err}"
    );
    // Nothing numeric besides the date: the error says so and lists the columns.
    let words = write(dir.path(), "words.csv", "day,note\n2024-03-01,high\n");
    let (ok, _, err) = run_with(dir.path(), &words, &[]);
    assert!(!ok);
    assert!(
        err.contains("no value column") && err.contains("`day`, `note`"),
        "{err}"
    );
}

#[test]
fn a_fee_on_every_first_of_the_month_is_forecast_on_the_next_first() {
    // A Cost Explorer export summed by day: about 100 a day (weekends lower, a deterministic
    // wobble) and 3,000 of RI fees, Support and tax on the 1st, for fourteen months.
    let dir = tempfile::tempdir().unwrap();
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2025, 3, 20).unwrap();
    let spend = |i: usize, day: NaiveDate| {
        let weekend = day.weekday().number_from_monday() >= 6;
        let usage = if weekend { 80.0 } else { 100.0 } + 4.0 * ((i * 7) % 5) as f64;
        usage + if day.day() == 1 { 3000.0 } else { 0.0 }
    };
    let export = |end: NaiveDate| {
        let mut text = String::from("date,unblended_cost\n");
        for (i, day) in start.iter_days().take_while(|d| *d <= end).enumerate() {
            text.push_str(&format!("{day},{:.2}\n", spend(i, day)));
        }
        write(dir.path(), &format!("daily-to-{end}.csv"), &text)
    };
    let input = export(end);
    let rows = run(dir.path(), &input, 28);
    let index = |d: NaiveDate| usize::try_from((d - start).num_days()).unwrap();
    assert!(rows.iter().any(|r| r.0.day() == 1));
    for (date, mean, lo80, hi80) in &rows {
        let truth = spend(index(*date), *date);
        if date.day() == 1 {
            // The fee and that day's usage.
            assert!((mean - truth).abs() < 30.0, "{date}: {mean}, truth {truth}");
            assert!(*lo80 > 3_000.0 && *hi80 < 3_200.0, "{date}: {lo80}–{hi80}");
        } else {
            assert!((70.0..130.0).contains(mean), "{date}: {mean}");
        }
    }
    // The summary says where the fee was found, and --month-end gives the month's total: the
    // days so far to the cent, and the rest with the next fee when the month ahead has one.
    let summary = |input: &Path| -> serde_json::Value {
        let out = costwatch(dir.path())
            .args([
                "--json",
                "forecast",
                "--horizon",
                "28",
                "--month-end",
                "--input",
            ])
            .arg(input)
            .assert()
            .success();
        let text = String::from_utf8_lossy(&out.get_output().stderr);
        assert!(text.contains("month end 20"), "{text}");
        serde_json::from_str(text.lines().last().unwrap()).unwrap()
    };
    let money = |v: &serde_json::Value| v.as_str().unwrap().parse::<f64>().unwrap();
    let month_total = |first: NaiveDate, days: u64| -> f64 {
        first
            .iter_days()
            .take(days as usize)
            .map(|d| spend(index(d), d))
            .sum()
    };
    let march = summary(&input);
    assert_eq!(march["monthly_charge_days"], serde_json::json!([1]));
    let m = &march["month_end"];
    assert_eq!(m["month"], "2025-03-01");
    let so_far = month_total(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(), 20);
    assert!((money(&m["actual_to_date"]) - so_far).abs() < 0.05, "{m}");
    let truth = month_total(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(), 31);
    assert!(
        (money(&m["total"]) - truth).abs() < 0.01 * truth,
        "{m}, truth {truth}"
    );
    // A file that ends on 31 March: April is all forecast, its fee included.
    let to_march = export(NaiveDate::from_ymd_opt(2025, 3, 31).unwrap());
    let april = &summary(&to_march)["month_end"];
    assert_eq!(april["month"], "2025-04-01");
    let truth = month_total(NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(), 30);
    assert!(
        (money(&april["total"]) - truth).abs() < 0.02 * truth,
        "{april}, truth {truth}"
    );
}

#[test]
fn a_cost_explorer_csv_download_is_read_as_it_comes() {
    // The console's "Download CSV": the grouping's name over the dates, one column per service,
    // the total last, and a first row of the file's own totals.
    let dir = tempfile::tempdir().unwrap();
    let start = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    let mut days = String::new();
    let (mut ec2_sum, mut s3_sum) = (0.0, 0.0);
    for (i, day) in start.iter_days().take(42).enumerate() {
        let ec2 = 50.0 + (i % 7) as f64;
        let s3 = 10.0 + (i % 3) as f64;
        ec2_sum += ec2;
        s3_sum += s3;
        days.push_str(&format!(
            "\"{day}\",\"{ec2:.2}\",\"{s3:.2}\",\"{:.2}\"\n",
            ec2 + s3
        ));
    }
    let text = format!(
        "\"Service\",\"EC2-Instances($)\",\"S3($)\",\"Total costs($)\"\n\
         \"Service total\",\"{ec2_sum:.2}\",\"{s3_sum:.2}\",\"{:.2}\"\n{days}",
        ec2_sum + s3_sum
    );
    let input = write(dir.path(), "costs.csv", &text);
    let (ok, out, err) = run_with(dir.path(), &input, &[]);
    assert!(ok, "{err}");
    assert!(
        err.contains("row 1 (`Service total`) is the file's own total"),
        "{err}"
    );
    // The daily totals (60–68), not one service's and not the file's sum.
    let rows: Vec<f64> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|m| (58.0..70.0).contains(m)), "{rows:?}");
    // Naming the date column (the grouping's name) skips the totals row too.
    let (ok, _, err) = run_with(dir.path(), &input, &["--date-column", "Service"]);
    assert!(ok, "{err}");
}
