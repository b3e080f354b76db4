use chrono::{Datelike, Days};
use costwatch_analytics::detect::{DetectorConfig, detect_latest, score_series};
use costwatch_core::findings::Direction;
use costwatch_core::money::to_f64;
use costwatch_core::{DailyCost, Money};
use rust_decimal_macros::dec;

use crate::common::{Noise, date, seasonal, series, truncated, usage};

fn anomalous_days(s: &costwatch_core::DailySeries, cfg: &DetectorConfig) -> Vec<chrono::NaiveDate> {
    score_series(s, cfg)
        .iter()
        .filter(|d| d.anomalous)
        .map(|d| d.date)
        .collect()
}

#[test]
fn planted_spike_is_found_on_its_day_with_the_baseline_as_expected() {
    let (mut s, base) = seasonal(date(2026, 1, 1), 120, 1000.0, 0.03, 1);
    let spike = 100;
    s.days[spike] = Some(usage(base[spike] * 3.0)); // +200 %
    let cfg = DetectorConfig::default();

    assert_eq!(anomalous_days(&s, &cfg), vec![s.date_at(spike)]);

    let a = detect_latest(&truncated(&s, spike + 1), &cfg).expect("spike detected");
    assert_eq!(a.date, s.date_at(spike));
    assert_eq!(a.start_date, s.date_at(spike));
    assert_eq!(a.direction, Direction::Rise);
    let expected = to_f64(a.expected);
    assert!(
        (expected - base[spike]).abs() < 0.05 * base[spike],
        "expected {expected} vs baseline {}",
        base[spike]
    );
    assert!(
        a.impact_pct.is_some_and(|p| p > 150.0),
        "{:?}",
        a.impact_pct
    );
    assert!(a.score > 0.9 && a.score <= 1.0);
    assert!(a.actual > a.upper && a.lower < a.expected);
    assert!(a.root_causes.is_empty());
    // The day after the spike, back to normal: no anomaly.
    assert!(detect_latest(&truncated(&s, spike + 2), &cfg).is_none());
}

#[test]
fn weekly_seasonal_series_without_spikes_never_alerts() {
    for seed in [2, 3, 4] {
        let (s, _) = seasonal(date(2026, 1, 1), 120, 1000.0, 0.05, seed);
        let scores = score_series(&s, &DetectorConfig::default());
        assert!(
            scores.len() >= 90,
            "most days are scored, got {}",
            scores.len()
        );
        assert!(
            scores.iter().all(|d| !d.anomalous),
            "seed {seed}: {:?}",
            scores.iter().find(|d| d.anomalous)
        );
    }
    let (s, _) = seasonal(date(2026, 1, 1), 120, 1000.0, 0.05, 2);
    let scores = score_series(&s, &DetectorConfig::default());
    // Scores are in [0, 1] and expected tracks the weekly shape (weekend below weekday).
    assert!(scores.iter().all(|d| (0.0..=1.0).contains(&d.score)));
    let sat = scores
        .iter()
        .rev()
        .find(|d| d.date.weekday() == chrono::Weekday::Sat)
        .expect("a Saturday");
    let wed = scores
        .iter()
        .rev()
        .find(|d| d.date.weekday() == chrono::Weekday::Wed)
        .expect("a Wednesday");
    assert!(sat.expected < wed.expected * dec!(0.6));
}

#[test]
fn first_of_month_fees_in_recurring_do_not_alert() {
    let (mut s, _) = seasonal(date(2026, 1, 1), 150, 1000.0, 0.03, 3);
    for (i, day) in s.days.iter_mut().enumerate() {
        if let Some(d) = day
            && (date(2026, 1, 1) + Days::new(i as u64)).day() == 1
        {
            d.recurring = dec!(5000);
            d.tax = dec!(300);
        }
    }
    let cfg = DetectorConfig::default();
    let scores = score_series(&s, &cfg);
    assert!(
        scores.iter().all(|d| !d.anomalous),
        "{:?}",
        scores.iter().find(|d| d.anomalous)
    );
    let apr1 = scores
        .iter()
        .find(|d| d.date == date(2026, 4, 1))
        .expect("1 April scored");
    assert!(
        apr1.expected > dec!(5800) && apr1.expected < dec!(6700),
        "{apr1:?}"
    );

    // Control: the same money booked as usage is a spike every month.
    let mut as_usage = s.clone();
    for d in as_usage.days.iter_mut().flatten() {
        d.usage += d.recurring + d.tax;
        d.recurring = Money::ZERO;
        d.tax = Money::ZERO;
    }
    assert!(anomalous_days(&as_usage, &cfg).contains(&date(2026, 4, 1)));

    // A fee that doubles is still caught.
    let apr1_index = 31 + 28 + 31;
    if let Some(d) = s.days[apr1_index].as_mut() {
        d.recurring = dec!(10000);
    }
    assert!(detect_latest(&truncated(&s, apr1_index + 1), &cfg).is_some());
}

