//! CUR Parquet: the real workshop months, checked against sums this test computes itself from
//! the raw columns with the parquet crate's row API (not through the reader under test).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
use chrono::{DateTime, NaiveDate};
use costwatch_core::shared::shared_path;
use costwatch_core::{ChargeCategory, ChargeFrequency, CostRecord};
use costwatch_ingest::{Format, IngestError, cur, detect, read_path};
use parquet::arrow::ArrowWriter;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::Type;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal_macros::dec;

const COLUMNS: [&str; 9] = [
    "line_item_usage_start_date",
    "line_item_usage_account_id",
    "line_item_product_code",
    "product_product_name",
    "line_item_line_item_type",
    "line_item_unblended_cost",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
];

/// One raw line item, read with the parquet record API.
struct RawLine {
    day: NaiveDate,
    account: String,
    service: String,
    line_type: String,
    unblended: f64,
    ri_effective: f64,
    ri_unused: f64,
}

fn raw_lines(path: &Path) -> Vec<RawLine> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let root = reader.metadata().file_metadata().schema();
    let fields = root
        .get_fields()
        .iter()
        .filter(|f| COLUMNS.contains(&f.name()))
        .cloned()
        .collect();
    let projection = Type::group_type_builder(root.name())
        .with_fields(fields)
        .build()
        .unwrap();
    let mut lines = Vec::new();
    for row in reader.get_row_iter(Some(projection)).unwrap() {
        let row = row.unwrap();
        let mut cells: HashMap<&str, &Field> = HashMap::new();
        for (name, field) in row.get_column_iter() {
            cells.insert(name.as_str(), field);
        }
        let text = |c: &str| match cells[c] {
            Field::Str(s) => s.clone(),
            Field::Null => String::new(),
            other => panic!("{c}: {other:?}"),
        };
        let num = |c: &str| match cells[c] {
            Field::Double(v) => *v,
            Field::Null => 0.0,
            other => panic!("{c}: {other:?}"),
        };
        let day = match cells["line_item_usage_start_date"] {
            Field::TimestampMillis(ms) => {
                DateTime::from_timestamp_millis(*ms).unwrap().date_naive()
            }
            other => panic!("start: {other:?}"),
        };
        let name = text("product_product_name");
        lines.push(RawLine {
            day,
            account: text("line_item_usage_account_id"),
            service: if name.is_empty() {
                text("line_item_product_code")
            } else {
                name
            },
            line_type: text("line_item_line_item_type"),
            unblended: num("line_item_unblended_cost"),
            ri_effective: num("reservation_effective_cost"),
            ri_unused: num("reservation_unused_amortized_upfront_fee_for_billing_period")
                + num("reservation_unused_recurring_fee"),
        });
    }
    lines
}

fn month(name: &str) -> PathBuf {
    shared_path(&format!(
        "data/cost/cur/{name}2018-WorkshopCUR-00001.snappy.parquet"
    ))
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap()
}

/// Daily totals per (day, account, service) equal the raw column sums, for both months.
#[test]
fn daily_totals_match_raw_unblended_cost() {
    for name in ["Oct", "Nov"] {
        let path = month(name);
        assert_eq!(detect(&path).unwrap(), Format::CurParquet);
        let records = read_path(&path).unwrap();
        let raw = raw_lines(&path);
        assert!(raw.len() > 110_000, "{name}: {} lines", raw.len());
        assert!(
            records.len() < raw.len() / 4,
            "{name}: hourly lines are collapsed to days"
        );

        let mut want: BTreeMap<(NaiveDate, String, String), f64> = BTreeMap::new();
        for l in &raw {
            *want
                .entry((l.day, l.account.clone(), l.service.clone()))
                .or_default() += l.unblended;
        }
        let mut got: BTreeMap<(NaiveDate, String, String), Decimal> = BTreeMap::new();
        for r in &records {
            *got.entry((r.day(), r.sub_account_id.clone(), r.service_name.clone()))
                .or_default() += r.billed_cost;
        }
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (key, w) in &want {
            let g = to_f64(got[key]);
            assert!(
                (g - w).abs() <= 1e-9,
                "{name} {key:?}: reader {g} vs raw {w}"
            );
        }
        let days: std::collections::BTreeSet<_> = records.iter().map(CostRecord::day).collect();
        assert_eq!(days.len(), if name == "Oct" { 31 } else { 30 });
        for r in &records {
            assert_eq!(r.billing_account_id, "836060457634");
            assert_eq!(r.billing_currency, "USD");
            assert_eq!(
                (r.charge_period_end - r.charge_period_start).num_hours(),
                24
            );
            assert_eq!(r.charge_period_start.time(), chrono::NaiveTime::MIN);
        }
    }
}

