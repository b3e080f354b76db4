use chrono::{Datelike, Days, NaiveDate, Weekday};
use costwatch_analytics::drivers::{Span, rank, windows};
use costwatch_analytics::forecast::{Credits, ForecastConfig};
use costwatch_core::{DailyCost, DailySeries, Money, Scope};
use rust_decimal_macros::dec;

use crate::common::date;

/// A daily series from `start`: `f(day)` each day.
fn series(
    scope: Scope,
    start: NaiveDate,
    days: u64,
    f: impl Fn(NaiveDate) -> DailyCost,
) -> DailySeries {
    DailySeries {
        scope,
        start,
        days: (0..days).map(|i| Some(f(start + Days::new(i)))).collect(),
    }
}

fn usage(amount: Money) -> DailyCost {
    DailyCost {
        usage: amount,
        ..Default::default()
    }
}

fn merged(scope: Scope, parts: &[&DailySeries]) -> DailySeries {
    let mut out = parts[0].clone();
    out.scope = scope;
    for part in &parts[1..] {
        for (day, cost) in out.days.iter_mut().zip(&part.days) {
            if let (Some(day), Some(cost)) = (day.as_mut(), cost) {
                day.merge(cost);
            }
        }
    }
    out
}

/// The month so far's drivers up to `to`, with the data from `start`, at the default settings.
fn month_to_date(
    org: &DailySeries,
    children: &[(String, String, DailySeries)],
    start: NaiveDate,
    to: NaiveDate,
) -> Option<costwatch_core::findings::Drivers> {
    let days = (Span::MonthToDate, start, to);
    rank(org, children, days, &ForecastConfig::default(), 5)
}

#[test]
fn the_month_so_far_is_compared_with_the_same_days_of_last_month() {
    assert_eq!(
        windows(date(2026, 11, 20)),
        (date(2026, 11, 1), date(2026, 10, 1), date(2026, 10, 20))
    );
    // The last days of a longer month against the whole of a shorter one.
    assert_eq!(
        windows(date(2026, 3, 31)),
        (date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 28))
    );
    assert_eq!(windows(date(2024, 3, 30)).2, date(2024, 2, 29));
    assert_eq!(
        windows(date(2027, 1, 1)),
        (date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 1))
    );
}

/// October and November to the 20th: web's account doubles from 1 November, data's stays, and
/// a $30-a-day credit ends with October. Net spend rose by 20 × ($100 + $30).
#[test]
fn the_account_that_doubled_and_the_credit_that_ended_explain_the_rise() {
    let (start, to) = (date(2026, 10, 1), date(2026, 11, 20));
    let november = |d: NaiveDate| d >= date(2026, 11, 1);
    let days = (to - start).num_days() as u64 + 1;
    let web = series(Scope::Account("web".into()), start, days, |d| {
        usage(if november(d) { dec!(200) } else { dec!(100) })
    });
    let data = series(Scope::Account("data".into()), start, days, |_| {
        usage(dec!(300))
    });
    let credit = series(Scope::Account("data".into()), start, days, |d| DailyCost {
        credit: if november(d) { dec!(0) } else { dec!(-30) },
        ..Default::default()
    });
    let data = merged(Scope::Account("data".into()), &[&data, &credit]);
    let org = merged(Scope::Org, &[&web, &data]);
    let children = vec![
        ("account".to_owned(), "web".to_owned(), web),
        ("account".to_owned(), "data".to_owned(), data),
    ];
    let d = month_to_date(&org, &children, start, to).expect("drivers");
    assert_eq!(
        (d.from, d.compared_from, d.compared_to),
        (date(2026, 11, 1), start, date(2026, 10, 20))
    );
    assert_eq!(d.change, dec!(2600));
    let found: Vec<(&str, &str, Money)> = d
        .causes
        .iter()
        .map(|c| (c.dimension.as_str(), c.value.as_str(), c.contribution))
        .collect();
    // The account that doubled first, then the ended credit (as a charge type, and as the
    // account it was on), and usage, which rose by the web account's $2,000.
    assert_eq!(
        found,
        vec![
            ("account", "web", dec!(2000)),
            ("charge", "usage", dec!(2000)),
            ("account", "data", dec!(600)),
            ("charge", "credits", dec!(600)),
        ]
    );
    let share = d.causes[0].share;
    assert!((share - 2000.0 / 2600.0).abs() < 1e-9, "{share}");

    // Counting spend gross (credits excluded, as the forecast can be set to), the credit is no
    // driver and the change is the usage alone, which is then no news.
    let gross = ForecastConfig {
        credits: Credits::Excluded,
    };
    let d = rank(&org, &children, (Span::MonthToDate, start, to), &gross, 5).expect("drivers");
    assert_eq!(d.change, dec!(2000));
    let found: Vec<&str> = d.causes.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(found, vec!["web"]);
}