#[test]
fn level_shift_alerts_at_its_start_and_is_normal_two_weeks_later() {
    let (mut s, _) = seasonal(date(2026, 1, 1), 120, 1000.0, 0.03, 4);
    let shift = 80;
    for day in s.days.iter_mut().skip(shift).flatten() {
        day.usage += dec!(800); // a new always-on workload
    }
    let cfg = DetectorConfig::default();

    let first = detect_latest(&truncated(&s, shift + 1), &cfg).expect("step detected");
    assert_eq!(first.start_date, s.date_at(shift));
    let third = detect_latest(&truncated(&s, shift + 3), &cfg).expect("still anomalous");
    assert_eq!(third.start_date, s.date_at(shift), "one run, one alert");

    assert!(detect_latest(&truncated(&s, shift + 15), &cfg).is_none());
    let alerts = anomalous_days(&s, &cfg);
    assert!(
        alerts
            .iter()
            .all(|d| *d >= s.date_at(shift) && *d <= s.date_at(shift + 9)),
        "{alerts:?}"
    );
    assert!(alerts.len() <= 9, "{alerts:?}");
}

#[test]
fn missing_days_are_skipped_not_read_as_zero() {
    let (mut s, _) = seasonal(date(2026, 1, 1), 120, 1000.0, 0.04, 5);
    let mut noise = Noise::new(50);
    for day in s.days.iter_mut().take(95) {
        if noise.uniform() < 0.15 {
            *day = None;
        }
    }
    for day in &mut s.days[95..105] {
        *day = None; // a ten-day outage of the export
    }
    let cfg = DetectorConfig {
        detect_falls: true,
        ..DetectorConfig::default()
    };
    let scores = score_series(&s, &cfg);
    assert!(
        scores.iter().all(|d| !d.anomalous),
        "{:?}",
        scores.iter().find(|d| d.anomalous)
    );
    assert!(
        scores.iter().all(|d| s.get(d.date).is_some()),
        "missing days get no score"
    );
    assert!(
        scores.iter().any(|d| d.date == s.date_at(105)),
        "the day after the gap is scored"
    );

    // Control: the same gaps as zeros would look like a surge when data comes back.
    let mut zeros = s.clone();
    for day in &mut zeros.days {
        day.get_or_insert_with(DailyCost::default);
    }
    assert!(!anomalous_days(&zeros, &DetectorConfig::default()).is_empty());
}

#[test]
fn falls_alert_only_when_enabled() {
    let (mut s, base) = seasonal(date(2026, 1, 1), 101, 1000.0, 0.03, 6);
    s.days[100] = Some(usage(base[100] * 0.2));
    assert!(detect_latest(&s, &DetectorConfig::default()).is_none());
    let cfg = DetectorConfig {
        detect_falls: true,
        ..DetectorConfig::default()
    };
    let a = detect_latest(&s, &cfg).expect("fall detected");
    assert_eq!(a.direction, Direction::Fall);
    assert!(a.impact < Money::ZERO);
    assert!(a.actual < a.lower);
}

#[test]
fn first_charge_on_a_new_scope_alerts_above_the_floor_only() {
    let cfg = DetectorConfig::default(); // floor $10
    for prefix in [None, Some(DailyCost::default())] {
        let with_first = |amount: f64| {
            let mut days = vec![prefix; 30];
            days.push(Some(usage(amount)));
            series(date(2026, 3, 1), days)
        };
        let a = detect_latest(&with_first(15.0), &cfg).expect("new spend above the floor");
        assert_eq!(a.expected, Money::ZERO);
        assert_eq!(a.start_date, date(2026, 3, 31));
        assert_eq!(a.impact_pct, None);
        assert!(
            detect_latest(&with_first(5.0), &cfg).is_none(),
            "below the floor"
        );
        let strict = DetectorConfig {
            new_spend_floor: dec!(20),
            ..cfg.clone()
        };
        assert!(detect_latest(&with_first(15.0), &strict).is_none());
    }
    // A scope with history is judged by the usual gates: $15 over nothing on a $1000 day is noise.
    let (mut s, _) = seasonal(date(2026, 1, 1), 60, 1000.0, 0.03, 7);
    if let Some(d) = s.days[59].as_mut() {
        d.usage += dec!(15);
    }
    assert!(detect_latest(&s, &cfg).is_none());
}

#[test]
fn flat_series_does_not_alert_on_cents() {
    let days = (0..90)
        .map(|i| Some(usage(100.0 + if i % 2 == 0 { 0.01 } else { 0.0 })))
        .collect();
    let mut s = series(date(2026, 1, 1), days);
    s.days[89] = Some(usage(101.0));
    let cfg = DetectorConfig {
        min_impact: Money::ZERO,
        min_pct: 0.0,
        ..DetectorConfig::default()
    };
    assert!(
        detect_latest(&s, &cfg).is_none(),
        "a dollar on a flat $100 is within the floor"
    );
    s.days[89] = Some(usage(130.0));
    assert!(detect_latest(&s, &DetectorConfig::default()).is_some());
}
