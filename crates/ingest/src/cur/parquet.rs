//! CUR in Parquet (Athena naming), read through arrow with a column projection: a CUR has 100+
//! columns and the mapping needs about twenty, so decoding only those keeps reads fast.

use std::borrow::Cow;
use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Utc};
use costwatch_core::money::within_bounds;
use costwatch_core::{CostRecord, Money};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::column::page::PageReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::serialized_reader::SerializedPageReader;

use super::{CurLayout, Layout, RowAccess, SourceColumn};
use crate::error::IngestError;
use crate::mapping::{Daily, decimal_from_f64, midnight, parse_decimal, parse_timestamp};
use crate::text::file_label;

/// Reads every line item, rolled up to daily records; the first bad row fails the whole file.
pub fn read_parquet(path: &Path) -> Result<Vec<CostRecord>, IngestError> {
    read_into::<CurLayout>(path).map(Daily::into_records)
}

/// Feeds every line item to layout `L`; the first bad row fails the whole file.
pub(crate) fn read_into<L: Layout>(path: &Path) -> Result<L::Acc, IngestError> {
    let label = file_label(path);
    let parquet_err = |source| IngestError::Parquet {
        file: label.clone(),
        source,
    };
    let file = File::open(path).map_err(|e| IngestError::io(&label, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| IngestError::io(&label, e))?
        .len();
    let pages = file.try_clone().map_err(|e| IngestError::io(&label, e))?;
    let builder = decoding(|| ParquetRecordBatchReaderBuilder::try_new(file))
        .map_err(parquet_err)?
        .map_err(parquet_err)?;
    check_chunks(builder.metadata(), file_len).map_err(parquet_err)?;
    // Flat CUR schemas have one Parquet root per arrow field, so field index = root index.
    let (roots, columns): (Vec<usize>, Vec<SourceColumn>) = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (i, SourceColumn::from_header(f.name())))
        .filter(|(_, c)| L::wanted(&c.name))
        .unzip();
    let layout = L::resolve(&label, &columns)?;
    let schema = builder.parquet_schema();
    let leaves: Vec<usize> = (0..schema.num_columns())
        .filter(|leaf| roots.contains(&schema.get_column_root_idx(*leaf)))
        .collect();
    check_pages(&Arc::new(pages), builder.metadata(), &leaves).map_err(parquet_err)?;
    let mask = ProjectionMask::roots(schema, roots);
    let mut reader = decoding(|| builder.with_projection(mask).with_batch_size(8192).build())
        .map_err(parquet_err)?
        .map_err(parquet_err)?;

    let mut acc = L::Acc::default();
    let mut row_number = 0u64;
    while let Some(batch) = decoding(|| reader.next()).map_err(parquet_err)? {
        let batch: RecordBatch = batch.map_err(|source| IngestError::Arrow {
            file: label.clone(),
            source,
        })?;
        let views: Vec<Column<'_>> = batch.columns().iter().map(Column::new).collect();
        for i in 0..batch.num_rows() {
            row_number += 1;
            let row = ArrowRow { cols: &views, i };
            layout.add_line(&row, &mut acc, &label, row_number)?;
        }
    }
    Ok(acc)
}

/// Runs a step of the parquet crate's decoding (the footer, the pages of a batch). The crate
/// trusts what a file says and, on some damage, panics deep in its decoders instead of returning
/// an error (a dictionary index past the dictionary's end, a dictionary-encoded page without its
/// dictionary, a page of no values dividing by zero: parquet 60.1, found by tests/fuzz.rs): such
/// a panic is this file's error, never the end of an import, a batch or a Lambda invocation. Only
/// the decoder runs inside, so a panic of our own mapping still surfaces as one.
fn decoding<T>(step: impl FnOnce() -> T) -> Result<T, ParquetError> {
    std::panic::catch_unwind(AssertUnwindSafe(step)).map_err(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no reason given".into());
        ParquetError::General(format!(
            "the Parquet decoder failed ({reason}): the file is damaged"
        ))
    })
}

/// Refuses column chunks that lie outside the file. The parquet crate trusts the footer's offsets
/// and sizes and panics on a negative one (`ColumnChunkMetaData::byte_range`); a damaged or
/// truncated file must be an error naming it instead.
fn check_chunks(metadata: &ParquetMetaData, file_len: u64) -> Result<(), ParquetError> {
    for (g, group) in metadata.row_groups().iter().enumerate() {
        for chunk in group.columns() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or_else(|| chunk.data_page_offset());
            let len = chunk.compressed_size();
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(len).ok())
                .and_then(|(start, len)| start.checked_add(len))
                .is_some_and(|end| end <= file_len);
            if !inside {
                return Err(ParquetError::General(format!(
                    "row group {g} column `{}`: chunk at offset {start}, {len} bytes, lies \
                     outside the file ({file_len} bytes); the file is damaged or truncated",
                    chunk.column_path()
                )));
            }
        }
    }
    Ok(())
}

