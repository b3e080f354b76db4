//! Fuzz targets for every reader of cost and metric files (issue 17): Cost Explorer JSON and its
//! console's CSV download, CUR CSV and Parquet, FOCUS CSV, metric streams and the daily series `costwatch forecast` reads.
//! Each gets arbitrary bytes and mutations of a valid sample; it must answer with records or an
//! `IngestError` naming the file, never panic, and never hold more heap than
//! `costwatch_testkit::fuzz::memory_bound` allows for the file's size. `PROPTEST_CASES` sets the
//! number of cases (`make fuzz`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use costwatch_ingest::daily::{Columns, Duplicates, read_daily_columns};
use costwatch_ingest::{IngestError, ce_csv, ce_json, cur, focus, metric_csv, read_path};
use costwatch_testkit::fuzz::{self, Input};
use flate2::Compression;
use flate2::write::GzEncoder;
use parquet::arrow::ArrowWriter;
use proptest::prelude::*;

costwatch_testkit::counting_allocator!();

const CE_SAMPLES: [&str; 3] = [
    include_str!("fixtures/ce_linked_account_service.json"),
    include_str!("fixtures/ce_service_record_type_pages.json"),
    include_str!("fixtures/ce_cost_category_region.json"),
];
const CE_CSV: &str = include_str!("fixtures/ce_console_service_daily.csv");
const CUR_CSV: &str = include_str!("fixtures/classic_cur.csv");
const FOCUS_CSV: &str = include_str!("fixtures/focus_1_2.csv");
const METRIC_CSV: &str = "timestamp,value\n2014-02-14 14:27:00,1.5\n2014-02-14 14:32:00,\n\
                          2014-02-14T14:37:00Z,nan\n1392388020000,2\n";
/// Named columns, and columns found by content (`usage_date`, `cost`).
const DAILY_CSV: [&str; 2] = [
    "ds,y\n2024-01-01,1.5\n2024-01-02,NA\n2024-01-02,2\n2024-01-05 00:00:00,3e2\n",
    "usage_date;service;cost\n2024/01/01;EC2;12.5\n2024/01/03;EC2;\n2024/01/02;S3;4\n",
];