#[test]
fn a_fall_is_explained_by_what_fell_only() {
    let (start, to) = (date(2026, 10, 1), date(2026, 11, 10));
    let days = (to - start).num_days() as u64 + 1;
    let november = |d: NaiveDate| d >= date(2026, 11, 1);
    let batch = series(Scope::Service("Batch".into()), start, days, |d| {
        usage(if november(d) { dec!(20) } else { dec!(80) })
    });
    let s3 = series(Scope::Service("S3".into()), start, days, |d| {
        usage(if november(d) { dec!(15) } else { dec!(10) })
    });
    let org = merged(Scope::Org, &[&batch, &s3]);
    let children = vec![
        ("service".to_owned(), "Batch".to_owned(), batch),
        ("service".to_owned(), "S3".to_owned(), s3),
    ];
    let d = month_to_date(&org, &children, start, to).expect("drivers");
    assert_eq!(d.change, dec!(-550));
    let found: Vec<(&str, Money)> = d
        .causes
        .iter()
        .map(|c| (c.value.as_str(), c.contribution))
        .collect();
    assert_eq!(found, vec![("Batch", dec!(-600))]);
    assert_eq!(d.causes[0].share, 1.0);
}

/// A service used on some days only has no rollup on the others: those days cost nothing.
#[test]
fn days_without_spend_count_as_zero() {
    let (start, to) = (date(2026, 10, 1), date(2026, 11, 20));
    let days = (to - start).num_days() as u64 + 1;
    let steady = series(Scope::Service("S3".into()), start, days, |_| {
        usage(dec!(10))
    });
    let mut batch = series(Scope::Service("Batch".into()), start, days, |_| {
        usage(dec!(50))
    });
    // Batch ran on weekdays in October and every day in November.
    for (i, day) in batch.days.iter_mut().enumerate() {
        let d = start + Days::new(i as u64);
        if d < date(2026, 11, 1) && matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            *day = None;
        }
    }
    let org = merged(Scope::Org, &[&steady, &batch]);
    let children = vec![
        ("service".to_owned(), "S3".to_owned(), steady),
        ("service".to_owned(), "Batch".to_owned(), batch),
    ];
    let d = month_to_date(&org, &children, start, to).expect("drivers");
    // 1–20 October has six weekend days.
    assert_eq!(d.change, dec!(300));
    let found: Vec<(&str, Money)> = d
        .causes
        .iter()
        .map(|c| (c.value.as_str(), c.contribution))
        .collect();
    assert_eq!(found, vec![("Batch", dec!(300))]);
}

#[test]
fn without_last_months_days_there_is_nothing_to_compare_with() {
    // The data starts on 5 October: 1–4 October are not known to be zero.
    let (start, to) = (date(2026, 10, 5), date(2026, 11, 20));
    let days = (to - start).num_days() as u64 + 1;
    let org = series(Scope::Org, start, days, |_| usage(dec!(100)));
    let child = series(Scope::Account("a".into()), start, days, |_| {
        usage(dec!(100))
    });
    let children = vec![("account".to_owned(), "a".to_owned(), child)];
    assert_eq!(month_to_date(&org, &children, start, to), None);
    // Had the data started on 1 October, 1–4 October would be days without spend.
    let from_the_first = (Span::MonthToDate, date(2026, 10, 1), to);
    let d = rank(
        &org,
        &children,
        from_the_first,
        &ForecastConfig::default(),
        5,
    );
    assert_eq!(d.map(|d| d.change), Some(dec!(400)));
    // With October whole but the same spend, nothing changed, so there is nothing to tell.
    let start = date(2026, 10, 1);
    let days = (to - start).num_days() as u64 + 1;
    let org = series(Scope::Org, start, days, |_| usage(dec!(100)));
    assert_eq!(month_to_date(&org, &[], start, to), None);
}

/// A daily budget's day against the same weekday a week before: a Monday's batch account is
/// named, not the weekend's quiet, and the data must reach back to that day.
#[test]
fn a_day_is_compared_with_the_same_weekday_a_week_before() {
    let (start, to) = (date(2026, 11, 1), date(2026, 11, 16));
    assert_eq!(to.weekday(), Weekday::Mon);
    assert_eq!(
        Span::Day.windows(to),
        (to, date(2026, 11, 9), date(2026, 11, 9))
    );
    let days = (to - start).num_days() as u64 + 1;
    let weekend = |d: NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    // Web follows the week; batch ran away on the 16th.
    let web = series(Scope::Account("web".into()), start, days, |d| {
        usage(if weekend(d) { dec!(20) } else { dec!(100) })
    });
    let batch = series(Scope::Account("batch".into()), start, days, |d| {
        usage(if d == to { dec!(450) } else { dec!(50) })
    });
    let org = merged(Scope::Org, &[&web, &batch]);
    let children = vec![
        ("account".to_owned(), "web".to_owned(), web),
        ("account".to_owned(), "batch".to_owned(), batch),
    ];
    let cfg = ForecastConfig::default();
    let d = rank(&org, &children, (Span::Day, start, to), &cfg, 5).expect("drivers");
    assert_eq!(
        (d.from, d.to, d.compared_from, d.compared_to),
        (to, to, date(2026, 11, 9), date(2026, 11, 9))
    );
    assert_eq!(d.change, dec!(400));
    let named: Vec<_> = d
        .causes
        .iter()
        .map(|c| (c.value.as_str(), c.contribution))
        .collect();
    assert_eq!(named, vec![("batch", dec!(400))]);
    // Against the day before (a Sunday) web would have risen by $80 too: not what moved it.
    // Data from the 10th cannot say what the 9th was.
    let late = (Span::Day, date(2026, 11, 10), to);
    assert_eq!(rank(&org, &children, late, &cfg, 5), None);
}
