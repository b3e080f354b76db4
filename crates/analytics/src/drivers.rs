//! Drivers: what moved a scope's spend this month, for a month-end forecast alert or a budget
//! alert. A forecast says where the month is going; the reader's next question is why.
//!
//! The month so far is compared with the same days of last month (1–20 November with 1–20
//! October; the 29th to 31st of a longer month with the whole of a shorter one), as the
//! forecast and the budget count spend (credits in or out). A daily budget's day is compared
//! with the same weekday a week before ([`Span::Day`]): spend that follows the week (quiet
//! weekends) would make the day before a poor yardstick on a Monday. Each child's change
//! between the two windows is its contribution: the accounts, services, tag values and cost
//! category values the caller passes, and the scope's own charge types (usage, fees, tax,
//! credits: a credit that ran out raises net spend with no service using more). Unlike an
//! anomaly's root cause there is no model here: a month against a month is a difference people
//! can check in Cost Explorer.

use chrono::{Datelike, Days, Months, NaiveDate};
use costwatch_core::findings::{Drivers, RootCause};
use costwatch_core::money::to_f64;
use costwatch_core::series::month_last_day;
use costwatch_core::{DailyCost, DailySeries, Money};

use crate::forecast::{Credits, ForecastConfig};
use crate::root_cause::largest_first;

/// One bucket of a day's cost.
type Part = fn(&DailyCost) -> Money;

/// What a scope's drivers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Span {
    /// The month so far against the same days of last month ([`windows`]).
    MonthToDate,
    /// One day against the same weekday a week before: a daily budget's day.
    Day,
}

/// Days between a day and the one it is compared with ([`Span::Day`]).
pub const DAY_COMPARED_DAYS_BEFORE: u64 = 7;

impl Span {
    /// `(from, compared_from, compared_to)` for a window ending on `to`.
    pub fn windows(self, to: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate) {
        match self {
            Span::MonthToDate => windows(to),
            Span::Day => {
                let before = to - Days::new(DAY_COMPARED_DAYS_BEFORE);
                (to, before, before)
            }
        }
    }
}

/// The month so far up to `to` and the same days of last month: `(from, compared_from,
/// compared_to)`.
pub fn windows(to: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate) {
    let from = to.with_day(1).unwrap_or(to);
    let compared_from = from.checked_sub_months(Months::new(1)).unwrap_or(from);
    let day = compared_from
        .with_day(to.day())
        .unwrap_or_else(|| month_last_day(compared_from));
    (from, compared_from, day)
}

/// The scope's drivers over `span` up to `to`, largest first, at most `limit`; `children` are
/// `(dimension, value, series)` as in [`crate::root_cause::rank`]. A day a series lacks is a
/// day without spend: the data starts on `first_collected`. `None` when it starts after the
/// compared window does (there is nothing to compare with), when the scope's spend did not
/// change, or when no child moved its way.
pub fn rank(
    scope: &DailySeries,
    children: &[(String, String, DailySeries)],
    (span, first_collected, to): (Span, NaiveDate, NaiveDate),
    cfg: &ForecastConfig,
    limit: usize,
) -> Option<Drivers> {
    let (from, compared_from, compared_to) = span.windows(to);
    if first_collected > compared_from {
        return None;
    }
    let change_of = |s: &DailySeries, part: &dyn Fn(&DailyCost) -> Money| {
        s.sum_between(from, to, part) - s.sum_between(compared_from, compared_to, part)
    };
    let spend = |c: &DailyCost| cfg.spend(c);
    let change = change_of(scope, &spend);
    if change.is_zero() || limit == 0 {
        return None;
    }
    let charges: [(&str, Part); 4] = [
        ("usage", |c| c.usage),
        ("fees", |c| c.recurring),
        ("tax", |c| c.tax),
        ("credits", |c| c.credit),
    ];
    let charge_moves = charges
        .iter()
        .filter(|(name, _)| *name != "credits" || cfg.credits == Credits::Included)
        .map(|(name, part)| {
            (
                "charge".to_owned(),
                (*name).to_owned(),
                change_of(scope, part),
            )
        });
    let child_moves = children
        .iter()
        .map(|(dimension, value, s)| (dimension.clone(), value.clone(), change_of(s, &spend)));
    let rising = change > Money::ZERO;
    let mut causes: Vec<RootCause> = charge_moves
        .chain(child_moves)
        .filter(|(_, _, moved)| {
            if rising {
                *moved > Money::ZERO
            } else {
                *moved < Money::ZERO
            }
        })
        .map(|(dimension, value, contribution)| RootCause {
            dimension,
            value,
            contribution,
            share: (to_f64(contribution) / to_f64(change)).clamp(0.0, 1.0),
        })
        .collect();
    // "All of it was usage" tells the reader nothing; all of it credits, or fees, does.
    causes.retain(|c| !(c.dimension == "charge" && c.value == "usage" && c.contribution == change));
    largest_first(&mut causes, limit);
    (!causes.is_empty()).then_some(Drivers {
        from,
        to,
        compared_from,
        compared_to,
        change,
        causes,
    })
}
