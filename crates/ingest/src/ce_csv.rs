//! Cost Explorer's own CSV download: what the console's "Download CSV" writes for a report with
//! daily granularity, for a team that can read the console but has no API access to give.
//!
//! The layout: a first column named after the report's grouping (`Service`, `Linked account`,
//! `Region`, `Usage type`, `Charge type` …) holding the dates, one column per group value with
//! the currency after it (`EC2-Instances($)`), a `Total costs($)` column, and a first row of the
//! file's own totals (`Service total`), skipped like every row whose date cell ends in "total".
//! Empty cells are no cost.
//!
//! * Each group value becomes that dimension of its records: the console's service labels
//!   (`EC2-Instances`, `S3`) as they are, a linked account's id from `name (123456789012)` or a
//!   bare id, a charge type as Cost Explorer's RECORD_TYPE. A grouping without a record column
//!   (instance type, API operation, tags …) keeps the day's total only, under
//!   [`ALL_SERVICES`](crate::ce_json::ALL_SERVICES), as an ungrouped report would.
//! * Monthly granularity is refused (a month's cost on its first day would read as a spike
//!   there and nothing after), with what to download instead, when the file has two months or
//!   more (one month's row cannot be told from one day's); hourly rows sum into their day.
//! * The file names no payer account: records carry [`UNKNOWN_ACCOUNT`](crate::UNKNOWN_ACCOUNT),
//!   as Cost Explorer JSON does.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Days, NaiveDate};
use costwatch_core::{CostRecord, Money};

use crate::ce_json::{apply_dimension, ungrouped};
use crate::daily::{is_totals_label, parse_date};
use crate::error::{IngestError, Location};
use crate::mapping::{Amounts, Daily, Dims, parse_decimal};
use crate::text::{csv_reader, file_label, headers};

/// The column of each day's total.
const TOTAL_COLUMN: &str = "total costs";
/// The console's currency suffix: Cost Explorer reports in US dollars.
const DOLLARS: &str = "($)";

/// Whether a header is Cost Explorer's download: a `Total costs($)` column, every column after
/// the first marked with the currency.
pub fn is_ce_csv_header(names: &[&str]) -> bool {
    let marked = |n: &&str| n.trim().ends_with(DOLLARS);
    names.len() >= 2
        && names[1..].iter().all(marked)
        && names
            .iter()
            .any(|n| label(n).eq_ignore_ascii_case(TOTAL_COLUMN))
}

/// A column's name without its currency suffix.
fn label(name: &str) -> &str {
    let name = name.trim();
    name.strip_suffix(DOLLARS).unwrap_or(name).trim()
}

/// The dimension the first column names, as Cost Explorer's `GroupBy` key; `None` for a
/// grouping without a record column.
fn grouping(first: &str) -> Option<&'static str> {
    let name = first.trim().to_ascii_lowercase();
    Some(match name.as_str() {
        "service" => "SERVICE",
        "linked account" | "account" | "member account" => "LINKED_ACCOUNT",
        "region" => "REGION",
        "usage type" => "USAGE_TYPE",
        "charge type" | "record type" => "RECORD_TYPE",
        _ => return None,
    })
}

/// Reads the file into one record per day and group value.
pub fn read(path: &Path) -> Result<Vec<CostRecord>, IngestError> {
    let source = file_label(path);
    let mut reader = csv_reader(path)?;
    let names = headers(&mut reader, &source)?;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if !is_ce_csv_header(&name_refs) {
        return Err(IngestError::UnknownFormat {
            file: source,
            reason: "not Cost Explorer's CSV download (a `Total costs($)` column and every \
                     column after the first ending in `($)`)"
                .into(),
        });
    }
    let total = names
        .iter()
        .position(|n| label(n).eq_ignore_ascii_case(TOTAL_COLUMN))
        .unwrap_or(names.len() - 1);
    let dimension = grouping(&names[0]);
    // The columns read: every group value's, or the total alone for a grouping with no record
    // column (or a report without one).
    let columns: Vec<usize> = match dimension {
        Some(_) => (1..names.len()).filter(|c| *c != total).collect(),
        None => vec![total],
    };
    let mut daily = Daily::default();
    let mut days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 1;
        let record = record.map_err(|source| IngestError::Csv {
            file: file_label(path),
            source,
        })?;
        let cell = |c: usize| record.get(c).unwrap_or("").trim();
        let bad = |c: usize, problem: String| {
            IngestError::value(&source, Location::Row(row), &names[c], problem)
        };
        if is_totals_label(cell(0)) {
            continue;
        }
        let day = parse_date(cell(0))
            .ok_or_else(|| bad(0, format!("`{}` is not a date (YYYY-MM-DD)", cell(0))))?;
        days.entry(day).or_insert(row);
        for &c in &columns {
            let Some(cost) = amount(cell(c)).map_err(|e| bad(c, e))? else {
                continue;
            };
            let mut dims = base(day);
            if let Some(key) = dimension {
                apply_dimension(&mut dims, key, label(&names[c]), &Default::default())
                    .map_err(|e| bad(c, e))?;
                if key == "LINKED_ACCOUNT" {
                    account(&mut dims, label(&names[c]));
                }
            }
            let amounts = Amounts {
                billed: cost,
                effective: cost,
                list: None,
            };
            daily.add(dims, amounts).map_err(|e| bad(c, e))?;
        }
    }
    refuse_monthly(&days, &source, &names[0])?;
    Ok(daily.into_records())
}

