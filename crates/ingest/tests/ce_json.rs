//! Cost Explorer GetCostAndUsage responses: hand-written fixtures in the AWS wire shape.

use std::path::PathBuf;

use costwatch_core::{ChargeCategory, ChargeFrequency, CostRecord};
use costwatch_ingest::{Format, IngestError, ce_json, detect, read_path};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn parse_fixture(name: &str) -> Vec<CostRecord> {
    let bytes = std::fs::read(fixture(name)).unwrap();
    ce_json::parse(&bytes, name, "999988887777").unwrap()
}

fn billed(records: &[&CostRecord]) -> Decimal {
    records.iter().map(|r| r.billed_cost).sum()
}

#[test]
fn linked_account_and_service_groups_become_daily_records() {
    let records = parse_fixture("ce_linked_account_service.json");
    assert_eq!(records.len(), 6);
    let first = &records[0];
    assert_eq!(
        first.charge_period_start.to_rfc3339(),
        "2024-09-01T00:00:00+00:00"
    );
    assert_eq!(
        first.charge_period_end.to_rfc3339(),
        "2024-09-02T00:00:00+00:00"
    );
    assert_eq!(first.billing_account_id, "999988887777");
    assert_eq!(first.billing_currency, "USD");
    assert_eq!(first.list_cost, None);

    let ec2: Vec<_> = records
        .iter()
        .filter(|r| r.service_name == "Amazon Elastic Compute Cloud - Compute")
        .collect();
    assert_eq!(ec2.len(), 2);
    assert!(ec2.iter().all(|r| r.sub_account_id == "111122223333"));
    assert!(
        ec2.iter()
            .all(|r| r.sub_account_name.as_deref() == Some("web-prod"))
    );
    assert_eq!(billed(&ec2), dec!(78.7078));
    assert_eq!(
        ec2[0].effective_cost,
        dec!(41.2873),
        "EffectiveCost is AmortizedCost"
    );

    let tax: Vec<_> = records.iter().filter(|r| r.service_name == "Tax").collect();
    assert_eq!(tax.len(), 2);
    assert!(tax.iter().all(|r| r.charge_category == ChargeCategory::Tax));
    assert_eq!(tax[0].sub_account_name.as_deref(), Some("data-platform"));
    assert_eq!(billed(&tax), dec!(7.31));
    let total: Decimal = records.iter().map(|r| r.billed_cost).sum();
    assert_eq!(total, dec!(100.3625731));
}

#[test]
fn record_types_across_pages_map_to_categories_and_frequencies() {
    let records = parse_fixture("ce_service_record_type_pages.json");
    assert_eq!(records.len(), 8, "both pages are read");
    let find = |service: &str, category: ChargeCategory| {
        records
            .iter()
            .find(|r| r.service_name == service && r.charge_category == category)
            .unwrap_or_else(|| panic!("{service} {category}"))
    };
    let ec2 = "Amazon Elastic Compute Cloud - Compute";
    assert_eq!(
        find(ec2, ChargeCategory::Usage).charge_frequency,
        Some(ChargeFrequency::UsageBased)
    );
    let fees: Vec<_> = records
        .iter()
        .filter(|r| r.charge_category == ChargeCategory::Purchase)
        .map(|r| {
            (
                r.service_name.as_str(),
                r.charge_frequency,
                r.billed_cost,
                r.effective_cost,
            )
        })
        .collect();
    assert_eq!(
        fees,
        vec![
            (
                "AWS Support (Business)",
                Some(ChargeFrequency::Recurring),
                dec!(100),
                dec!(100)
            ),
            (ec2, Some(ChargeFrequency::OneTime), dec!(1024), dec!(0)),
            (ec2, Some(ChargeFrequency::Recurring), dec!(22.32), dec!(0)),
            (
                "Savings Plans for AWS Compute usage",
                Some(ChargeFrequency::Recurring),
                dec!(73),
                dec!(0)
            ),
        ]
    );
    assert_eq!(find(ec2, ChargeCategory::Credit).billed_cost, dec!(-5));
    assert_eq!(
        find("Amazon Simple Storage Service", ChargeCategory::Credit).billed_cost,
        dec!(-0.42)
    );
    assert_eq!(find("Tax", ChargeCategory::Tax).billed_cost, dec!(12.77));
    // Not grouped by LINKED_ACCOUNT: everything is booked on the billing account.
    assert!(records.iter().all(|r| r.sub_account_id == "999988887777"));
}