/// Refuses data pages that claim more values than their column chunk holds. The decoder sizes
/// its buffers from a page header's value count before it reads a value: a 4 KB file whose
/// page claimed 872 million doubles held 7 GB (tests/fuzz.rs). Only the headers of the columns
/// read (`leaves`) are read, not their pages.
fn check_pages(
    file: &Arc<File>,
    metadata: &ParquetMetaData,
    leaves: &[usize],
) -> Result<(), ParquetError> {
    for (g, group) in metadata.row_groups().iter().enumerate() {
        let rows = usize::try_from(group.num_rows()).unwrap_or(0);
        for &leaf in leaves {
            let chunk = group.column(leaf);
            let holds = usize::try_from(chunk.num_values()).unwrap_or(0);
            let damaged = |what: String| {
                ParquetError::General(format!(
                    "row group {g} column `{}`: {what}; the file is damaged",
                    chunk.column_path()
                ))
            };
            if chunk.column_descr().max_rep_level() == 0 && holds > rows {
                return Err(damaged(format!("{holds} values in a chunk of {rows} rows")));
            }
            let mut reader = SerializedPageReader::new(Arc::clone(file), chunk, rows, None)?;
            let mut seen = 0_usize;
            while let Some(page) = decoding(|| reader.peek_next_page())?? {
                if !page.is_dict {
                    seen = seen.saturating_add(page.num_levels.unwrap_or(0));
                    if seen > holds {
                        return Err(damaged(format!(
                            "its pages claim {seen} values or more, the chunk holds {holds}"
                        )));
                    }
                }
                decoding(|| reader.skip_next_page())??;
            }
        }
    }
    Ok(())
}

