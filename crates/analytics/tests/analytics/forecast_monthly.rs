//! Monthly charges in a plain series (`forecast_values`, what `costwatch forecast` runs): a fee
//! on the 1st comes back on the next 1st inside an interval that knows it, and the real series
//! of the forecast benchmark, which have no such charge, are left to the models as they were.

use chrono::{Datelike, Days, NaiveDate};
use costwatch_analytics::forecast::{forecast_values, monthly_charge_days};
use costwatch_core::shared::shared_path;
use costwatch_ingest::daily::{Duplicates, read_daily};

/// About 100 a day (weekends lower, a deterministic wobble) for `days` days from 1 Jan 2024,
/// with `fee(date)` on top.
fn spend(days: usize, fee: impl Fn(NaiveDate) -> f64) -> (NaiveDate, Vec<Option<f64>>) {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let values = (0..days)
        .map(|i| {
            let d = start + Days::new(i as u64);
            let weekend = d.weekday().number_from_monday() >= 6;
            let usage = if weekend { 80.0 } else { 100.0 } + 4.0 * ((i * 7) % 5) as f64;
            Some(usage + fee(d))
        })
        .collect();
    (start, values)
}

#[test]
fn a_fee_that_grew_is_forecast_at_its_last_amount_and_a_month_total_holds_it() {
    // The fee rose from 2,000 to 3,000 in the last three months: the calendar reads last month's.
    let (start, values) = spend(440, |d| match (d.day(), d.year(), d.month()) {
        (1, 2025, _) => 3_000.0,
        (1, _, 11 | 12) => 3_000.0,
        (1, _, _) => 2_000.0,
        _ => 0.0,
    });
    assert_eq!(monthly_charge_days(start, &values), [1]);
    let last = start + Days::new(values.len() as u64 - 1);
    let f = forecast_values(start, &values, 40);
    let first = f
        .iter()
        .find(|p| p.date.day() == 1)
        .expect("a 1st within 40 days");
    assert!(first.date > last);
    // 3,000 and that Tuesday's usage (index 456: 100 + 4 × 2).
    let truth = 3_108.0;
    assert!((first.mean - truth).abs() < 30.0, "{first:?}");
    // Its interval is about the fee, a usual day's width (the wobble's), not the 93–109 of a
    // usual day, which the fee left in the flow gave.
    assert!(first.lo80 > 3_000.0 && first.hi80 < 3_200.0, "{first:?}");
    // Every other day is a usual day, its interval no wider for the fee next to it.
    for p in f.iter().filter(|p| p.date.day() != 1) {
        assert!((70.0..130.0).contains(&p.mean), "{p:?}");
        assert!(p.hi80 - p.lo80 < 60.0, "{p:?}");
    }
}

#[test]
fn the_benchmark_series_have_no_monthly_charge() {
    for name in [
        "example_wp_log_peyton_manning",
        "example_wp_log_R",
        "nab_nyc_taxi_daily",
    ] {
        let path = shared_path(&format!("data/forecast/{name}.csv"));
        let series = read_daily(&path, Duplicates::Sum).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            monthly_charge_days(series.start, &series.values).is_empty(),
            "{name}"
        );
    }
}
