//! FOCUS CSV: the real 1,000-row FinOps sample (literal `NULL`s, JSON tags) checked against
//! figures computed here with the csv crate, plus a FOCUS 1.2 style fixture.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use costwatch_core::shared::shared_path;
use costwatch_core::{ChargeCategory, ChargeFrequency};
use costwatch_ingest::{Format, IngestError, detect, focus, read_as, read_path};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn sample() -> PathBuf {
    shared_path("data/cost/focus/focus_1.0_sample_1000.csv")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn sample_counts_and_sums_match_the_csv() {
    let path = sample();
    assert_eq!(detect(&path).unwrap(), Format::FocusCsv);
    let records = read_path(&path).unwrap();

    let mut raw = csv::Reader::from_path(&path).unwrap();
    let headers = raw.headers().unwrap().clone();
    let ix = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let opt = |v: &str| (v != "NULL").then(|| v.to_owned());
    let mut billed = Decimal::ZERO;
    let mut effective = Decimal::ZERO;
    let mut lines = 0;
    let mut keys = BTreeSet::new();
    let mut per_day_account_service: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
    for rec in raw.records() {
        let rec = rec.unwrap();
        lines += 1;
        let cost: Decimal = rec[ix("BilledCost")].parse().unwrap();
        billed += cost;
        effective += rec[ix("EffectiveCost")].parse::<Decimal>().unwrap();
        let day = rec[ix("ChargePeriodStart")][..10].to_owned();
        let tags: BTreeMap<String, String> = match &rec[ix("Tags")] {
            "NULL" => BTreeMap::new(),
            json => serde_json::from_str(json).unwrap(),
        };
        keys.insert((
            day.clone(),
            [
                "BillingAccountId",
                "BillingAccountName",
                "SubAccountId",
                "SubAccountName",
                "ServiceName",
                "ServiceCategory",
                "RegionId",
                "ChargeCategory",
                "BillingCurrency",
                "ResourceId",
            ]
            .map(|c| opt(&rec[ix(c)])),
            rec[ix("ChargeFrequency")].to_ascii_lowercase(),
            tags,
        ));
        *per_day_account_service
            .entry((
                day,
                rec[ix("SubAccountId")].to_owned(),
                rec[ix("ServiceName")].to_owned(),
            ))
            .or_default() += cost;
    }
    assert_eq!(lines, 1000);
    assert_eq!(
        records.len(),
        keys.len(),
        "one record per distinct day + dimensions"
    );
    assert!(records.len() < lines);
    assert_eq!(
        records.iter().map(|r| r.billed_cost).sum::<Decimal>(),
        billed
    );
    assert_eq!(billed, dec!(20.52022672899));
    assert_eq!(
        records.iter().map(|r| r.effective_cost).sum::<Decimal>(),
        effective
    );
    assert_eq!(effective, dec!(14.97651418586));

    let mut got: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
    for r in &records {
        *got.entry((
            r.day().to_string(),
            r.sub_account_id.clone(),
            r.service_name.clone(),
        ))
        .or_default() += r.billed_cost;
    }
    assert_eq!(got, per_day_account_service);

    // `NULL` is absence, and "Usage-based" (sic, in the sample) is read as Usage-Based.
    assert!(
        records
            .iter()
            .all(|r| r.region_id.as_deref() != Some("NULL"))
    );
    assert!(records.iter().all(|r| r.charge_frequency.is_some()));
    let credit = records
        .iter()
        .find(|r| r.charge_category == ChargeCategory::Credit)
        .unwrap();
    assert_eq!(
        (credit.billed_cost, credit.charge_frequency),
        (dec!(-2.6137), Some(ChargeFrequency::OneTime))
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r.charge_category == ChargeCategory::Adjustment)
            .count(),
        2
    );
    assert!(
        records
            .iter()
            .any(|r| r.tags.get("environment").map(String::as_str) == Some("dev"))
    );
    assert!(records.iter().all(|r| r.list_cost.is_some()));
}

