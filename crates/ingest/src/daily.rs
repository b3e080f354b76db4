//! A plain daily series from CSV: a date column (`ds`, `timestamp` or `date`) and a value
//! column (`y` or `value`), in any order, any case, quoted or not, comma / semicolon / tab
//! separated, gzipped or not. What `costwatch forecast` reads.
//!
//! * Dates are `YYYY-MM-DD`, optionally followed by a time (`2014-07-01 00:00:00`,
//!   `2014-07-01T00:00:00Z`): the calendar day is what counts. Rows may come in any order.
//! * An empty value (or `NA`, `NaN`, `null`) is a missing day, like a date absent from the file.
//! * Several rows on one day are **summed** (a day's spend split over rows, or hourly rows of a
//!   count), and reported in [`DailyValues::duplicate_days`] so the caller can say so; with
//!   [`Duplicates::Reject`] they are an error naming both rows.
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
}

impl DailyValues {
    pub fn last_date(&self) -> NaiveDate {
        self.start + chrono::Days::new(self.values.len().saturating_sub(1) as u64)
    }
}

pub fn read_daily(path: &Path, duplicates: Duplicates) -> Result<DailyValues, IngestError> {
    let label = file_label(path);
    let mut reader = csv_reader(path)?;
    let names = headers(&mut reader, &label)?;
    let find = |wanted: &[&str], what: &str| {
        names
            .iter()
            .position(|h| wanted.iter().any(|w| h.eq_ignore_ascii_case(w)))
            .ok_or_else(|| {
                IngestError::missing(&label, &format!("{what} ({})", wanted.join(" or ")))
            })
    };
    let (date_col, value_col) = (find(&DATE_COLUMNS, "date")?, find(&VALUE_COLUMNS, "value")?);
    let mut days: BTreeMap<NaiveDate, (Option<f64>, u64)> = BTreeMap::new();
    let mut duplicate_days = BTreeSet::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 1;
        let record = record.map_err(|source| IngestError::Csv {
            file: label.clone(),
            source,
        })?;
        let cell = |c: usize| record.get(c).unwrap_or("").trim();
        let bad = |c: usize, problem: String| {
            IngestError::value(&label, Location::Row(row), &names[c], problem)
        };
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
    let (Some((&start, _)), Some((&end, _))) = (days.first_key_value(), days.last_key_value())
    else {
        return Err(IngestError::UnknownFormat {
            file: label,
            reason: "no data rows".into(),
        });
    };
    let values = start
        .iter_days()
        .take_while(|d| *d <= end)
        .map(|d| days.get(&d).and_then(|(v, _)| *v))
        .collect();
    Ok(DailyValues {
        start,
        values,
        duplicate_days: duplicate_days.into_iter().collect(),
    })
}

/// `YYYY-MM-DD`, with anything after the day (a time, a zone) ignored; `YYYY/MM/DD` too.
fn parse_date(s: &str) -> Option<NaiveDate> {
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