#[test]
fn tag_groups_fill_tags_and_untagged_has_none() {
    let records = parse_fixture("ce_tag.json");
    let by_team: Vec<_> = records
        .iter()
        .map(|r| (r.tags.get("team").map(String::as_str), r.billed_cost))
        .collect();
    assert_eq!(
        by_team,
        vec![
            (None, dec!(3.5004)),
            (Some("data"), dec!(11.25)),
            (Some("web"), dec!(27.0001))
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.service_name == ce_json::ALL_SERVICES)
    );
    assert!(
        records.iter().all(|r| r.effective_cost == r.billed_cost),
        "no AmortizedCost requested"
    );
}

#[test]
fn cost_category_and_region_groups() {
    let records = parse_fixture("ce_cost_category_region.json");
    let rows: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.x_cost_categories.get("Product").map(String::as_str),
                r.region_id.as_deref(),
                r.billed_cost,
                r.effective_cost,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (None, None, dec!(0.77), dec!(0.77)),
            (Some("Search"), Some("eu-west-1"), dec!(4.2), dec!(4.2)),
            (Some("Checkout"), Some("us-east-1"), dec!(8.12), dec!(7.9)),
        ]
    );
}

#[test]
fn ungrouped_response_gives_one_record_per_day() {
    let path = fixture("ce_total.json");
    assert_eq!(detect(&path).unwrap(), Format::CeJson);
    let records = read_path(&path).unwrap();
    let days: Vec<_> = records.iter().map(|r| r.day().to_string()).collect();
    assert_eq!(days, ["2024-09-01", "2024-09-02", "2024-09-03"]);
    assert!(
        records
            .iter()
            .all(|r| r.billing_account_id == "unknown" && r.sub_account_id == "unknown")
    );
    assert_eq!(
        records.iter().map(|r| r.billed_cost).sum::<Decimal>(),
        dec!(437.2712)
    );
    assert_eq!(records[0].effective_cost, dec!(154.3029875332));
}

const BAD_AMOUNT: &str = r#"{
  "GroupDefinitions": [{ "Type": "DIMENSION", "Key": "SERVICE" }],
  "ResultsByTime": [
    { "TimePeriod": { "Start": "2024-09-01", "End": "2024-09-02" }, "Total": {},
      "Groups": [{ "Keys": ["Amazon S3"], "Metrics": { "UnblendedCost": { "Amount": "1.5", "Unit": "USD" } } }] },
    { "TimePeriod": { "Start": "2024-09-02", "End": "2024-09-03" }, "Total": {},
      "Groups": [
        { "Keys": ["Amazon S3"], "Metrics": { "UnblendedCost": { "Amount": "1.5", "Unit": "USD" } } },
        { "Keys": ["AWS Lambda"], "Metrics": { "UnblendedCost": { "Amount": "abc", "Unit": "USD" } } }
      ] }
  ]
}"#;

#[test]
fn bad_amount_names_file_path_and_metric() {
    let err = ce_json::parse(BAD_AMOUNT.as_bytes(), "ce.json", "1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "ce.json at ResultsByTime[1].Groups[1] column Metrics.UnblendedCost.Amount: invalid decimal `abc`"
    );
}

#[test]
fn missing_unblended_metric_and_bad_shape_are_errors() {
    let only_usage = BAD_AMOUNT.replace("UnblendedCost", "UsageQuantity");
    let err = ce_json::parse(only_usage.as_bytes(), "ce.json", "1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "ce.json at ResultsByTime[0].Groups[0] column Metrics.UnblendedCost: metric missing (request UnblendedCost)"
    );
    let err = ce_json::parse(br#"{"ResultsByTime": [{"Total": {}}]}"#, "ce.json", "1").unwrap_err();
    assert!(matches!(err, IngestError::Json { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("ce.json: invalid Cost Explorer JSON: missing field `TimePeriod`"),
        "{err}"
    );
    let bad_record_type = BAD_AMOUNT
        .replace("\"SERVICE\"", "\"RECORD_TYPE\"")
        .replace("abc", "1");
    let err = ce_json::parse(bad_record_type.as_bytes(), "ce.json", "1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "ce.json at ResultsByTime[0].Groups[0] column RECORD_TYPE: unknown RECORD_TYPE `Amazon S3`"
    );
}
