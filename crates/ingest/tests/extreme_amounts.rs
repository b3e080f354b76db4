//! Extreme amounts in a cost file end as a clear error for that file, never a panic (issue 17):
//! a `Decimal` overflow panics, and under `panic = "abort"` a panic loses the whole batch. The
//! readers refuse a line beyond ±10^15 (`costwatch_core::money::within_bounds`); everything
//! within it reads exactly, and any number of such lines still sums without overflow.

use std::path::Path;

use costwatch_core::Money;
use costwatch_core::money::max_amount;
use costwatch_ingest::read_path;
use proptest::prelude::*;
use rust_decimal::Decimal;

const HEADER: &str = "identity/LineItemId,bill/PayerAccountId,lineItem/UsageAccountId,\
lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,\
lineItem/UsageType,lineItem/UnblendedCost,lineItem/CurrencyCode";

/// One hourly usage line of `amount` (as written) per hour `0..lines`, all on 2019-11-01.
fn cur_csv(dir: &Path, amount: &str, lines: u32) -> std::path::PathBuf {
    let mut text = format!("{HEADER}\n");
    for n in 0..lines {
        let (hour, day) = (n % 24, 1 + n / 24);
        text.push_str(&format!(
            "a{n},111122223333,444455556666,Usage,2019-11-{day:02}T{hour:02}:00:00Z,\
             2019-11-{day:02}T{hour:02}:59:59Z,AmazonEC2,BoxUsage:t3.medium,{amount},USD\n"
        ));
    }
    let path = dir.join("cur.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn read_one(amount: &str) -> Result<Money, String> {
    let dir = tempfile::tempdir().unwrap();
    read_path(&cur_csv(dir.path(), amount, 1))
        .map(|records| records.iter().map(|r| r.billed_cost).sum())
        .map_err(|e| e.to_string())
}

/// Plain decimals of any size and scale, scientific notation far past Decimal's range, and
/// doubles' shortest text.
fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<i64>(), 0u32..=12).prop_map(|(m, scale)| Decimal::new(m, scale).to_string()),
        (any::<i128>()).prop_map(|m| m.to_string()),
        (1u32..=9, -40i32..=40).prop_map(|(d, e)| format!("{d}E{e}")),
        any::<f64>().prop_map(|v| v.to_string()),
        Just("79228162514264337593543950335".to_string()),
        Just("-79228162514264337593543950335".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_amount_reads_or_is_refused_without_panicking(text in amount_text()) {
        match read_one(&text) {
            Ok(total) => prop_assert!(total.abs() <= max_amount(), "{text} read as {total}"),
            Err(message) => prop_assert!(!message.is_empty()),
        }
        // A plain decimal's fate is known in advance: read exactly within ±10^15, refused beyond.
        if let Ok(value) = text.parse::<Decimal>() {
            let read = read_one(&text);
            if value.abs() <= max_amount() {
                prop_assert_eq!(read, Ok(value));
            } else {
                let message = read.unwrap_err();
                prop_assert!(message.contains("beyond"), "{}", message);
            }
        }
    }
}

#[test]
fn a_month_of_hourly_lines_at_the_bound_sums_without_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let hours = 24 * 30;
    for amount in [max_amount(), -max_amount()] {
        let records = read_path(&cur_csv(dir.path(), &amount.to_string(), hours)).unwrap();
        let total: Money = records.iter().map(|r| r.billed_cost).sum();
        assert_eq!(total, amount * Money::from(hours));
    }
}

#[test]
fn one_cent_past_the_bound_is_refused_with_the_reason() {
    let past = (max_amount() + Money::new(1, 2)).to_string();
    let message = read_one(&past).unwrap_err();
    assert!(message.contains("beyond ±10^15"), "{message}");
}
