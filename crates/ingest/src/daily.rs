//! A plain daily series from CSV: a date column (`ds`, `timestamp` or `date`) and a value
//! column (`y` or `value`), in any order, any case, quoted or not, comma / semicolon / tab
//! separated, gzipped or not. What `costwatch forecast` reads.
//!
//! * **Other column names** (a real export: `date,unblended_cost`, `usage_date,service,cost`):
//!   [`Columns`] names them; unnamed, the one column whose first data rows are dates, and the
//!   one other column whose first data rows are numbers, are taken. When that is ambiguous or
//!   there is none, the error lists the columns found.
//! * Dates are `YYYY-MM-DD`, optionally followed by a time (`2014-07-01 00:00:00`,
//!   `2014-07-01T00:00:00Z`): the calendar day is what counts. Rows may come in any order.
//! * An empty value (or `NA`, `NaN`, `null`) is a missing day, like a date absent from the file.
//! * Several rows on one day are **summed** (a day's spend split over rows, or hourly rows of a
//!   count), and reported in [`DailyValues::duplicate_days`] so the caller can say so; with
//!   [`Duplicates::Reject`] they are an error naming both rows.
//! * **Cost Explorer's own CSV download** (the console's "Download CSV"): a first column named
//!   after the grouping (`Service`, `Linked account` …) holding the dates, one column per group
//!   (`EC2-Instances($)`), a `Total costs($)` column, and a first row of the file's own totals
//!   (`Service total`). Rows whose date cell ends in "total" are the file's sums, not days, and
//!   are skipped ([`DailyValues::skipped_totals`]); among several numeric columns the one named
//!   `Total…` is the value.
//! * Anything else that is not a finite number, or a date that does not parse, fails the whole
//!   file with its row and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;

use crate::error::{IngestError, Location};
use crate::text::{csv_reader, file_label, headers};

const DATE_COLUMNS: [&str; 3] = ["ds", "timestamp", "date"];
const VALUE_COLUMNS: [&str; 2] = ["y", "value"];
const MISSING: [&str; 4] = ["na", "nan", "null", "none"];
/// Data rows looked at to tell a date or numeric column by its content.
const SNIFF_ROWS: usize = 20;
/// The longest series read: a hundred years of days. The series is laid out day by day, so two
/// rows dated `0000-01-01` and `2024-01-01` would otherwise take 740,000 slots (12 MB) for a
/// 30-byte file — a mistyped year, not a history.
pub const MAX_DAYS: i64 = 36_525;

/// Which columns hold the day and the value (any case); `None`: by the usual names, else by
/// content (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub date: Option<String>,
    pub value: Option<String>,
}

/// What to do with several rows on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Duplicates {
    #[default]
    Sum,
    Reject,
}

/// A daily series laid out from its first to its last date, `None` where a day is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyValues {
    pub start: NaiveDate,
    pub values: Vec<Option<f64>>,
    /// Days that had more than one row (summed).
    pub duplicate_days: Vec<NaiveDate>,
    /// Rows of the file's own totals (`Service total`), skipped: (row, label).
    pub skipped_totals: Vec<(u64, String)>,
}

impl DailyValues {
    pub fn last_date(&self) -> NaiveDate {
        self.start + chrono::Days::new(self.values.len().saturating_sub(1) as u64)
    }
}

pub fn read_daily(path: &Path, duplicates: Duplicates) -> Result<DailyValues, IngestError> {
    read_daily_columns(path, duplicates, &Columns::default())
}

/// [`read_daily`] with the date and value columns named, or found by content.
pub fn read_daily_columns(
    path: &Path,
    duplicates: Duplicates,
    columns: &Columns,
) -> Result<DailyValues, IngestError> {
    let label = file_label(path);
    let mut reader = csv_reader(path)?;
    let names = headers(&mut reader, &label)?;
    let records = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| IngestError::Csv {
            file: label.clone(),
            source,
        })?;
    let sample = &records[..records.len().min(SNIFF_ROWS)];
    let date_col = pick_column(
        &names,
        columns.date.as_deref(),
        &DATE_COLUMNS,
        |c| looks_like(sample, c, |s| is_totals_label(s) || parse_date(s).is_some()),
        |_| false,
        "date",
        &label,
    )?;
    let value_col = pick_column(
        &names,
        columns.value.as_deref(),
        &VALUE_COLUMNS,
        |c| c != date_col && looks_like(sample, c, |s| matches!(parse_value(s), Ok(Some(_)))),
        |c| names[c].trim().to_ascii_lowercase().starts_with("total"),
        "value",
        &label,
    )?;
    let mut days: BTreeMap<NaiveDate, (Option<f64>, u64)> = BTreeMap::new();
    let mut duplicate_days = BTreeSet::new();
    let mut skipped_totals = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let row = i as u64 + 1;
        let cell = |c: usize| record.get(c).unwrap_or("").trim();
        let bad = |c: usize, problem: String| {
            IngestError::value(&label, Location::Row(row), &names[c], problem)
        };
        if is_totals_label(cell(date_col)) {
            skipped_totals.push((row, cell(date_col).to_owned()));
            continue;
        }
        let date = parse_date(cell(date_col)).ok_or_else(|| {
            bad(
                date_col,
                format!("`{}` is not a date (YYYY-MM-DD)", cell(date_col)),
            )
        })?;
        let value = parse_value(cell(value_col))
            .map_err(|()| bad(value_col, format!("`{}` is not a number", cell(value_col))))?;
        match days.get_mut(&date) {
            None => {
                days.insert(date, (value, row));
            }
            Some((_, first)) if duplicates == Duplicates::Reject => {
                return Err(bad(
                    date_col,
                    format!("{date} appears again (first on row {first})"),
                ));
            }
            Some((sum, _)) => {
                duplicate_days.insert(date);
                *sum = match (*sum, value) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
            }
        }
    }
    let (Some((&start, (_, first_row))), Some((&end, (_, last_row)))) =
        (days.first_key_value(), days.last_key_value())
    else {
        return Err(IngestError::UnknownFormat {
            file: label,
            reason: "no data rows".into(),
        });
    };
    let span = (end - start).num_days() + 1;
    if span > MAX_DAYS {
        return Err(IngestError::value(
            &label,
            Location::Row(*last_row),
            &names[date_col],
            format!(
                "the dates run from {start} (row {first_row}) to {end}: {span} days, more than \
                 {MAX_DAYS} (a hundred years); is a year mistyped?"
            ),
        ));
    }
    let values = start
        .iter_days()
        .take_while(|d| *d <= end)
        .map(|d| days.get(&d).and_then(|(v, _)| *v))
        .collect();
    Ok(DailyValues {
        start,
        values,
        duplicate_days: duplicate_days.into_iter().collect(),
        skipped_totals,
    })
}

