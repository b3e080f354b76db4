//! Cost Explorer's CSV download from the console: a fixture in its layout (byte-order mark,
//! every cell quoted, CRLF, a `Service total` row, empty cells, thousands commas), and small
//! files for the other groupings and for what is refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use costwatch_core::{ChargeCategory, CostRecord};
use costwatch_ingest::ce_json::ALL_SERVICES;
use costwatch_ingest::{Format, IngestError, UNKNOWN_ACCOUNT, detect, read_path};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `text` as a file in a fresh directory (kept alive by the returned guard).
fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costs.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn by_day(records: &[CostRecord]) -> BTreeMap<NaiveDate, Decimal> {
    let mut days = BTreeMap::new();
    for r in records {
        *days.entry(r.day()).or_default() += r.billed_cost;
    }
    days
}

#[test]
fn a_daily_service_report_becomes_one_record_per_day_and_service() {
    let path = fixture("ce_console_service_daily.csv");
    assert_eq!(detect(&path).unwrap(), Format::CeCsv);
    let records = read_path(&path).unwrap();
    // Three services on three days, and the tax of the third: empty cells are no record.
    assert_eq!(records.len(), 10);
    let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    // Each day sums to the file's own Total costs column: the total is not counted again.
    assert_eq!(
        by_day(&records),
        BTreeMap::from([
            (day(1), dec!(535.2)),
            (day(2), dec!(535.22)),
            (day(3), dec!(540.26))
        ])
    );
    let rds: Vec<&CostRecord> = records
        .iter()
        .filter(|r| r.service_name == "Relational Database Service")
        .collect();
    assert_eq!(rds.len(), 3);
    assert!(rds.iter().all(|r| r.billed_cost == dec!(400.5)));
    let tax: Vec<&CostRecord> = records.iter().filter(|r| r.service_name == "Tax").collect();
    assert_eq!(tax.len(), 1);
    assert_eq!(tax[0].charge_category, ChargeCategory::Tax);
    let first = &records[0];
    assert_eq!(
        (
            first.billing_account_id.as_str(),
            first.sub_account_id.as_str(),
            first.billing_currency.as_str()
        ),
        (UNKNOWN_ACCOUNT, UNKNOWN_ACCOUNT, "USD")
    );
    assert_eq!(first.effective_cost, first.billed_cost);
    assert_eq!(first.list_cost, None);
}

#[test]
fn a_linked_account_report_names_each_account() {
    let (_dir, path) = file(
        "\"Linked account\",\"web-prod (111122223333)\",\"444455556666($)\",\"Total costs($)\"\n\
         \"Linked account total\",\"30\",\"5\",\"35\"\n\"2026-11-01\",\"10\",\"\",\"10\"\n\
         \"2026-11-02\",\"20\",\"5\",\"25\"\n",
    );
    // The first account's column lacks the currency: not the download.
    assert!(matches!(
        read_path(&path),
        Err(IngestError::UnknownFormat { .. })
    ));
    let (_dir, path) = file(
        "\"Linked account\",\"web-prod (111122223333)($)\",\"444455556666($)\",\"Total costs($)\"\n\
         \"Linked account total\",\"30\",\"5\",\"35\"\n\"2026-11-01\",\"10\",\"\",\"10\"\n\
         \"2026-11-02\",\"20\",\"5\",\"25\"\n",
    );
    let records = read_path(&path).unwrap();
    let accounts: BTreeMap<(&str, Option<&str>), Decimal> =
        records.iter().fold(BTreeMap::new(), |mut m, r| {
            *m.entry((r.sub_account_id.as_str(), r.sub_account_name.as_deref()))
                .or_default() += r.billed_cost;
            m
        });
    assert_eq!(
        accounts,
        BTreeMap::from([
            (("111122223333", Some("web-prod")), dec!(30)),
            (("444455556666", None), dec!(5))
        ])
    );
    assert!(records.iter().all(|r| r.service_name == ALL_SERVICES));
}

#[test]
fn a_grouping_without_a_record_column_keeps_each_days_total() {
    let (_dir, path) = file(
        "Instance type,m5.large($),t3.micro($),Total costs($)\nInstance type total,9,3,12\n\
         2026-11-01,4.5,1.5,6\n2026-11-02,4.5,1.5,6\n",
    );
    let records = read_path(&path).unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|r| r.service_name == ALL_SERVICES));
    assert!(records.iter().all(|r| r.billed_cost == dec!(6)));
}

#[test]
fn hourly_rows_sum_into_their_day() {
    let (_dir, path) = file(
        "Service,S3($),Total costs($)\nService total,6,6\n2026-11-01 00:00:00,1,1\n\
         2026-11-01 01:00:00,2,2\n2026-11-02 00:00:00,3,3\n",
    );
    let records = read_path(&path).unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    assert_eq!(
        by_day(&records),
        BTreeMap::from([(day(1), dec!(3)), (day(2), dec!(3))])
    );
    assert_eq!(records.len(), 2, "one record per day and service");
}

#[test]
fn a_monthly_report_is_refused_with_what_to_download() {
    let (_dir, path) = file(
        "Service,S3($),Total costs($)\nService total,30,30\n2026-09-01,10,10\n\
         2026-10-01,10,10\n2026-11-01,10,10\n",
    );
    let err = read_path(&path).unwrap_err().to_string();
    assert!(
        err.contains("costs.csv") && err.contains("daily granularity"),
        "{err}"
    );
}

#[test]
fn a_bad_cell_names_its_row_and_column() {
    let (_dir, path) = file("Service,S3($),Total costs($)\n2026-11-01,ten,10\n");
    let err = read_path(&path).unwrap_err().to_string();
    assert!(
        err.contains("row 1") && err.contains("S3($)") && err.contains("ten"),
        "{err}"
    );
    let (_dir, path) = file("Service,S3($),Total costs($)\n11/01/2026,10,10\n");
    let err = read_path(&path).unwrap_err().to_string();
    assert!(err.contains("not a date"), "{err}");
}
