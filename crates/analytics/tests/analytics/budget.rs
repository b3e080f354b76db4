use costwatch_analytics::budget::{
    AutoAmount, Budget, auto_amount, default_thresholds, evaluate, thresholds,
};
use costwatch_analytics::forecast::month_end;
use costwatch_core::findings::{Threshold, ThresholdBasis};
use costwatch_core::{DailyCost, DailySeries, Money, Scope};
use rust_decimal_macros::dec;

use crate::common::{date, series, usage};

fn budget(amount: Money) -> Budget {
    Budget {
        name: "org-monthly".into(),
        scope: Scope::Org,
        period: Default::default(),
        start_month: None,
        amount,
        auto_adjust_months: None,
        planned_amounts: Default::default(),
        thresholds: default_thresholds(),
    }
}

/// Flat `per_day` from 1 February to 20 April 2026.
fn flat(per_day: f64) -> DailySeries {
    series(date(2026, 2, 1), vec![Some(usage(per_day)); 28 + 31 + 20])
}

fn crossed(b: &Budget, s: &DailySeries) -> Vec<(u32, ThresholdBasis)> {
    let as_of = date(2026, 4, 20);
    let f = month_end(s, as_of).expect("enough history");
    evaluate(b, s, Some(&f), as_of)
        .iter()
        .map(|c| (c.threshold.percent, c.threshold.basis))
        .collect()
}

#[test]
fn thresholds_cross_on_actual_and_forecast() {
    let b = budget(dec!(10000));
    // 20 × 300 = 6000 actual (60 %), forecast 9000.
    assert_eq!(
        crossed(&b, &flat(300.0)),
        vec![(50, ThresholdBasis::Actual)]
    );
    // 20 × 450 = 9000 actual (90 %), forecast 13500 (135 %).
    assert_eq!(
        crossed(&b, &flat(450.0)),
        vec![
            (50, ThresholdBasis::Actual),
            (80, ThresholdBasis::Actual),
            (100, ThresholdBasis::Forecast)
        ]
    );
    // 20 × 600 = 12000 actual (120 %): everything.
    assert_eq!(crossed(&b, &flat(600.0)).len(), 5);
}

#[test]
fn crossing_carries_breach_date_and_allowed_daily_spend() {
    let b = budget(dec!(10000));
    let s = flat(450.0);
    let as_of = date(2026, 4, 20);
    let f = month_end(&s, as_of).expect("enough history");
    let c = evaluate(&b, &s, Some(&f), as_of);
    let forecast_crossing = c
        .iter()
        .find(|c| c.threshold.basis == ThresholdBasis::Forecast)
        .expect("forecast 100 %");
    assert_eq!(forecast_crossing.actual, dec!(9000));
    assert_eq!(forecast_crossing.forecast, dec!(13500));
    assert!((forecast_crossing.percent_of_limit - 135.0).abs() < 1e-9);
    // 22 × 450 = 9900, 23 × 450 = 10350: the forecast reaches the limit on the 23rd.
    assert_eq!(forecast_crossing.breach_date, Some(date(2026, 4, 23)));
    // (10000 − 9000) / 10 days left.
    assert_eq!(forecast_crossing.allowed_daily_spend, Some(dec!(100)));
    assert_eq!(
        (forecast_crossing.period_start, forecast_crossing.period_end),
        (date(2026, 4, 1), date(2026, 4, 30))
    );

    // Already over: breach in the past (600 × 17 = 10200), nothing left to spend.
    let over = evaluate(&b, &flat(600.0), None, as_of);
    assert_eq!(over.len(), 4, "forecast thresholds need a forecast");
    assert_eq!(over[0].breach_date, Some(date(2026, 4, 17)));
    assert_eq!(over[0].allowed_daily_spend, Some(Money::ZERO));

    // On course to stay under: no breach date.
    let under = evaluate(
        &b,
        &flat(300.0),
        Some(&month_end(&flat(300.0), as_of).expect("history")),
        as_of,
    );
    assert_eq!(under[0].breach_date, None);
}

