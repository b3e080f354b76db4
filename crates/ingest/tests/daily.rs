//! Plain daily series from CSV: the real forecast files, and the spellings and mistakes an
//! independent file may have.

use chrono::NaiveDate;
use costwatch_core::shared::shared_path;
use costwatch_ingest::daily::{Duplicates, read_daily};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn the_unsorted_quoted_page_view_file_is_laid_out_by_date_with_gaps() {
    let path = shared_path("data/forecast/example_wp_log_R.csv");
    let s = read_daily(&path, Duplicates::Reject).unwrap();
    assert_eq!(s.start, day(2008, 1, 1));
    assert_eq!(s.last_date(), day(2015, 12, 31));
    let rows = std::fs::read_to_string(&path).unwrap().lines().count() - 1;
    assert_eq!(s.values.iter().flatten().count(), rows);
    assert!(s.values.len() > rows, "the file has gaps");
    assert!(s.duplicate_days.is_empty());
}

#[test]
fn duplicates_are_summed_or_rejected_with_both_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.csv");
    std::fs::write(
        &p,
        "Value;Timestamp\n1.5;2020-01-02 00:00:00\n2;2020-01-01\n3;2020-01-02 12:00:00\n;2020-01-04\n",
    )
    .unwrap();
    let s = read_daily(&p, Duplicates::Sum).unwrap();
    assert_eq!(s.start, day(2020, 1, 1));
    assert_eq!(s.values, vec![Some(2.0), Some(4.5), None, None]);
    assert_eq!(s.duplicate_days, vec![day(2020, 1, 2)]);
    let err = read_daily(&p, Duplicates::Reject).unwrap_err().to_string();
    assert!(
        err.contains("d.csv row 3 column Timestamp") && err.contains("row 1"),
        "{err}"
    );
}
