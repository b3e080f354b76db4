//! The daily roll-up SQL on a FOCUS table, run by the embedded engine, against the project's
//! FOCUS reader on the same rows. The rows are the real FOCUS sample
//! (data/cost/focus/focus_1.0_sample_1000.csv), written as Data Exports writes a FOCUS export:
//! Parquet per `BILLING_PERIOD=YYYY-MM` folder, FOCUS column names, amounts as doubles and
//! `Tags` a map (AWS's table dictionary for "FOCUS 1.2 with AWS columns"). This is the text the
//! collect Lambda sends to Athena for a FOCUS export.
#![cfg(feature = "embedded")]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use costwatch_core::Scope;
use costwatch_core::shared::shared_path;
use costwatch_core::{CostRecord, Money};
use costwatch_ingest::focus::json_object;
use costwatch_query::embedded::EmbeddedEngine;
use costwatch_query::{DailyQuery, Engine, Flavour, ResourceQuery, Window};
use datafusion::arrow::array::{
    ArrayRef, Float64Builder, MapBuilder, RecordBatch, StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::parquet::arrow::ArrowWriter;
use support::assert_same_to_the_cent;

mod support;

const SAMPLE: &str = "data/cost/focus/focus_1.0_sample_1000.csv";
const TEXT_COLUMNS: [&str; 12] = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "ChargeCategory",
    "ChargeFrequency",
    "RegionId",
    "ResourceId",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "ConsumedUnit",
];
const AMOUNT_COLUMNS: [&str; 4] = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ConsumedQuantity",
];

/// A CSV row by column name, the reader's null spellings as `None`.
type Row = BTreeMap<String, Option<String>>;

fn sample_rows() -> Vec<Row> {
    let mut reader = csv::Reader::from_path(shared_path(SAMPLE)).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| {
                    let v = v.trim();
                    let null = v.is_empty() || v == "\\N" || v.eq_ignore_ascii_case("null");
                    (h.to_owned(), (!null).then(|| v.to_owned()))
                })
                .collect()
        })
        .collect()
}