#[test]
fn credits_count_against_actual_spend() {
    let b = Budget {
        thresholds: vec![Threshold {
            percent: 100,
            basis: ThresholdBasis::Actual,
        }],
        ..budget(dec!(1000))
    };
    let gross_only = series(date(2026, 4, 1), vec![Some(usage(60.0)); 20]); // 1200
    assert_eq!(evaluate(&b, &gross_only, None, date(2026, 4, 20)).len(), 1);
    let with_credit = DailyCost {
        usage: dec!(60),
        credit: dec!(-20),
        ..Default::default()
    }; // 800 net
    let net = series(date(2026, 4, 1), vec![Some(with_credit); 20]);
    assert!(evaluate(&b, &net, None, date(2026, 4, 20)).is_empty());
}

#[test]
fn budget_config_defaults_thresholds_and_rejects_unknown_fields() {
    let b: Budget =
        serde_json::from_str(r#"{"name": "team", "scope": "account=123", "amount": "5000"}"#)
            .expect("valid");
    assert_eq!(b.scope, Scope::Account("123".into()));
    assert_eq!(b.thresholds, default_thresholds());
    assert_eq!(b.thresholds.len(), 5);
    assert!(
        serde_json::from_str::<Budget>(
            r#"{"name": "t", "scope": "org", "amount": "1", "ammount": "2"}"#
        )
        .is_err()
    );
    let json = serde_json::to_value(&b).expect("serialises");
    assert_eq!(json["scope"], "account=123");
}

/// A scope's days from 1 January 2026 to 31 March 2026, `per_day(day)` each (`None`: no cost).
fn scope_by_day(per_day: impl Fn(chrono::NaiveDate) -> Option<f64>) -> DailySeries {
    let start = date(2026, 1, 1);
    let days = start
        .iter_days()
        .take_while(|d| *d <= date(2026, 3, 31))
        .map(|d| per_day(d).map(usage))
        .collect();
    series(start, days)
}

#[test]
fn an_auto_adjusting_amount_averages_the_full_months_collected_since_the_scope_began() {
    use chrono::Datelike;
    let april = date(2026, 4, 1);
    // Collection began on 1 February: January is not a full month of data.
    let collected = scope_by_day(|d| (d >= date(2026, 2, 1)).then_some(1.0));
    let team = scope_by_day(|d| Some(if d.month() == 2 { 10.0 } else { 20.0 }));
    // February 28 × 10 = 280, March 31 × 20 = 620: (280 + 620) / 2.
    assert_eq!(
        auto_amount(&team, &collected, april, 3),
        Some(AutoAmount {
            amount: dec!(450.00),
            months: 2,
            since: date(2026, 2, 1)
        })
    );
    // One month asked: March alone.
    assert_eq!(
        auto_amount(&team, &collected, april, 1).map(|a| a.amount),
        Some(dec!(620.00))
    );
    // A team whose first cost is in March is not averaged with the empty February before it …
    let new_team = scope_by_day(|d| (d.month() == 3).then_some(20.0));
    assert_eq!(
        auto_amount(&new_team, &collected, april, 3).map(|a| (a.amount, a.months)),
        Some((dec!(620.00), 1))
    );
    // … but a quiet March after a busy February counts: (280 + 0) / 2.
    let went_quiet = scope_by_day(|d| (d.month() == 2).then_some(10.0));
    assert_eq!(
        auto_amount(&went_quiet, &collected, april, 3).map(|a| (a.amount, a.months)),
        Some((dec!(140.00), 2))
    );
    // A day of March never collected: March is not a full month, February alone counts.
    let gap = scope_by_day(|d| (d >= date(2026, 2, 1) && d != date(2026, 3, 15)).then_some(1.0));
    assert_eq!(
        auto_amount(&team, &gap, april, 3).map(|a| (a.amount, a.months)),
        Some((dec!(280.00), 1))
    );
    // Nothing before April: no amount yet.
    let april_only = scope_by_day(|_| None);
    assert_eq!(auto_amount(&april_only, &collected, april, 3), None);
}

#[test]
fn a_planned_amount_holds_its_month_and_no_other() {
    let b: Budget = serde_json::from_str(
        r#"{"name": "migration", "scope": "account=123", "amount": "10000",
            "planned_amounts": {"2026-12": "20000", "2027-01": "25000"}}"#,
    )
    .expect("valid");
    assert_eq!(b.planned_for(date(2026, 12, 1)), Some(dec!(20000)));
    assert_eq!(b.planned_for(date(2027, 1, 1)), Some(dec!(25000)));
    assert_eq!(b.planned_for(date(2026, 11, 1)), None);
    for (key, month) in [
        ("2027-01", true),
        ("2027-1", false),
        ("2027-13", false),
        ("Jan 2027", false),
    ] {
        assert_eq!(
            costwatch_analytics::budget::planned_month(key).is_some(),
            month,
            "{key}"
        );
    }
    let fixed = serde_json::to_value(budget(dec!(1))).expect("serialises");
    assert_eq!(fixed.get("planned_amounts"), None, "{fixed}");
}