/// `bytes` as a file named `name` in a fresh directory (kept alive by the returned guard).
fn file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// A reader's answer is records or an error that names the file, within the memory bound.
fn read_bounded<T>(
    path: &Path,
    read: impl FnOnce(&Path) -> Result<T, IngestError>,
) -> Result<Option<T>, TestCaseError> {
    let len = std::fs::metadata(path).unwrap().len() as usize;
    match fuzz::bounded(len, || read(path))? {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            prop_assert_eq!(e.file(), path.display().to_string());
            prop_assert!(!e.to_string().is_empty());
            Ok(None)
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = GzEncoder::new(Vec::new(), Compression::fast());
    out.write_all(bytes).unwrap();
    out.finish().unwrap()
}

/// CSV text as it arrives: plain, gzipped (the readers detect gzip by its magic bytes), or
/// gzipped and then damaged.
fn csv_input(sample: &'static str) -> impl Strategy<Value = Input> {
    prop_oneof![
        6 => fuzz::input(sample.as_bytes()),
        1 => fuzz::mutated(sample.as_bytes()).prop_map(|b| Input(gzip(&b))),
        1 => fuzz::mutated(&gzip(sample.as_bytes())),
    ]
}

/// A CUR Parquet file whose columns have any of the types exports use (text, integers, doubles,
/// decimals of any scale, timestamps, dates) and values at their edges.
fn parquet_file() -> impl Strategy<Value = Input> {
    let text = prop_oneof![
        Just("2019-11-01T00:00:00Z".to_string()),
        Just("Usage".to_string()),
        Just("RIFee".to_string()),
        Just("USD".to_string()),
        Just("111122223333".to_string()),
        Just(String::new()),
        proptest::sample::select(fuzz::TOKENS).prop_map(str::to_owned),
        any::<String>(),
    ];
    let column = prop_oneof![
        proptest::collection::vec(text, 3).prop_map(|v| Arc::new(StringArray::from(v)) as ArrayRef),
        proptest::collection::vec(any::<i64>(), 3)
            .prop_map(|v| Arc::new(Int64Array::from(v)) as ArrayRef),
        proptest::collection::vec(any::<f64>(), 3)
            .prop_map(|v| Arc::new(Float64Array::from(v)) as ArrayRef),
        (proptest::collection::vec(any::<i128>(), 3), 0i8..=38).prop_map(|(v, scale)| {
            let v = v
                .into_iter()
                .map(|x| x % 10i128.pow(38))
                .collect::<Vec<_>>();
            Arc::new(
                Decimal128Array::from(v)
                    .with_precision_and_scale(38, scale)
                    .unwrap(),
            ) as ArrayRef
        }),
        proptest::collection::vec(any::<i64>(), 3)
            .prop_map(|v| Arc::new(TimestampMicrosecondArray::from(v)) as ArrayRef),
        proptest::collection::vec(any::<i32>(), 3)
            .prop_map(|v| Arc::new(Date32Array::from(v)) as ArrayRef),
    ];
    const NAMES: [&str; 10] = [
        "line_item_usage_start_date",
        "bill_payer_account_id",
        "line_item_usage_account_id",
        "line_item_product_code",
        "line_item_line_item_type",
        "line_item_unblended_cost",
        "line_item_currency_code",
        "line_item_usage_amount",
        "reservation_unused_recurring_fee",
        "resource_tags_user_team",
    ];
    proptest::collection::vec(column, NAMES.len()).prop_map(|columns| {
        let batch = RecordBatch::try_from_iter(NAMES.iter().zip(columns)).unwrap();
        let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        Input(writer.into_inner().unwrap())
    })
}

proptest! {
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn fuzz_ce_json(text in prop_oneof![
        fuzz::json_input(&serde_json::from_str(CE_SAMPLES[0]).unwrap()),
        fuzz::json_input(&serde_json::from_str(CE_SAMPLES[1]).unwrap()),
        fuzz::json_input(&serde_json::from_str(CE_SAMPLES[2]).unwrap()),
    ]) {
        let parsed = fuzz::bounded(text.len(), || ce_json::parse(text.as_bytes(), "ce.json", "111122223333"))?;
        if let Err(e) = parsed {
            prop_assert_eq!(e.file(), "ce.json");
        }
    }

    #[test]
    fn fuzz_ce_csv(bytes in csv_input(CE_CSV)) {
        let (_dir, path) = file("ce.csv", &bytes);
        read_bounded(&path, ce_csv::read)?;
    }

    #[test]
    fn fuzz_cur_csv(bytes in csv_input(CUR_CSV)) {
        let (_dir, path) = file("cur.csv", &bytes);
        read_bounded(&path, cur::read_csv)?;
        read_bounded(&path, cur::read_usage_csv)?;
    }

    #[test]
    fn fuzz_cur_parquet(bytes in prop_oneof![
        parquet_file(),
        parquet_file().prop_flat_map(|valid| fuzz::mutated(&valid)),
    ]) {
        let (_dir, path) = file("cur.parquet", &bytes);
        read_bounded(&path, cur::read_parquet)?;
        read_bounded(&path, cur::read_usage_parquet)?;
    }

    #[test]
    fn fuzz_focus_csv(bytes in csv_input(FOCUS_CSV)) {
        let (_dir, path) = file("focus.csv", &bytes);
        read_bounded(&path, focus::read)?;
    }

    #[test]
    fn fuzz_metric_csv(bytes in fuzz::input(METRIC_CSV.as_bytes())) {
        let (_dir, path) = file("metric.csv", &bytes);
        if let Some(rows) = read_bounded(&path, metric_csv::read)? {
            // One row per data line, each value finite or missing.
            prop_assert!(rows.iter().all(|r| r.value.is_none_or(f64::is_finite)));
        }
    }

    #[test]
    fn fuzz_forecast_csv(bytes in prop_oneof![csv_input(DAILY_CSV[0]), csv_input(DAILY_CSV[1])]) {
        let (_dir, path) = file("series.csv", &bytes);
        let read = |p: &Path| read_daily_columns(p, Duplicates::Sum, &Columns::default());
        if let Some(series) = read_bounded(&path, read)? {
            prop_assert!(!series.values.is_empty());
        }
    }

    /// Format detection on anything, then whichever reader it picks.
    #[test]
    fn fuzz_detect(bytes in prop_oneof![
        fuzz::input(CE_SAMPLES[0].as_bytes()),
        fuzz::input(CUR_CSV.as_bytes()),
        fuzz::input(FOCUS_CSV.as_bytes()),
        fuzz::input(CE_CSV.as_bytes()),
        fuzz::input(b"PAR1"),
    ]) {
        let (_dir, path) = file("export", &bytes);
        read_bounded(&path, read_path)?;
    }
}

// Regression tests: each finding of the targets above, as its minimal input.

/// Two rows a few thousand years apart made the series reader lay out every day between them:
/// 740,000 slots, 25 MB at peak, for a 30-byte file. Such a span is refused, naming its ends.
#[test]
fn forecast_csv_spanning_millennia_is_refused_not_laid_out() {
    let text = b"ds,y\n0000-01-01,1\n2024-01-01,1\n";
    let (_dir, path) = file("series.csv", text);
    let (read, peak) =
        fuzz::peak_allocation(|| read_daily_columns(&path, Duplicates::Sum, &Columns::default()));
    let err = read.unwrap_err().to_string();
    assert!(
        err.contains("row 2") && err.contains("0000-01-01") && err.contains("mistyped"),
        "{err}"
    );
    assert!(peak <= fuzz::memory_bound(text.len()), "{peak} bytes");
    // A hundred years of days is still a series.
    let (_dir, path) = file("series.csv", b"ds,y\n1925-01-01,1\n2024-12-31,1\n");
    let series = read_daily_columns(&path, Duplicates::Sum, &Columns::default()).unwrap();
    assert_eq!(series.values.len(), 36_525);
}

/// The smallest epoch number overflowed the check for milliseconds (`i64::MIN.abs()`), a panic
/// in a debug build. Read as milliseconds, like every number of its size.
#[test]
fn metric_csv_epoch_of_i64_min_is_milliseconds() {
    assert_eq!(
        metric_csv::parse_time("-9223372036854775808"),
        Some(i64::MIN / 1000)
    );
    let (_dir, path) = file("metric.csv", b"timestamp,value\n-9223372036854775808,2\n");
    let rows = metric_csv::read(&path).unwrap();
    assert_eq!(rows[0].time, Some(i64::MIN / 1000));
}

/// A footer with a negative column chunk offset: the parquet crate asserted on it
/// (`ColumnChunkMetaData::byte_range`) and panicked. Refused before reading, naming the chunk.
/// The fixture is a valid file (three CUR lines) with that one footer byte changed.
#[test]
fn parquet_chunk_outside_the_file_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/negative_chunk_offset.parquet");
    let err = cur::read_parquet(&path).unwrap_err();
    assert!(matches!(err, IngestError::Parquet { .. }), "{err}");
    assert!(err.to_string().contains("outside the file"), "{err}");
}

