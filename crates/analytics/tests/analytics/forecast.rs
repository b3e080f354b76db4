use chrono::{Datelike, Days};
use costwatch_analytics::forecast::{forecast_daily, month_end};
use costwatch_core::money::to_f64;
use costwatch_core::{DailyCost, Money};
use rust_decimal_macros::dec;

use crate::common::{date, money, seasonal, series, truncated, usage, weekly_factor};

#[test]
fn constant_series_is_reproduced_with_a_zero_width_interval() {
    let s = series(date(2026, 1, 1), vec![Some(usage(100.0)); 90]);
    let f = forecast_daily(&s, 14);
    assert_eq!(f.len(), 14);
    assert_eq!(f[0].date, date(2026, 4, 1));
    for p in &f {
        assert_eq!(p.mean, dec!(100));
        assert_eq!(
            (p.lo95, p.lo80, p.hi80, p.hi95),
            (p.mean, p.mean, p.mean, p.mean)
        );
    }
}

#[test]
fn seasonal_series_with_monthly_fee_is_reproduced() {
    let start = date(2026, 1, 1);
    let day = |i: usize| start + Days::new(i as u64);
    let cost = |d: chrono::NaiveDate| DailyCost {
        usage: money(1000.0 * weekly_factor(d)),
        recurring: if d.day() == 1 {
            dec!(5000)
        } else {
            Money::ZERO
        },
        ..Default::default()
    };
    let s = series(start, (0..100).map(|i| Some(cost(day(i)))).collect());
    let f = forecast_daily(&s, 45);
    assert_eq!(f.len(), 45);
    for p in &f {
        assert!(
            (p.mean - cost(p.date).total()).abs() <= dec!(0.01),
            "{p:?} vs {:?}",
            cost(p.date)
        );
    }
    // The fee on 1 May (beyond a month ahead) comes from an earlier month.
    assert!(
        f.iter()
            .any(|p| p.date == date(2026, 5, 1) && p.mean > dec!(5000))
    );
}

#[test]
fn eighty_percent_intervals_cover_about_eighty_percent_of_gaussian_noise() {
    let (s, _) = seasonal(date(2025, 1, 1), 400, 1000.0, 0.05, 21);
    let (mut inside80, mut inside95, mut total) = (0usize, 0usize, 0usize);
    for origin in (200..393).step_by(2) {
        for p in forecast_daily(&truncated(&s, origin), 7) {
            let actual = s.get(p.date).expect("observed").total();
            inside80 += usize::from(p.lo80 <= actual && actual <= p.hi80);
            inside95 += usize::from(p.lo95 <= actual && actual <= p.hi95);
            total += 1;
        }
    }
    let (c80, c95) = (
        inside80 as f64 / total as f64,
        inside95 as f64 / total as f64,
    );
    assert!((0.70..=0.90).contains(&c80), "80 % coverage {c80}");
    assert!((0.88..=0.995).contains(&c95), "95 % coverage {c95}");
}

#[test]
fn month_end_bounds_never_fall_below_the_spend_to_date() {
    // Sub-cent daily costs, as CUR lines sum to: the spend to date has more decimals than the
    // cents the bounds are rounded to.
    let (mut s, _) = seasonal(date(2025, 11, 1), 151, 1000.0, 0.05, 22); // to 31 March 2026
    for d in s.days.iter_mut().flatten() {
        d.usage += dec!(0.0041);
    }
    for as_of in [date(2026, 3, 10), date(2026, 3, 30), date(2026, 3, 31)] {
        let s = truncated(&s, (as_of - date(2025, 11, 1)).num_days() as usize + 1);
        let f = month_end(&s, as_of).expect("enough history");
        for b in [f.lo95, f.lo80, f.hi80, f.hi95] {
            assert!(b >= f.actual_to_date, "{as_of}: {b} < {}", f.actual_to_date);
        }
        if as_of == date(2026, 3, 31) {
            // Nothing left to forecast: the month is what was spent.
            assert_eq!([f.lo95, f.lo80, f.hi80, f.hi95], [f.total; 4], "{f:?}");
            assert_eq!(f.total, f.actual_to_date);
        }
    }
}