#[test]
fn focus_1_2_fixture_rfc3339_and_extensions() {
    let path = fixture("focus_1_2.csv");
    let records = read_path(&path).unwrap();
    let rows: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.day().to_string(),
                r.service_name.as_str(),
                r.charge_category,
                r.billed_cost,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("2025-03-01".into(), "Tax", ChargeCategory::Tax, dec!(4.11)),
            (
                "2025-03-01".into(),
                "Savings Plans for AWS Compute usage",
                ChargeCategory::Purchase,
                dec!(730)
            ),
            (
                "2025-03-01".into(),
                "Amazon Simple Storage Service",
                ChargeCategory::Credit,
                dec!(-3)
            ),
            (
                "2025-03-04".into(),
                "Amazon Elastic Compute Cloud",
                ChargeCategory::Usage,
                dec!(0.1664)
            ),
            (
                "2025-03-05".into(),
                "Amazon Elastic Compute Cloud",
                ChargeCategory::Usage,
                dec!(0.0832)
            ),
        ]
    );
    let ec2 = &records[3];
    assert_eq!(
        ec2.charge_period_start.to_rfc3339(),
        "2025-03-04T00:00:00+00:00"
    );
    assert_eq!(
        ec2.charge_period_end.to_rfc3339(),
        "2025-03-05T00:00:00+00:00"
    );
    assert_eq!(ec2.x_usage_type.as_deref(), Some("USE1-BoxUsage:t3.large"));
    assert_eq!(
        ec2.x_cost_categories.get("Product").map(String::as_str),
        Some("Checkout")
    );
    assert_eq!(
        ec2.tags.len(),
        2,
        "key order in the JSON does not split records"
    );
    assert_eq!(ec2.sub_account_name.as_deref(), Some("web-prod"));
    assert_eq!(ec2.service_category.as_deref(), Some("Compute"));
    assert_eq!(ec2.list_cost, Some(dec!(0.1664)));
    let tax = &records[0];
    assert_eq!(
        tax.sub_account_id, "111122223333",
        "no SubAccountId: the billing account"
    );
    assert!(
        tax.tags.is_empty(),
        "null and empty tag values are untagged"
    );
    assert_eq!(tax.charge_frequency, None);
    assert_eq!(records[1].effective_cost, dec!(0));
    assert_eq!(records[1].list_cost, None);

    // Gzipped, it reads the same.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("focus.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&path).unwrap()).unwrap();
    enc.finish().unwrap();
    assert_eq!(detect(&gz).unwrap(), Format::FocusCsv);
    assert_eq!(read_path(&gz).unwrap(), records);
}

/// The sample's header and first 30 rows, with one cell replaced in data row `row`.
fn sample_with(row: usize, column: &str, value: &str) -> (tempfile::TempDir, PathBuf) {
    let mut reader = csv::Reader::from_path(sample()).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == column).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("focus_bad.csv");
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    for (i, rec) in reader.records().take(30).enumerate() {
        let mut fields: Vec<String> = rec.unwrap().iter().map(str::to_owned).collect();
        if i + 1 == row {
            fields[col] = value.to_owned();
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    (dir, path)
}

#[test]
fn bad_rows_name_file_row_and_column() {
    let cases = [
        (
            17,
            "BilledCost",
            "abc",
            "row 17 column BilledCost: invalid decimal `abc`",
        ),
        (
            3,
            "ChargeCategory",
            "Refund",
            "row 3 column ChargeCategory: unknown ChargeCategory `Refund`",
        ),
        (
            9,
            "ChargePeriodStart",
            "yesterday",
            "row 9 column ChargePeriodStart: invalid timestamp `yesterday`",
        ),
        (
            30,
            "Tags",
            "{not json",
            "row 30 column Tags: invalid JSON object: key must be a string at line 1 column 2",
        ),
        (
            5,
            "ServiceName",
            "NULL",
            "row 5 column ServiceName: required value is empty",
        ),
    ];
    for (row, column, value, want) in cases {
        let (_dir, path) = sample_with(row, column, value);
        let err = read_path(&path).unwrap_err();
        assert_eq!(err.to_string(), format!("{} {want}", path.display()));
    }
}

#[test]
fn missing_required_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_effective.csv");
    let text = std::fs::read_to_string(fixture("focus_1_2.csv")).unwrap();
    std::fs::write(&path, text.replacen("EffectiveCost", "AmortizedCost", 1)).unwrap();
    let err = focus::read(&path).unwrap_err();
    assert!(matches!(err, IngestError::MissingColumn { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: missing required column `EffectiveCost`",
            path.display()
        )
    );
    // Forcing a format that does not fit names what is missing rather than guessing.
    let err = read_as(&fixture("classic_cur.csv"), Format::FocusCsv).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("missing required column `ChargePeriodStart`"),
        "{err}"
    );
}
