//! The daily roll-up SQL on CUR 2.0 — maps for product, tags and cost categories, as Data Exports
//! writes them — run by the embedded engine over a generated month (three files in the Data
//! Exports layout), against the sums the generator kept while writing: per day billed and
//! amortised cost, per `team` tag. This is the text the collect Lambda sends to Athena.
#![cfg(feature = "embedded")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_core::Money;
use costwatch_query::embedded::EmbeddedEngine;
use costwatch_query::synthetic::{MonthSpec, month_end, write_month};
use costwatch_query::{DailyQuery, Engine, Flavour, Window};

#[tokio::test]
async fn cur2_maps_roll_up_to_the_generators_sums() {
    let dir = tempfile::tempdir().unwrap();
    let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let spec = MonthSpec {
        month,
        lines: 20_000,
        accounts: 12,
        lines_per_file: 7_000,
    };
    let expected = write_month(dir.path(), &spec).unwrap();
    assert_eq!(expected.files.len(), 3);

    let engine = EmbeddedEngine::open(dir.path(), "cur2").await.unwrap();
    let table = engine
        .export_table("cur2", vec!["team".into()], vec!["business_unit".into()])
        .await
        .unwrap();
    assert_eq!(table.flavour, Flavour::Cur2);
    let query = DailyQuery::new(
        &table,
        Window {
            from: month,
            to: month_end(month),
        },
    );
    assert!(query.sql.contains("element_at(resource_tags, 'user_team')"));
    let answer = engine.run(&query.sql).await.unwrap();
    let records = query.records(&answer.rows).unwrap();

    let mut billed: BTreeMap<NaiveDate, Money> = BTreeMap::new();
    let mut effective: BTreeMap<NaiveDate, Money> = BTreeMap::new();
    let mut by_team: BTreeMap<String, Money> = BTreeMap::new();
    for r in &records {
        *billed.entry(r.day()).or_default() += r.billed_cost;
        *effective.entry(r.day()).or_default() += r.effective_cost;
        *by_team
            .entry(r.tags.get("team").cloned().unwrap_or_default())
            .or_default() += r.billed_cost;
        assert!(
            r.x_cost_categories.contains_key("business_unit"),
            "cost category kept: {r:?}"
        );
        assert!(r.service_name.starts_with("Amazon") || r.service_name.starts_with("AWS"));
    }
    assert_eq!(billed, expected.billed_by_day);
    assert_eq!(effective, expected.effective_by_day);
    assert_ne!(
        billed, effective,
        "reservations and Savings Plans amortise below billed"
    );
    assert_eq!(by_team, expected.billed_by_team);
    assert!(
        by_team.contains_key(""),
        "untagged lines are kept, without a tag"
    );
}