#[test]
fn an_auto_adjusting_budget_reads_without_an_amount() {
    let b: Budget = serde_json::from_str(
        r#"{"name": "team", "scope": "tag=team|value=web", "auto_adjust_months": 3}"#,
    )
    .expect("valid");
    assert_eq!((b.amount, b.auto_adjust_months), (Money::ZERO, Some(3)));
    let json = serde_json::to_value(&b).expect("serialises");
    assert_eq!(json.get("amount"), None, "{json}");
}

mod extreme_amounts {
    //! Any budget the config check accepts (0.01 to 10^15) over any series the readers accept
    //! (each day within ±10^15 per line, here up to a thousand lines' worth) evaluates, with the
    //! month-end forecast, without an arithmetic overflow panic (issue 17).
    use super::*;
    use costwatch_core::money::max_amount;
    use proptest::prelude::*;

    fn day_amount() -> impl Strategy<Value = Money> {
        let bound = 100_000_000_000_000_000_000_i128; // ±10^18 dollars in cents: 1,000 lines
        prop_oneof![
            (-bound..=bound).prop_map(|cents| Money::from_i128_with_scale(cents, 2)),
            Just(max_amount() * Money::from(1_000)),
            Just(Money::ZERO),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn budgets_and_forecasts_never_overflow(
            budget_cents in 1i64..=100_000_000_000_000_000,
            days in proptest::collection::vec(day_amount(), 40..=80),
            percent in proptest::sample::select(vec![1u32, 50, 100, 120, 10_000, u32::MAX]),
        ) {
            let amount = Money::new(budget_cents, 2);
            prop_assert!(amount <= max_amount());
            let start = date(2026, 2, 1);
            let len = days.len() as u64;
            let series = series(
                start,
                days.into_iter()
                    .map(|m| Some(DailyCost { usage: m, ..Default::default() }))
                    .collect(),
            );
            let as_of = start + chrono::Days::new(len - 1);
            let b = Budget {
                thresholds: vec![Threshold { percent, basis: ThresholdBasis::Actual }],
                ..budget(amount)
            };
            let forecast = month_end(&series, as_of);
            let crossings = evaluate(&b, &series, forecast.as_ref(), as_of);
            for c in crossings {
                prop_assert!(c.percent_of_limit.is_finite() || c.percent_of_limit.is_nan());
            }
        }
    }
}

#[test]
fn a_quarterly_budget_counts_and_forecasts_its_quarter() {
    use costwatch_analytics::forecast::{ForecastConfig, period_end_with};
    use costwatch_core::findings::BudgetPeriod;
    let quarterly = Budget {
        period: BudgetPeriod::Quarterly,
        ..budget(dec!(25000))
    };
    // $300 a day from 1 February to 20 May 2026: April 1 to May 20 is 50 days, $15,000.
    let as_of = date(2026, 5, 20);
    let s = series(
        date(2026, 2, 1),
        vec![Some(usage(300.0)); 28 + 31 + 30 + 20],
    );
    let cfg = ForecastConfig::default();
    let bounds = (quarterly.period_start(as_of), quarterly.period_end(as_of));
    let q = period_end_with(&s, as_of, bounds, &cfg).expect("history");
    assert_eq!(
        (q.month, q.daily.last().map(|p| p.date)),
        (date(2026, 4, 1), Some(date(2026, 6, 30)))
    );
    assert_eq!(q.actual_to_date, dec!(15000));
    // 41 days to come at $300: $27,300 for the quarter.
    assert!((q.total - dec!(27300)).abs() < dec!(1), "{}", q.total);
    let crossings = evaluate(&quarterly, &s, Some(&q), as_of);
    let got: Vec<(u32, ThresholdBasis)> = crossings
        .iter()
        .map(|c| (c.threshold.percent, c.threshold.basis))
        .collect();
    assert_eq!(
        got,
        vec![
            (50, ThresholdBasis::Actual),
            (100, ThresholdBasis::Forecast)
        ]
    );
    let c = &crossings[0];
    assert_eq!(
        (c.period_start, c.period_end),
        (date(2026, 4, 1), date(2026, 6, 30))
    );
    assert_eq!(c.actual, dec!(15000));
    // $25,000 at $300 a day is reached on the quarter's 84th day.
    assert_eq!(c.breach_date, Some(date(2026, 6, 23)));
    assert_eq!(c.allowed_daily_spend, Some(dec!(243.90)));

    // May's month-end forecast does not stand in for the quarter's, nor April's (which starts
    // on the same day) for a quarterly budget on 20 April.
    let may = month_end(&s, as_of).expect("history");
    assert!(
        evaluate(&quarterly, &s, Some(&may), as_of)
            .iter()
            .all(|c| c.forecast_pending && c.threshold.basis == ThresholdBasis::Actual)
    );
    let april_20 = date(2026, 4, 20);
    let april = month_end(&s, april_20).expect("history");
    assert_eq!(april.month, date(2026, 4, 1));
    let c = thresholds(&quarterly, &s, Some(&april), april_20);
    assert!(c.iter().all(|(c, _)| c.forecast_pending), "{c:?}");
}

#[test]
fn an_annual_budget_counts_from_january() {
    use costwatch_analytics::forecast::{ForecastConfig, period_end_with};
    use costwatch_core::findings::BudgetPeriod;
    let annual = Budget {
        period: BudgetPeriod::Annually,
        ..budget(dec!(100000))
    };
    let as_of = date(2026, 5, 20);
    // From 1 December 2025: December's $9,300 is last year's.
    let s = series(date(2025, 12, 1), vec![Some(usage(300.0)); 31 + 140]);
    let bounds = (annual.period_start(as_of), annual.period_end(as_of));
    let y = period_end_with(&s, as_of, bounds, &ForecastConfig::default()).expect("history");
    assert_eq!(y.actual_to_date, dec!(42000));
    assert!((y.total - dec!(109500)).abs() < dec!(10), "{}", y.total);
    let crossings = evaluate(&annual, &s, Some(&y), as_of);
    assert_eq!(crossings.len(), 1, "{crossings:?}");
    assert_eq!(crossings[0].threshold.basis, ThresholdBasis::Forecast);
    assert_eq!(crossings[0].period_end, date(2026, 12, 31));
    assert!((crossings[0].percent_of_limit - 109.5).abs() < 0.1);
    assert!(
        thresholds(&annual, &s, Some(&y), as_of)
            .iter()
            .all(|(c, _)| c.actual == dec!(42000))
    );
}

/// A fiscal year from April: on 20 May 2026 the year began on 1 April and ends on 31 March
/// 2027, and only April and May count.
#[test]
fn an_annual_budget_can_start_in_april() {
    use costwatch_analytics::forecast::{ForecastConfig, period_end_with};
    use costwatch_core::findings::BudgetPeriod;
    let fiscal = Budget {
        period: BudgetPeriod::Annually,
        start_month: Some(4),
        ..budget(dec!(100000))
    };
    let as_of = date(2026, 5, 20);
    let s = series(
        date(2026, 2, 1),
        vec![Some(usage(300.0)); 28 + 31 + 30 + 20],
    );
    let bounds = (fiscal.period_start(as_of), fiscal.period_end(as_of));
    assert_eq!(bounds, (date(2026, 4, 1), date(2027, 3, 31)));
    let y = period_end_with(&s, as_of, bounds, &ForecastConfig::default()).expect("history");
    let all = thresholds(&fiscal, &s, Some(&y), as_of);
    let c = &all[0].0;
    assert_eq!((c.period_start, c.period_end), bounds);
    assert_eq!(c.actual, dec!(15000));
    // 315 days to come at $300 on top of $15,000: $109,500, over the $100,000.
    assert!(
        (c.forecast - dec!(109500)).abs() < dec!(10),
        "{}",
        c.forecast
    );
    assert!(
        all.iter()
            .any(|(c, crossed)| *crossed && c.threshold.basis == ThresholdBasis::Forecast)
    );
}
