//! Per-resource usage lines from the real CUR files agree with the cost records read from the
//! same files: the same line items, rolled up two ways, must add up to the same money.

use costwatch_core::Money;
use costwatch_core::shared::shared_path;
use costwatch_ingest::cur::{read_csv, read_parquet, read_usage};

#[test]
fn classic_csv_usage_lines_add_up_to_the_cost_records() {
    let path = shared_path("data/cost/cur/Step1CUR.gz");
    let usage = read_usage(&path).unwrap();
    let records = read_csv(&path).unwrap();
    let usage_cost: Money = usage.iter().map(|l| l.cost).sum();
    let billed: Money = records.iter().map(|r| r.billed_cost).sum();
    assert_eq!(usage_cost, billed);
    assert!(usage.iter().all(|l| l.day.to_string() == "2019-11-26"));
    assert!(
        usage
            .iter()
            .any(|l| l.resource_id.is_some() && l.usage_amount > Money::ZERO)
    );
}

#[test]
fn parquet_usage_lines_keep_amounts_types_and_rows() {
    let path = shared_path("data/cost/cur/Nov2018-WorkshopCUR-00001.snappy.parquet");
    let usage = read_usage(&path).unwrap();
    let billed: Money = read_parquet(&path)
        .unwrap()
        .iter()
        .map(|r| r.billed_cost)
        .sum();
    assert_eq!(usage.iter().map(|l| l.cost).sum::<Money>(), billed);
    // 2018-11-30, ElasticIP:IdleAddress in 011254002932: 24 hourly rows, 2 addresses each.
    let eip: Vec<_> = usage
        .iter()
        .filter(|l| l.usage_type == "ElasticIP:IdleAddress" && l.day.to_string() == "2018-11-30")
        .collect();
    assert_eq!(eip.len(), 1);
    assert_eq!(
        (
            eip[0].lines,
            eip[0].usage_amount,
            eip[0].line_item_type.as_str()
        ),
        (24, Money::from(48), "Usage")
    );
    assert_eq!(eip[0].account, "011254002932");
}

#[test]
fn a_focus_file_has_no_usage_lines() {
    let err = read_usage(&shared_path("data/cost/focus/focus_1.0_sample_1000.csv")).unwrap_err();
    assert!(
        err.to_string().contains("recommendations need a CUR"),
        "{err}"
    );
}
