//! The daily roll-up SQL (the text Athena runs) executed by the embedded engine over the real CUR
//! (data/cost/cur: Oct–Nov 2018, two workshop accounts, hourly line items), compared with the
//! roll-up the project's own Parquet reader computes from the same files. The files are linked
//! into the folder layout Data Exports writes (`data/BILLING_PERIOD=YYYY-MM/`), so the query's
//! partition filter is exercised too.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use costwatch_core::shared::shared_path;
use costwatch_core::{CostRecord, Money};
use costwatch_core::{Scope, UsageLine};
use costwatch_ingest::cur::read_parquet;
use costwatch_ingest::cur::read_usage;
use costwatch_query::embedded::EmbeddedEngine;
use costwatch_query::{DailyQuery, Engine, ExportTable, ResourceQuery, Window};
use costwatch_testkit::real_cur::{FILES, export_folder};
use support::assert_same_to_the_cent;

mod support;

/// The reader's records without resource ids (the roll-ups keep none), summed like the query.
fn reader_rollup(periods: &[&str]) -> Vec<CostRecord> {
    let records = FILES
        .iter()
        .filter(|(p, _)| periods.contains(p))
        .flat_map(|(_, f)| read_parquet(&shared_path(&format!("data/cost/cur/{f}"))).unwrap())
        .map(|mut r| {
            r.resource_id = None;
            r
        });
    costwatch_ingest::roll_up(records).unwrap()
}

fn total(records: &[CostRecord]) -> Money {
    records.iter().map(|r| r.effective_cost).sum()
}

async fn engine(folder: &Path) -> (EmbeddedEngine, ExportTable) {
    let engine = EmbeddedEngine::open(folder, "cur").await.unwrap();
    let table = ExportTable::legacy("cur", engine.columns("cur").await.unwrap());
    (engine, table)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[tokio::test]
async fn daily_rollup_sql_matches_the_reader_to_the_cent() {
    let folder = export_folder();
    let (engine, table) = engine(folder.path()).await;
    assert!(
        table.has("billing_period"),
        "the month folders are a partition column: {:?}",
        table.columns
    );
    let query = DailyQuery::new(
        &table,
        Window {
            from: day("2018-10-01"),
            to: day("2018-12-01"),
        },
    );
    let answer = engine.run(&query.sql).await.unwrap();
    let sql = query.records(&answer.rows).unwrap();
    let reader = reader_rollup(&["2018-10", "2018-11"]);

    assert!(reader.len() > 1_000, "{} records", reader.len());
    let largest = assert_same_to_the_cent(&sql, &reader);
    assert_eq!(total(&sql).round_dp(2), total(&reader).round_dp(2));
    let days: std::collections::BTreeSet<_> = sql.iter().map(|r| r.charge_period_start).collect();
    assert_eq!(days.len(), 61, "every day of October and November");
    assert!(!sql.iter().all(|r| r.tags.is_empty()), "tags are kept");
    println!(
        "{} records, {} line item types folded, largest difference {largest}, {} bytes scanned",
        sql.len(),
        answer.rows.rows.len() - sql.len(),
        answer.bytes_scanned
    );
}

#[tokio::test]
async fn a_window_inside_one_month_reads_only_that_month() {
    let folder = export_folder();
    let (engine, table) = engine(folder.path()).await;
    let both = Window {
        from: day("2018-10-01"),
        to: day("2018-12-01"),
    };
    let november = Window {
        from: day("2018-11-01"),
        to: day("2018-12-01"),
    };
    let all = engine
        .run(&DailyQuery::new(&table, both).sql)
        .await
        .unwrap();
    let query = DailyQuery::new(&table, november);
    let nov = engine.run(&query.sql).await.unwrap();
    assert!(
        nov.bytes_scanned > 0 && nov.bytes_scanned < all.bytes_scanned * 2 / 3,
        "November alone scanned {} bytes, both months {}",
        nov.bytes_scanned,
        all.bytes_scanned
    );
    let records = query.records(&nov.rows).unwrap();
    assert_same_to_the_cent(&records, &reader_rollup(&["2018-11"]));

    // A window that ends mid-month keeps only its days.
    let half = DailyQuery::new(
        &table,
        Window {
            from: day("2018-11-10"),
            to: day("2018-11-20"),
        },
    );
    let records = half
        .records(&engine.run(&half.sql).await.unwrap().rows)
        .unwrap();
    let days: std::collections::BTreeSet<_> = records
        .iter()
        .map(|r| r.charge_period_start.date_naive())
        .collect();
    assert_eq!(days.first(), Some(&day("2018-11-10")));
    assert_eq!(days.last(), Some(&day("2018-11-19")));
}

/// Per (day, account, product, usage type, resource, line type): cost and quantity.
fn by_resource(lines: &[UsageLine]) -> BTreeMap<String, (Money, Money)> {
    let mut out: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    for l in lines {
        let key = format!(
            "{} {} {} {} {:?} {}",
            l.day, l.account, l.product_code, l.usage_type, l.resource_id, l.line_item_type
        );
        let slot = out.entry(key).or_default();
        slot.0 += l.cost;
        slot.1 += l.usage_amount;
    }
    out
}

#[tokio::test]
async fn resource_lines_match_the_usage_reader_and_rank_the_same_drivers() {
    let folder = export_folder();
    let (engine, table) = engine(folder.path()).await;
    let window = Window {
        from: day("2018-11-08"),
        to: day("2018-11-16"),
    };
    let query = ResourceQuery::new(&table, &Scope::Org, window, &[]).unwrap();
    let answer = engine.run(&query.sql).await.unwrap();
    let sql = query.lines(&answer.rows).unwrap();
    let reader: Vec<UsageLine> = read_usage(&shared_path(&format!("data/cost/cur/{}", FILES[1].1)))
        .unwrap()
        .into_iter()
        .filter(|l| l.day >= window.from && l.day < window.to)
        .collect();
    let (a, b) = (by_resource(&sql), by_resource(&reader));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let cent = Money::new(1, 2);
    for (k, (cost, usage)) in &a {
        assert!(
            (*cost - b[k].0).abs() < cent,
            "cost of {k}: {cost} vs {}",
            b[k].0
        );
        assert!(
            (*usage - b[k].1).abs() < cent,
            "usage of {k}: {usage} vs {}",
            b[k].1
        );
    }

    // The same resource drivers for 15 November, from either side's lines.
    let drivers = |lines: &[UsageLine]| {
        let window = costwatch_analytics::resource_drivers::Window::before(day("2018-11-15"), 7);
        costwatch_analytics::resource_drivers::rank(lines, window, true, &[], 3)
    };
    let (ours, theirs) = (drivers(&sql), drivers(&reader));
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs);

    // An account scope keeps that account's lines only.
    let account = sql[0].account.clone();
    let scoped = ResourceQuery::new(&table, &Scope::Account(account.clone()), window, &[]).unwrap();
    let lines = scoped
        .lines(&engine.run(&scoped.sql).await.unwrap().rows)
        .unwrap();
    assert!(!lines.is_empty() && lines.iter().all(|l| l.account == account));
    assert!(lines.len() < sql.len(), "two accounts in the export");
}
