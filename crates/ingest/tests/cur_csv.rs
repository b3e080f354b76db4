//! CUR as delimited text: the real `\x01`-separated workshop day, and a classic-header fixture.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use costwatch_core::shared::shared_path;
use costwatch_core::{ChargeCategory, ChargeFrequency};
use costwatch_ingest::{Format, IngestError, cur, detect, read_path};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn step1() -> PathBuf {
    shared_path("data/cost/cur/Step1CUR.gz")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn write_gz(path: &Path, text: &str) {
    let mut gz = GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
}

/// The real file's lines, decompressed here independently of the reader.
fn step1_lines() -> Vec<String> {
    let gz = GzDecoder::new(std::fs::File::open(step1()).unwrap());
    BufReader::new(gz).lines().map(Result::unwrap).collect()
}

#[test]
fn step1_daily_totals_match_raw_column_exactly() {
    let path = step1();
    assert_eq!(detect(&path).unwrap(), Format::CurCsv);
    let records = read_path(&path).unwrap();

    // Independent figures straight from the csv crate.
    let mut raw = csv::ReaderBuilder::new()
        .delimiter(b'\x01')
        .quoting(false)
        .from_reader(GzDecoder::new(std::fs::File::open(&path).unwrap()));
    let headers = raw.headers().unwrap().clone();
    assert_eq!(headers.len(), 148);
    let ix = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (acct, name, code, cost) = (
        ix("line_item_usage_account_id"),
        ix("product_product_name"),
        ix("line_item_product_code"),
        ix("line_item_unblended_cost"),
    );
    let mut want: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut lines = 0;
    for rec in raw.records() {
        let rec = rec.unwrap();
        lines += 1;
        let service = if rec[name].is_empty() {
            &rec[code]
        } else {
            &rec[name]
        };
        *want
            .entry((rec[acct].to_owned(), service.to_owned()))
            .or_default() += rec[cost].parse::<Decimal>().unwrap();
    }
    assert_eq!(lines, 7850);

    let mut got: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for r in &records {
        assert_eq!(r.day(), NaiveDate::from_ymd_opt(2019, 11, 26).unwrap());
        assert_eq!(r.charge_category, ChargeCategory::Usage);
        *got.entry((r.sub_account_id.clone(), r.service_name.clone()))
            .or_default() += r.billed_cost;
    }
    assert_eq!(got, want, "exact decimal sums per (account, service)");
    assert!(records.len() < lines);
    let total: Decimal = records.iter().map(|r| r.billed_cost).sum();
    assert_eq!(total, want.values().copied().sum::<Decimal>());
    assert!(total > Decimal::ZERO);
    // `\N` is null, never a value.
    assert!(
        records
            .iter()
            .all(|r| r.resource_id.as_deref() != Some("\\N"))
    );
    assert!(
        records
            .iter()
            .all(|r| !r.tags.values().any(|v| v == "\\N" || v.is_empty()))
    );
}

#[test]
fn classic_headers_map_like_athena_names() {
    let path = fixture("classic_cur.csv");
    assert_eq!(detect(&path).unwrap(), Format::CurCsv);
    let records = cur::read_csv(&path).unwrap();
    let rows: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.day().to_string(),
                r.sub_account_id.as_str(),
                r.service_name.as_str(),
                r.charge_category,
                r.charge_frequency,
                r.billed_cost,
                r.effective_cost,
                r.tags.get("Team").map(String::as_str),
            )
        })
        .collect();
    use ChargeCategory as C;
    use ChargeFrequency as F;
    let ec2 = "Amazon Elastic Compute Cloud";
    assert_eq!(
        rows,
        vec![
            (
                "2019-11-01".into(),
                "111122223333",
                ec2,
                C::Tax,
                None,
                dec!(1.87),
                dec!(1.87),
                None
            ),
            (
                "2019-11-01".into(),
                "111122223333",
                ec2,
                C::Purchase,
                Some(F::Recurring),
                dec!(18.72),
                dec!(2.22),
                None
            ),
            (
                "2019-11-01".into(),
                "444455556666",
                ec2,
                C::Usage,
                Some(F::UsageBased),
                dec!(0),
                dec!(0.0573),
                None
            ),
            (
                "2019-11-01".into(),
                "444455556666",
                ec2,
                C::Usage,
                Some(F::UsageBased),
                dec!(0.0832),
                dec!(0.0832),
                Some("web")
            ),
            (
                "2019-11-01".into(),
                "444455556666",
                "AmazonS3",
                C::Credit,
                None,
                dec!(-2.5),
                dec!(-2.5),
                Some("platform, core")
            ),
            (
                "2019-11-02".into(),
                "444455556666",
                "AmazonS3",
                C::Usage,
                Some(F::UsageBased),
                dec!(0.000012),
                dec!(0.000012),
                None
            ),
        ]
    );
    let web = &records[3];
    assert_eq!(web.resource_id.as_deref(), Some("i-0abc"));
    assert_eq!(web.x_usage_type.as_deref(), Some("BoxUsage:t3.medium"));
    assert_eq!(web.region_id.as_deref(), Some("us-east-1"));
    assert_eq!(web.list_cost, Some(dec!(0.0832)));
    assert_eq!(
        web.x_cost_categories.get("product").map(String::as_str),
        Some("Checkout")
    );
    assert_eq!(records[0].list_cost, None);
}