/// RIFee lines (the fees on the 1st) are Purchase/Recurring; reserved usage stays Usage; the
/// effective cost follows AWS amortisation.
#[test]
fn line_item_types_fees_and_amortisation() {
    let path = month("Oct");
    let records = cur::read_parquet(&path).unwrap();
    let raw = raw_lines(&path);

    let mut fee_by_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for l in raw.iter().filter(|l| l.line_type == "RIFee") {
        *fee_by_day.entry(l.day).or_default() += l.unblended;
    }
    let mut purchase_by_day: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.charge_category == ChargeCategory::Purchase)
    {
        assert_eq!(r.charge_frequency, Some(ChargeFrequency::Recurring));
        *purchase_by_day.entry(r.day()).or_default() += r.billed_cost;
    }
    let first = NaiveDate::from_ymd_opt(2018, 10, 1).unwrap();
    assert!(
        fee_by_day[&first] > 100.0,
        "the month's RI fees are booked on the 1st"
    );
    assert_eq!(
        purchase_by_day.keys().collect::<Vec<_>>(),
        fee_by_day.keys().collect::<Vec<_>>()
    );
    for (day, w) in &fee_by_day {
        assert!((to_f64(purchase_by_day[day]) - w).abs() <= 1e-9, "{day}");
    }
    assert!(
        records
            .iter()
            .all(|r| r.charge_category == ChargeCategory::Purchase
                || (r.charge_category == ChargeCategory::Usage
                    && r.charge_frequency == Some(ChargeFrequency::UsageBased)))
    );

    // Amortised: Usage at unblended, DiscountedUsage at the reservation's effective cost, RIFee
    // at its unused upfront + unused recurring part.
    let want_effective: f64 = raw
        .iter()
        .map(|l| match l.line_type.as_str() {
            "DiscountedUsage" => l.ri_effective,
            "RIFee" => l.ri_unused,
            _ => l.unblended,
        })
        .sum();
    let got_effective: Decimal = records.iter().map(|r| r.effective_cost).sum();
    assert!((to_f64(got_effective) - want_effective).abs() <= 1e-8);
    let list: Decimal = records.iter().filter_map(|r| r.list_cost).sum();
    assert!(list > Decimal::ZERO);
    assert!(
        records
            .iter()
            .any(|r| r.tags.get("environment").map(String::as_str) == Some("Production"))
    );
    assert!(
        records
            .iter()
            .all(|r| !r.tags.values().any(String::is_empty))
    );
    assert!(
        records
            .iter()
            .any(|r| r.x_usage_type.is_some() && r.resource_id.is_some())
    );
}

/// A small CUR written by the test: strings for dates, and a decimal or string cost column.
fn write_parquet(dir: &Path, file: &str, cost: ArrayRef, drop: Option<&str>) -> PathBuf {
    let n = cost.len();
    let col = |v: &str| Arc::new(StringArray::from(vec![v; n])) as ArrayRef;
    let starts: Vec<String> = (0..n)
        .map(|h| format!("2024-05-0{} {:02}:00:00", 1 + h / 24, h % 24))
        .collect();
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        (
            "line_item_usage_start_date",
            Arc::new(StringArray::from(starts)),
        ),
        ("bill_payer_account_id", col("111122223333")),
        ("line_item_usage_account_id", col("444455556666")),
        ("line_item_product_code", col("AmazonEC2")),
        ("product_product_name", col("")),
        ("line_item_line_item_type", col("Usage")),
        ("line_item_unblended_cost", cost),
        ("line_item_currency_code", col("USD")),
        ("resource_tags_user_team", col("web")),
    ];
    columns.retain(|(name, _)| Some(*name) != drop);
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let path = dir.join(file);
    let mut writer =
        ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

#[test]
fn string_dates_and_decimal_costs_are_read_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // 30 hourly lines of 0.000123 (decimal(18,6)): day 1 has 24, day 2 has 6.
    let cost = Decimal128Array::from(vec![123i128; 30])
        .with_precision_and_scale(18, 6)
        .unwrap();
    let path = write_parquet(dir.path(), "typed.parquet", Arc::new(cost), None);
    let records = read_path(&path).unwrap();
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.day().to_string(), r.billed_cost))
        .collect();
    assert_eq!(
        got,
        [
            ("2024-05-01".into(), dec!(0.002952)),
            ("2024-05-02".into(), dec!(0.000738))
        ]
    );
    assert_eq!(
        records[0].service_name, "AmazonEC2",
        "empty product name falls back to the code"
    );
    assert_eq!(records[0].tags.get("team").map(String::as_str), Some("web"));
    assert_eq!(records[0].list_cost, None);
}

#[test]
fn bad_cost_names_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut costs = vec!["0.5"; 20];
    costs[16] = "abc";
    let path = write_parquet(
        dir.path(),
        "bad.parquet",
        Arc::new(StringArray::from(costs)),
        None,
    );
    let err = read_path(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} row 17 column line_item_unblended_cost: invalid decimal `abc`",
            path.display()
        )
    );
}

#[test]
fn missing_required_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cost = Arc::new(StringArray::from(vec!["1"; 3])) as ArrayRef;
    let path = write_parquet(
        dir.path(),
        "nocurrency.parquet",
        cost,
        Some("line_item_currency_code"),
    );
    let err = read_path(&path).unwrap_err();
    assert!(matches!(err, IngestError::MissingColumn { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: missing required column `line_item_currency_code`",
            path.display()
        )
    );
}