/// A cell of the file's own totals where a date belongs: Cost Explorer's download starts with a
/// `Service total` (`Linked account total` …) row.
pub(crate) fn is_totals_label(s: &str) -> bool {
    s.trim().to_ascii_lowercase().ends_with("total")
}

/// The column `named` (any case), else the first of `usual` present, else the only column
/// `fits`, or the only `preferred` one of several that fit; an error listing the columns found
/// when there is no such column or several fit.
fn pick_column(
    names: &[String],
    named: Option<&str>,
    usual: &[&str],
    fits: impl Fn(usize) -> bool,
    preferred: impl Fn(usize) -> bool,
    what: &str,
    label: &str,
) -> Result<usize, IngestError> {
    let found = || {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fail = |reason: String| IngestError::UnknownFormat {
        file: label.to_owned(),
        reason,
    };
    if let Some(named) = named {
        return names
            .iter()
            .position(|h| h.eq_ignore_ascii_case(named))
            .ok_or_else(|| {
                fail(format!(
                    "no {what} column `{named}`; columns found: {}",
                    found()
                ))
            });
    }
    if let Some(c) = usual
        .iter()
        .find_map(|w| names.iter().position(|h| h.eq_ignore_ascii_case(w)))
    {
        return Ok(c);
    }
    let fitting: Vec<usize> = (0..names.len()).filter(|c| fits(*c)).collect();
    let preferred: Vec<usize> = fitting.iter().copied().filter(|c| preferred(*c)).collect();
    if fitting.len() > 1
        && let [c] = preferred[..]
    {
        return Ok(c);
    }
    match fitting[..] {
        [c] => Ok(c),
        [] => Err(fail(format!(
            "no {what} column: none is named {} and none holds {what}s; columns found: {}",
            usual.join(" or "),
            found()
        ))),
        _ => Err(fail(format!(
            "which column holds the {what}? {} all could; name one (`costwatch forecast --{what}-column`); columns found: {}",
            fitting
                .iter()
                .map(|c| format!("`{}`", names[*c]))
                .collect::<Vec<_>>()
                .join(", "),
            found()
        ))),
    }
}

/// Whether column `c` of the sample rows is `ok` wherever it is filled, and filled somewhere
/// other than a totals row.
fn looks_like(sample: &[csv::StringRecord], c: usize, ok: impl Fn(&str) -> bool) -> bool {
    let cells: Vec<&str> = sample
        .iter()
        .map(|r| r.get(c).unwrap_or("").trim())
        .filter(|s| !s.is_empty() && !MISSING.iter().any(|m| s.eq_ignore_ascii_case(m)))
        .collect();
    cells.iter().any(|s| !is_totals_label(s)) && cells.iter().all(|s| ok(s))
}

/// `YYYY-MM-DD`, with anything after the day (a time, a zone) ignored; `YYYY/MM/DD` too.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let day = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with([' ', 'T', 't'])) {
        return None;
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(day, "%Y/%m/%d"))
        .ok()
}

/// `Ok(None)` for a missing value, `Err` for text that is not a finite number.
fn parse_value(s: &str) -> Result<Option<f64>, ()> {
    if s.is_empty() || MISSING.iter().any(|m| s.eq_ignore_ascii_case(m)) {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_times_and_slashes_parse_to_the_day() {
        let d = NaiveDate::from_ymd_opt(2014, 7, 1);
        assert_eq!(parse_date("2014-07-01"), d);
        assert_eq!(parse_date("2014-07-01 00:00:00"), d);
        assert_eq!(parse_date("2014-07-01T23:59:59Z"), d);
        assert_eq!(parse_date("2014/07/01"), d);
        assert_eq!(parse_date("2014-07-011"), None);
        assert_eq!(parse_date("07/01/2014"), None);
    }

    #[test]
    fn missing_values_are_gaps_and_junk_is_an_error() {
        assert_eq!(parse_value(""), Ok(None));
        assert_eq!(parse_value("NA"), Ok(None));
        assert_eq!(parse_value("-1.5e3"), Ok(Some(-1500.0)));
        assert_eq!(parse_value("12,5"), Err(()));
        assert_eq!(parse_value("inf"), Err(()));
    }
}