#[test]
fn month_end_is_actual_to_date_plus_remaining_forecast_with_an_aggregated_interval() {
    let (s, _) = seasonal(date(2025, 11, 1), 150, 1000.0, 0.05, 22); // to 30 March 2026
    let as_of = date(2026, 3, 10);
    let f = month_end(&s, as_of).expect("enough history");
    assert_eq!(f.month, date(2026, 3, 1));
    assert_eq!(f.as_of, as_of);
    assert_eq!(f.actual_to_date, s.month_to_date(as_of));
    assert_eq!(f.daily.len(), 21);
    assert_eq!(f.daily[0].date, date(2026, 3, 11));
    assert_eq!(f.daily[20].date, date(2026, 3, 31));
    assert_eq!(
        f.total,
        f.actual_to_date + f.daily.iter().map(|p| p.mean).sum::<Money>()
    );
    assert!(
        f.lo95 <= f.lo80 && f.lo80 <= f.total && f.total <= f.hi80 && f.hi80 <= f.hi95,
        "{f:?}"
    );
    let feb: Money = (1..=28)
        .map(|d| {
            s.get(date(2026, 2, d))
                .map(|c| c.total())
                .unwrap_or_default()
        })
        .sum();
    assert_eq!(f.previous_month_total, Some(feb));

    // Independent daily errors partly cancel in a sum: the total's interval is much narrower
    // than the sum of the daily intervals (which would assume every day errs the same way).
    let summed_daily: Money = f.daily.iter().map(|p| p.hi80 - p.lo80).sum();
    assert!(
        to_f64(f.hi80 - f.lo80) < 0.5 * to_f64(summed_daily),
        "{} vs {summed_daily}",
        f.hi80 - f.lo80
    );
}

#[test]
fn month_end_forecasts_days_not_yet_reported() {
    let (s, _) = seasonal(date(2026, 1, 1), 70, 1000.0, 0.0, 23); // to 11 March
    let f = month_end(&s, date(2026, 3, 13)).expect("enough history");
    assert_eq!(f.as_of, date(2026, 3, 11), "last day with data");
    assert_eq!(f.daily.first().map(|p| p.date), Some(date(2026, 3, 12)));
    assert_eq!(f.daily.len(), 20);
    // Noiseless: the month total is known exactly.
    let exact: f64 = (1..=31)
        .map(|d| (1000.0 * weekly_factor(date(2026, 3, d)) * 100.0).round() / 100.0)
        .sum();
    assert!(
        (to_f64(f.total) - exact).abs() < 0.05,
        "{} vs {exact}",
        f.total
    );
    // Last day of the month: nothing left to forecast.
    let (full, _) = seasonal(date(2026, 1, 1), 90, 1000.0, 0.05, 24); // to 31 March
    let done = month_end(&full, date(2026, 3, 31)).expect("enough history");
    assert!(done.daily.is_empty());
    assert_eq!(
        (done.total, done.lo95, done.hi95),
        (done.actual_to_date, done.total, done.total)
    );
}

#[test]
fn too_little_history_gives_no_forecast() {
    let s = series(date(2026, 3, 1), vec![Some(usage(100.0)); 10]);
    assert!(forecast_daily(&s, 7).is_empty());
    assert!(month_end(&s, date(2026, 3, 10)).is_none());
    assert!(
        month_end(&s, date(2026, 2, 10)).is_none(),
        "before the series"
    );
}

#[test]
fn a_rising_series_month_total_is_bias_corrected_and_inside_its_interval() {
    // +0.3 % a day with weekly seasonality: the level model lags, so without the bias
    // correction the point forecast sits below every back-tested outcome.
    let days: Vec<Option<DailyCost>> = (0..150)
        .map(|i| {
            let d = date(2026, 1, 1) + Days::new(i);
            Some(usage(1000.0 * 1.003_f64.powi(i as i32) * weekly_factor(d)))
        })
        .collect();
    let s = series(date(2026, 1, 1), days);
    let as_of = date(2026, 5, 10);
    let f = month_end(&s, as_of).expect("enough history");
    assert!(
        f.lo80 <= f.total && f.total <= f.hi80,
        "{} not in [{}, {}]",
        f.total,
        f.lo80,
        f.hi80
    );
    let exact: f64 = (1..=31)
        .map(|d| {
            let day = date(2026, 5, d);
            let i = (day - date(2026, 1, 1)).num_days() as i32;
            1000.0 * 1.003_f64.powi(i) * weekly_factor(day)
        })
        .sum();
    let err = (to_f64(f.total) - exact).abs() / exact;
    assert!(err < 0.01, "month total off by {:.2}%", err * 100.0);
}