/// A column of one batch, downcast once per batch rather than once per cell.
enum Column<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Utf8View(&'a arrow_array::StringViewArray),
    F64(&'a arrow_array::Float64Array),
    F32(&'a arrow_array::Float32Array),
    I64(&'a arrow_array::Int64Array),
    I32(&'a arrow_array::Int32Array),
    Decimal(&'a arrow_array::Decimal128Array, i8),
    /// Epoch values in the given unit; the timezone does not change the instant.
    Timestamp(&'a ArrayRef, TimeUnit),
    Date32(&'a arrow_array::Date32Array),
    Unsupported(&'a ArrayRef),
}

impl<'a> Column<'a> {
    fn new(a: &'a ArrayRef) -> Self {
        match a.data_type() {
            DataType::Utf8 => Self::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Self::LargeUtf8(a.as_string::<i64>()),
            DataType::Utf8View => Self::Utf8View(a.as_string_view()),
            DataType::Float64 => Self::F64(a.as_primitive::<Float64Type>()),
            DataType::Float32 => Self::F32(a.as_primitive::<Float32Type>()),
            DataType::Int64 => Self::I64(a.as_primitive::<Int64Type>()),
            DataType::Int32 => Self::I32(a.as_primitive::<Int32Type>()),
            DataType::Decimal128(_, scale) => Self::Decimal(a.as_primitive(), *scale),
            DataType::Timestamp(unit, _) => Self::Timestamp(a, *unit),
            DataType::Date32 => Self::Date32(a.as_primitive::<Date32Type>()),
            _ => Self::Unsupported(a),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        let array: &dyn Array = match self {
            Self::Utf8(a) => *a,
            Self::LargeUtf8(a) => *a,
            Self::Utf8View(a) => *a,
            Self::F64(a) => *a,
            Self::F32(a) => *a,
            Self::I64(a) => *a,
            Self::I32(a) => *a,
            Self::Decimal(a, _) => *a,
            Self::Timestamp(a, _) | Self::Unsupported(a) => a.as_ref(),
            Self::Date32(a) => *a,
        };
        array.is_null(i)
    }

    fn unsupported(&self) -> String {
        match self {
            Self::Unsupported(a) => format!("unsupported column type {}", a.data_type()),
            Self::Timestamp(..) | Self::Date32(_) => {
                "expected text or a number, found a date".into()
            }
            _ => "expected a date or timestamp".into(),
        }
    }
}

struct ArrowRow<'r, 'a> {
    cols: &'r [Column<'a>],
    i: usize,
}

impl ArrowRow<'_, '_> {
    fn col(&self, c: usize) -> Option<&Column<'_>> {
        self.cols.get(c).filter(|col| !col.is_null(self.i))
    }
}

impl RowAccess for ArrowRow<'_, '_> {
    fn text(&self, c: usize) -> Result<Option<Cow<'_, str>>, String> {
        let i = self.i;
        let Some(col) = self.col(c) else {
            return Ok(None);
        };
        let s: Cow<'_, str> = match col {
            Column::Utf8(a) => Cow::Borrowed(a.value(i)),
            Column::LargeUtf8(a) => Cow::Borrowed(a.value(i)),
            Column::Utf8View(a) => Cow::Borrowed(a.value(i)),
            // Account ids are sometimes typed as integers; 12 digits fit comfortably.
            Column::I64(a) => Cow::Owned(format!("{:012}", a.value(i))),
            Column::I32(a) => Cow::Owned(format!("{:012}", a.value(i))),
            other => return Err(other.unsupported()),
        };
        // CUR writes empty strings where a value does not apply: treat them as null.
        Ok((!s.trim().is_empty()).then_some(s))
    }

    fn decimal(&self, c: usize) -> Result<Option<Money>, String> {
        let i = self.i;
        let Some(col) = self.col(c) else {
            return Ok(None);
        };
        let text = |s: &str| (!s.trim().is_empty()).then(|| parse_decimal(s)).transpose();
        match col {
            Column::F64(a) => decimal_from_f64(a.value(i)).map(Some),
            Column::F32(a) => decimal_from_f64(f64::from(a.value(i))).map(Some),
            Column::I64(a) => within_bounds(Money::from(a.value(i))).map(Some),
            Column::I32(a) => within_bounds(Money::from(a.value(i))).map(Some),
            Column::Decimal(a, scale) => decimal128(a.value(i), *scale)
                .and_then(within_bounds)
                .map(Some),
            Column::Utf8(a) => text(a.value(i)),
            Column::LargeUtf8(a) => text(a.value(i)),
            Column::Utf8View(a) => text(a.value(i)),
            other => Err(other.unsupported()),
        }
    }

    fn timestamp(&self, c: usize) -> Result<Option<DateTime<Utc>>, String> {
        let i = self.i;
        let Some(col) = self.col(c) else {
            return Ok(None);
        };
        let text = |s: &str| {
            (!s.trim().is_empty())
                .then(|| parse_timestamp(s))
                .transpose()
        };
        match col {
            Column::Timestamp(a, unit) => {
                let out_of_range = || "timestamp out of range".to_string();
                let dt = match unit {
                    TimeUnit::Second => DateTime::from_timestamp(
                        a.as_primitive::<TimestampSecondType>().value(i),
                        0,
                    ),
                    TimeUnit::Millisecond => DateTime::from_timestamp_millis(
                        a.as_primitive::<TimestampMillisecondType>().value(i),
                    ),
                    TimeUnit::Microsecond => DateTime::from_timestamp_micros(
                        a.as_primitive::<TimestampMicrosecondType>().value(i),
                    ),
                    TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(
                        a.as_primitive::<TimestampNanosecondType>().value(i),
                    )),
                };
                dt.map(Some).ok_or_else(out_of_range)
            }
            Column::Date32(a) => a
                .value_as_date(i)
                .map(|d| Some(midnight(d)))
                .ok_or_else(|| "date out of range".to_string()),
            Column::Utf8(a) => text(a.value(i)),
            Column::LargeUtf8(a) => text(a.value(i)),
            Column::Utf8View(a) => text(a.value(i)),
            other => Err(other.unsupported()),
        }
    }
}

/// An arrow decimal (unscaled integer + scale) as a rust_decimal, exactly or not at all.
fn decimal128(unscaled: i128, scale: i8) -> Result<Money, String> {
    let out_of_range = || format!("decimal out of range ({unscaled} scale {scale})");
    if scale >= 0 {
        Money::try_from_i128_with_scale(unscaled, scale.unsigned_abs().into())
            .map_err(|_| out_of_range())
    } else {
        let factor = 10i128
            .checked_pow(scale.unsigned_abs().into())
            .and_then(|f| unscaled.checked_mul(f))
            .ok_or_else(out_of_range)?;
        Money::try_from_i128_with_scale(factor, 0).map_err(|_| out_of_range())
    }
}