/// Damaged data pages panicked deep in the parquet crate's decoders: a text page claiming no
/// values (a division by zero), a decimal column's dictionary-encoded page without its
/// dictionary, a dictionary index past the dictionary's end. Each is that file's typed error
/// now. The fixtures are the same valid file with one byte changed each.
#[test]
fn parquet_decoder_panics_are_errors_naming_the_file() {
    for name in [
        "text_page_of_no_values",
        "decimal_dictionary_page_missing",
        "decimal_dictionary_index_past_end",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/fuzz/{name}.parquet"));
        let err = cur::read_parquet(&path).unwrap_err();
        assert_eq!(err.file(), path.display().to_string());
        assert!(err.to_string().contains("damaged"), "{name}: {err}");
    }
}

/// A data page whose header claims about 900 million values in a file of 3,913 bytes (a
/// mutated three-line CUR, found by `fuzz_cur_parquet`): the decoder sized its buffers from the
/// claim and held 7 GB. Refused within the fuzz targets' memory bound by both CUR readers,
/// naming the file.
#[test]
fn parquet_page_claiming_more_values_than_it_can_hold_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/page_of_a_billion_values.parquet");
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    let refused = |err: IngestError| {
        assert_eq!(err.file(), path.display().to_string());
    };
    let within = "within the memory bound";
    refused(
        fuzz::bounded(len, || cur::read_parquet(&path))
            .expect(within)
            .unwrap_err(),
    );
    refused(
        fuzz::bounded(len, || cur::read_usage_parquet(&path))
            .expect(within)
            .unwrap_err(),
    );
}
