//! Classic CUR in delimited text: gzipped or not, any delimiter, Athena or classic headers.

use std::borrow::Cow;
use std::path::Path;

use ::csv::StringRecord;
use chrono::{DateTime, Utc};
use costwatch_core::{CostRecord, Money};

use super::{CurLayout, Layout, RowAccess, SourceColumn};
use crate::error::IngestError;
use crate::mapping::{Daily, non_null, parse_decimal, parse_timestamp};
use crate::text;

pub(crate) struct CsvRow<'a>(pub &'a StringRecord);

impl CsvRow<'_> {
    fn cell(&self, col: usize) -> Option<&str> {
        self.0.get(col).and_then(non_null)
    }
}

impl RowAccess for CsvRow<'_> {
    fn text(&self, col: usize) -> Result<Option<Cow<'_, str>>, String> {
        Ok(self.cell(col).map(Cow::Borrowed))
    }
    fn decimal(&self, col: usize) -> Result<Option<Money>, String> {
        self.cell(col).map(parse_decimal).transpose()
    }
    fn timestamp(&self, col: usize) -> Result<Option<DateTime<Utc>>, String> {
        self.cell(col).map(parse_timestamp).transpose()
    }
}

/// Reads every line item, rolled up to daily records; the first bad row fails the whole file.
pub fn read_csv(path: &Path) -> Result<Vec<CostRecord>, IngestError> {
    read_into::<CurLayout>(path).map(Daily::into_records)
}

/// Feeds every line item to layout `L`; the first bad row fails the whole file.
pub(crate) fn read_into<L: Layout>(path: &Path) -> Result<L::Acc, IngestError> {
    let label = text::file_label(path);
    let mut reader = text::csv_reader(path)?;
    let columns: Vec<SourceColumn> = text::headers(&mut reader, &label)?
        .iter()
        .map(|h| SourceColumn::from_header(h))
        .collect();
    let layout = L::resolve(&label, &columns)?;
    let mut acc = L::Acc::default();
    let mut record = StringRecord::new();
    let mut row_number = 0u64;
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|source| IngestError::Csv {
                file: label.clone(),
                source,
            })?;
        if !more {
            break;
        }
        row_number += 1;
        layout.add_line(&CsvRow(&record), &mut acc, &label, row_number)?;
    }
    Ok(acc)
}