#[test]
fn gzipped_comma_file_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("cur.csv.gz");
    write_gz(
        &gz,
        &std::fs::read_to_string(fixture("classic_cur.csv")).unwrap(),
    );
    assert_eq!(
        read_path(&gz).unwrap(),
        read_path(&fixture("classic_cur.csv")).unwrap()
    );
}

#[test]
fn bad_cost_names_file_row_and_column() {
    let lines = step1_lines();
    let mut text: Vec<String> = lines[..25].to_vec();
    // Data row 17 is line 18 of the file (the header is line 1).
    let mut fields: Vec<&str> = text[17].split('\x01').collect();
    let cost = lines[0]
        .split('\x01')
        .position(|h| h == "line_item_unblended_cost")
        .unwrap();
    fields[cost] = "abc";
    text[17] = fields.join("\x01");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Step1CUR.gz");
    write_gz(&path, &(text.join("\n") + "\n"));
    let err = read_path(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} row 17 column line_item_unblended_cost: invalid decimal `abc`",
            path.display()
        )
    );
    assert!(
        err.to_string()
            .contains("Step1CUR.gz row 17 column line_item_unblended_cost")
    );
}

#[test]
fn bad_date_unknown_type_and_ragged_rows_fail_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(fixture("classic_cur.csv")).unwrap();
    let cases = [
        (
            "2019-11-02T13:00:00Z,2019-11-02T14",
            "Nov 2 2019,2019-11-02T14",
            "row 7 column line_item_usage_start_date: invalid timestamp `Nov 2 2019`",
        ),
        (
            ",Tax,",
            ",Surcharge,",
            "row 5 column line_item_line_item_type: unknown line item type `Surcharge`",
        ),
        (
            ",1.87,USD,",
            ",,USD,",
            "row 5 column line_item_unblended_cost: required value is empty",
        ),
    ];
    for (from, to, want) in cases {
        let path = dir.path().join("case.csv");
        std::fs::write(&path, original.replacen(from, to, 1)).unwrap();
        let err = read_path(&path).unwrap_err();
        assert_eq!(err.to_string(), format!("{} {want}", path.display()));
    }
    let path = dir.path().join("ragged.csv");
    std::fs::write(&path, original.replacen(",web,Checkout\n", ",web\n", 1)).unwrap();
    let err = read_path(&path).unwrap_err();
    assert!(matches!(err, IngestError::Csv { .. }), "{err}");
    assert!(err.to_string().contains("ragged.csv"), "{err}");
}

#[test]
fn missing_required_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nocost.csv");
    let original = std::fs::read_to_string(fixture("classic_cur.csv")).unwrap();
    std::fs::write(
        &path,
        original.replacen("lineItem/UnblendedCost", "lineItem/BlendedCost", 1),
    )
    .unwrap();
    let err = read_path(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: missing required column `line_item_unblended_cost`",
            path.display()
        )
    );
}

#[test]
fn unrecognised_header_is_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.csv");
    std::fs::write(&path, "date,amount\n2024-01-01,3\n").unwrap();
    let err = detect(&path).unwrap_err();
    assert!(matches!(err, IngestError::UnknownFormat { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read as cost data", path.display()))
    );
}