fn timestamp(text: &str) -> NaiveDateTime {
    let text = text.trim_end_matches('Z').replace('T', " ");
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// The row's tags as the reader keeps them.
fn tags(row: &Row) -> BTreeMap<String, String> {
    row["Tags"]
        .as_deref()
        .map_or_else(BTreeMap::new, |raw| json_object(raw).unwrap())
}

/// One Parquet file of `rows` in FOCUS's shape.
fn write_parquet(path: &Path, rows: &[&Row]) {
    let mut columns: Vec<(&str, ArrayRef)> = Vec::new();
    for name in TEXT_COLUMNS {
        let mut b = StringBuilder::new();
        for row in rows {
            b.append_option(row[name].as_deref());
        }
        columns.push((name, Arc::new(b.finish())));
    }
    for name in AMOUNT_COLUMNS {
        let mut b = Float64Builder::new();
        for row in rows {
            b.append_option(row[name].as_deref().map(|v| f64::from_str(v).unwrap()));
        }
        columns.push((name, Arc::new(b.finish())));
    }
    let mut start = TimestampMillisecondBuilder::new().with_timezone("UTC");
    for row in rows {
        let at = timestamp(row["ChargePeriodStart"].as_deref().unwrap());
        start.append_value(at.and_utc().timestamp_millis());
    }
    columns.push(("ChargePeriodStart", Arc::new(start.finish())));
    let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for row in rows {
        for (k, v) in tags(row) {
            map.keys().append_value(k);
            map.values().append_value(v);
        }
        map.append(true).unwrap();
    }
    columns.push(("Tags", Arc::new(map.finish())));
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The sample as a Data Exports folder, one file per billing period.
fn export_folder(rows: &[Row]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut by_period: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        let period = timestamp(row["BillingPeriodStart"].as_deref().unwrap())
            .format("%Y-%m")
            .to_string();
        by_period.entry(period).or_default().push(row);
    }
    for (period, rows) in &by_period {
        let month = dir.path().join(format!("data/BILLING_PERIOD={period}"));
        std::fs::create_dir_all(&month).unwrap();
        write_parquet(&month.join("part-0.parquet"), rows);
    }
    dir
}

/// The reader's roll-up of the sample, without resource ids (the roll-ups keep none).
fn reader_rollup() -> Vec<CostRecord> {
    let records = costwatch_ingest::focus::read(&shared_path(SAMPLE)).unwrap();
    let records = records.into_iter().map(|mut r| {
        r.resource_id = None;
        r
    });
    costwatch_ingest::roll_up(records).unwrap()
}

#[tokio::test]
async fn focus_rollup_sql_matches_the_focus_reader_to_the_cent() {
    let rows = sample_rows();
    assert_eq!(rows.len(), 1_000);
    let folder = export_folder(&rows);
    let keys: BTreeSet<String> = rows.iter().flat_map(|r| tags(r).into_keys()).collect();
    assert!(!keys.is_empty(), "the sample has tags");

    let engine = EmbeddedEngine::open(folder.path(), "focus").await.unwrap();
    let table = engine
        .export_table("focus", keys.into_iter().collect(), Vec::new())
        .await
        .unwrap();
    assert_eq!(table.flavour, Flavour::Focus);
    assert!(table.has("billing_period"), "{:?}", table.columns);

    let days: BTreeSet<NaiveDate> = rows
        .iter()
        .map(|r| timestamp(r["ChargePeriodStart"].as_deref().unwrap()).date())
        .collect();
    let first = *days.first().unwrap();
    // Every billing period of the sample: one (non-AWS) row is billed in October for a charge
    // on September 30th (its provider's months are not UTC's), and the partition filter reads
    // a period only when the window names its month. AWS's periods are UTC calendar months.
    let window = Window {
        from: first.with_day(1).unwrap(),
        to: NaiveDate::from_ymd_opt(2024, 11, 1).unwrap(),
    };
    assert_eq!(window.billing_periods(), ["2024-09", "2024-10"]);
    let query = DailyQuery::new(&table, window);
    let answer = engine.run(&query.sql).await.unwrap();
    let sql = query.records(&answer.rows).unwrap();
    let reader = reader_rollup();
    assert!(reader.len() > 100, "{} records", reader.len());
    let largest = assert_same_to_the_cent(&sql, &reader);
    // Each double is cast to DECIMAL(38, 10) before the sum: what is left is below 10^-8.
    eprintln!("{} records, largest difference {largest}", sql.len());
    assert!(largest < Money::new(1, 8), "largest difference {largest}");
    assert!(
        sql.iter()
            .any(|r| !r.tags.is_empty() && r.service_category.is_some()),
        "tags and service categories come through the query"
    );

    // A window of the first day only: the other days (and months) are left out.
    let day_window = Window {
        from: first,
        to: first + Days::new(1),
    };
    let one_day = DailyQuery::new(&table, day_window);
    let answer = engine.run(&one_day.sql).await.unwrap();
    let records = one_day.records(&answer.rows).unwrap();
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| r.charge_period_start.date_naive() == first),
        "only the window's day"
    );

    // The resources query on FOCUS's columns: the same day's lines, with resource ids and
    // consumed quantities, sum to the day's billed cost.
    let resources = ResourceQuery::new(&table, &Scope::Org, day_window, &[]).unwrap();
    let answer = engine.run(&resources.sql).await.unwrap();
    let lines = resources.lines(&answer.rows).unwrap();
    let billed: Money = records.iter().map(|r| r.billed_cost).sum();
    let line_cost: Money = lines.iter().map(|l| l.cost).sum();
    assert!(
        (billed - line_cost).abs() < Money::new(1, 8),
        "{billed} vs {line_cost}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.resource_id.is_some() && !l.usage_amount.is_zero())
    );
}
