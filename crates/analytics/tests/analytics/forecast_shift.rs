//! Forecasts follow a changed level (issue 18 item 2).

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::{forecast_daily, month_end};
use costwatch_core::money::to_f64;
use costwatch_core::record::CostMetric;
use costwatch_core::scope::ScopeKind;
use costwatch_core::series::rollup;
use costwatch_core::shared::shared_path;
use costwatch_core::{DailySeries, Scope};

use crate::common::{Noise, date, money, series, truncated, usage, weekly_factor};

fn cur_org() -> DailySeries {
    let mut records = Vec::new();
    for month in ["Oct2018", "Nov2018"] {
        let path = shared_path(&format!(
            "data/cost/cur/{month}-WorkshopCUR-00001.snappy.parquet"
        ));
        records.extend(costwatch_ingest::read_path(&path).expect("CUR sample reads"));
    }
    let (start, end) = (
        NaiveDate::from_ymd_opt(2018, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2018, 11, 30).unwrap(),
    );
    let org = rollup(&records, CostMetric::Billed, &[ScopeKind::Org]);
    DailySeries::from_points(Scope::Org, start, end, &org[&Scope::Org])
}

/// Mean absolute error of a forecast against the days after `origin` (all observed).
fn mae(actual: &[f64], origin: usize, forecast: &[f64]) -> f64 {
    forecast
        .iter()
        .enumerate()
        .map(|(h, f)| (actual[origin + 1 + h] - f).abs())
        .sum::<f64>()
        / forecast.len() as f64
}

/// `n` days of a weekly-shaped spend around 50 with 5 % noise whose last `age` days (and the
/// `HORIZON` after them) are on a new regime: `new(day, noise)` gives a day's value there.
fn shifted(n: usize, age: usize, seed: u64, new: impl Fn(NaiveDate, f64) -> f64) -> Vec<f64> {
    let start = date(2025, 1, 6);
    let mut noise = Noise::new(seed);
    (0..n + HORIZON)
        .map(|i| {
            let d = start + Days::new(i as u64);
            let z = noise.gauss();
            if i + age >= n {
                new(d, z)
            } else {
                50.0 * weekly_factor(d) * (1.0 + 0.05 * z)
            }
        })
        .collect()
}

const HORIZON: usize = 28;

/// Forecast from the first `n` days (as usage) and the naive one's MAE next to ours.
fn ours_vs_naive(y: &[f64], n: usize) -> (f64, f64, Vec<f64>) {
    let s = series(
        date(2025, 1, 6),
        y[..n].iter().map(|v| Some(usage(*v))).collect(),
    );
    let f: Vec<f64> = forecast_daily(&s, HORIZON)
        .iter()
        .map(|p| to_f64(p.mean))
        .collect();
    let naive = vec![to_f64(money(y[n - 1])); HORIZON];
    (mae(y, n - 1, &f), mae(y, n - 1, &naive), f)
}