/// A day's record before its group value is applied, in the console's dollars.
fn base(day: NaiveDate) -> Dims {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Dims {
        billing_currency: "USD".to_owned(),
        ..ungrouped(start, start + Days::new(1), crate::UNKNOWN_ACCOUNT)
    }
}

/// A linked account's label: `name (123456789012)` or a bare id; a name alone stands for its id.
fn account(dims: &mut Dims, label: &str) {
    let id_in_parens = label
        .strip_suffix(')')
        .and_then(|l| l.rsplit_once('('))
        .filter(|(_, id)| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()));
    match id_in_parens {
        Some((name, id)) => {
            dims.sub_account_id = id.to_owned();
            dims.sub_account_name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
        }
        None => {
            dims.sub_account_id = label.to_owned();
            dims.sub_account_name = None;
        }
    }
}

/// A cost cell: empty for none; digits with an optional sign, point and thousands commas.
fn amount(cell: &str) -> Result<Option<Money>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    let plain: String = cell.chars().filter(|c| *c != ',').collect();
    let cost = parse_decimal(&plain)?;
    Ok((!cost.is_zero()).then_some(cost))
}

/// Rows a month apart on the first of each month are a monthly report.
fn refuse_monthly(
    days: &BTreeMap<NaiveDate, u64>,
    source: &str,
    first: &str,
) -> Result<(), IngestError> {
    use chrono::Datelike;
    let dates: Vec<&NaiveDate> = days.keys().collect();
    let monthly = dates.len() >= 2
        && dates.iter().all(|d| d.day() == 1)
        && dates.windows(2).all(|w| (*w[1] - *w[0]).num_days() >= 28);
    if !monthly {
        return Ok(());
    }
    let row = days.values().min().copied().unwrap_or(1);
    Err(IngestError::value(
        source,
        Location::Row(row),
        first,
        "the rows are months (each on its first day): download the report with daily \
         granularity, so each day's cost is its own"
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_told_by_its_currency_and_total_column() {
        assert!(is_ce_csv_header(&[
            "Service",
            "EC2-Instances($)",
            "Total costs($)"
        ]));
        assert!(is_ce_csv_header(&["\"Region\"", "Total costs($)"]));
        assert!(!is_ce_csv_header(&["date", "cost"]));
        assert!(!is_ce_csv_header(&[
            "Service",
            "EC2-Instances",
            "Total costs($)"
        ]));
        assert!(!is_ce_csv_header(&["Service", "EC2-Instances($)"]));
    }

    #[test]
    fn account_labels_give_id_and_name() {
        let mut dims = base(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        account(&mut dims, "web-prod (111122223333)");
        assert_eq!(
            (
                dims.sub_account_id.as_str(),
                dims.sub_account_name.as_deref()
            ),
            ("111122223333", Some("web-prod"))
        );
        account(&mut dims, "444455556666");
        assert_eq!(
            (dims.sub_account_id.as_str(), dims.sub_account_name),
            ("444455556666", None)
        );
    }

    #[test]
    fn amounts_take_thousands_commas_and_empty_cells_are_none() {
        assert_eq!(amount(""), Ok(None));
        assert_eq!(amount("0.00"), Ok(None));
        assert_eq!(amount("1,234.50"), Ok(Some(Money::new(123_450, 2))));
        assert!(amount("twelve").is_err());
    }
}