#[test]
fn a_collapse_to_a_flat_level_is_followed_from_five_days_on() {
    // The shape: a busy weekly pattern around $50 falls to a flat ~$8.4.
    let mut failed = Vec::new();
    for n in [120, 400] {
        for age in [5, 6, 7, 8, 10, 14, 21] {
            let y = shifted(n, age, 7 + age as u64, |_, z| 8.4 * (1.0 + 0.01 * z));
            let (ours, naive, f) = ours_vs_naive(&y, n);
            if ours > naive {
                failed.push(format!(
                    "{n} days, {age} on the new level: MAE {ours:.3} vs naive {naive:.3}: {f:.2?}"
                ));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn a_jump_keeping_the_weekly_shape_is_followed_from_five_days_on() {
    let mut failed = Vec::new();
    for n in [120, 400] {
        for age in [5, 6, 7, 8, 10, 14, 21] {
            for factor in [0.3, 2.5] {
                let y = shifted(n, age, 11 + age as u64, |d, z| {
                    factor * 50.0 * weekly_factor(d) * (1.0 + 0.05 * z)
                });
                let (ours, naive, f) = ours_vs_naive(&y, n);
                if ours > naive {
                    failed.push(format!(
                        "{n} days, ×{factor} for {age}: MAE {ours:.3} vs naive {naive:.3}: {f:.2?}"
                    ));
                }
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// In-sample seasonal-naive (m = 7) mean absolute error of `y[..n]`: the MASE scale.
fn mase_scale(y: &[f64], n: usize) -> f64 {
    (7..n).map(|t| (y[t] - y[t - 7]).abs()).sum::<f64>() / (n - 7) as f64
}

#[test]
fn the_november_cur_collapse_is_followed_from_five_days_on_the_new_level() {
    // Origins Nov 22–29 (Nov 30 is the last day of the data: nothing left to score).
    // Daily totals (usage, fees): ~150 a day until Nov 20, ~50 from Nov 21, ~9.6 from Nov 25.
    let s = cur_org();
    let y = s.totals_f64();
    let y: Vec<f64> = y.iter().map(|v| v.expect("every day reported")).collect();
    let nov = |day: usize| 30 + day; // index of 2018-11-<day>
    let mut table = Vec::new();
    for day in 22..=29 {
        let o = nov(day);
        let f: Vec<f64> = forecast_daily(&truncated(&s, o + 1), 30 - day)
            .iter()
            .map(|p| to_f64(p.mean))
            .collect();
        let scale = mase_scale(&y, o + 1);
        let ours = mae(&y, o, &f) / scale;
        let naive = mae(&y, o, &vec![y[o]; f.len()]) / scale;
        let m = month_end(&truncated(&s, o + 1), s.date_at(o)).expect("month end");
        let truth: f64 = y[nov(1)..=nov(30)].iter().sum();
        let to_date: f64 = y[nov(1)..=o].iter().sum();
        let naive_total = to_date + y[o] * (30 - day) as f64;
        let (total, lo, hi) = (to_f64(m.total), to_f64(m.lo80), to_f64(m.hi80));
        table.push(format!(
            "Nov {day}: MASE {ours:.3} vs naive {naive:.3} {f:.2?}; month end {total:.2} \
             ({lo:.2} – {hi:.2}) vs {truth:.2}, naive {naive_total:.2}"
        ));
        // Days on the level of the origin's last day (Nov 21–24 at ~50, Nov 25 on at ~9.6).
        let on_level = if day >= 25 { day - 24 } else { day - 20 };
        if on_level >= 5 {
            assert!(ours <= naive, "{}", table.join("\n"));
            let miss = |t: f64| (t - truth).abs();
            assert!(miss(total) <= miss(naive_total), "{}", table.join("\n"));
        }
        // Item 3: the month-end point inside its interval, not on a bound, on every origin.
        assert!(lo < total && total < hi, "{}", table.join("\n"));
    }
    println!("{}", table.join("\n"));
}

#[test]
fn the_month_end_after_a_collapse_is_near_the_new_level_and_inside_an_informative_interval() {
    // The run: busy weeks around $50, a fall to a flat ~$8.4 eight days before the
    // origin, the month-end forecast on day 3 of the month.
    let mut report = Vec::new();
    for (n, seed) in [(120usize, 3u64), (400, 4), (400, 5)] {
        let origin = n - 1;
        let mut noise = Noise::new(seed);
        let y: Vec<f64> = (0..n + 40)
            .map(|i| {
                let z = noise.gauss();
                if i + 8 > origin {
                    8.4 * (1.0 + 0.01 * z)
                } else {
                    50.0 * (1.0 + 0.4 * ((i % 7) as f64 - 3.0) / 3.0) * (1.0 + 0.05 * z)
                }
            })
            .collect();
        // The series starts so that its last day is the 3rd of a month.
        let as_of = date(2026, 3, 3);
        let start = as_of - Days::new(origin as u64);
        let s = series(start, y[..n].iter().map(|v| Some(usage(*v))).collect());
        let m = month_end(&s, as_of).expect("enough history");
        let truth: f64 = y[origin - 2..origin - 2 + 31].iter().sum();
        let (total, lo, hi) = (to_f64(m.total), to_f64(m.lo80), to_f64(m.hi80));
        report.push(format!(
            "{n} days: total {total:.2} (80 %: {lo:.2} – {hi:.2}), truth {truth:.2}"
        ));
        assert!(lo < total && total < hi, "{}", report.join("\n"));
        assert!((total / truth - 1.0).abs() < 0.05, "{}", report.join("\n"));
        assert!(hi / total < 1.5, "{}", report.join("\n"));
    }
    println!("{}", report.join("\n"));
}
