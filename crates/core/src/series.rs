//! Daily cost per scope: the rollup every analytic reads.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::money::{Money, to_f64};
use crate::record::{CostBucket, CostMetric, CostRecord};
use crate::scope::{Scope, ScopeKind};

/// One day's cost of one scope, split by bucket so analytics can treat usage apart from fees,
/// tax and credits. Credits are negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCost {
    pub usage: Money,
    pub recurring: Money,
    pub tax: Money,
    pub credit: Money,
}

impl DailyCost {
    pub fn total(&self) -> Money {
        self.usage + self.recurring + self.tax + self.credit
    }

    /// Spend without credits: what was consumed, whatever was later refunded.
    pub fn gross(&self) -> Money {
        self.usage + self.recurring + self.tax
    }

    pub fn add(&mut self, bucket: CostBucket, amount: Money) {
        match bucket {
            CostBucket::Usage => self.usage += amount,
            CostBucket::Recurring => self.recurring += amount,
            CostBucket::Tax => self.tax += amount,
            CostBucket::Credit => self.credit += amount,
        }
    }

    pub fn merge(&mut self, other: &DailyCost) {
        self.usage += other.usage;
        self.recurring += other.recurring;
        self.tax += other.tax;
        self.credit += other.credit;
    }

    /// Takes `other` away bucket by bucket: what a whole leaves once its labelled parts are out.
    pub fn subtract(&mut self, other: &DailyCost) {
        self.usage -= other.usage;
        self.recurring -= other.recurring;
        self.tax -= other.tax;
        self.credit -= other.credit;
    }
}

/// A contiguous run of days for one scope; a day with no data is `None` (not zero: a missing
/// export is not a free day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailySeries {
    pub scope: Scope,
    pub start: NaiveDate,
    pub days: Vec<Option<DailyCost>>,
}

impl DailySeries {
    /// Lays `points` out from `start` to `end` inclusive; days outside are ignored.
    pub fn from_points(
        scope: Scope,
        start: NaiveDate,
        end: NaiveDate,
        points: &BTreeMap<NaiveDate, DailyCost>,
    ) -> Self {
        let days = start
            .iter_days()
            .take_while(|d| *d <= end)
            .map(|d| points.get(&d).copied())
            .collect();
        Self { scope, start, days }
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    pub fn date_at(&self, index: usize) -> NaiveDate {
        self.start + chrono::Days::new(index as u64)
    }

    /// Last day covered (the day before `start` for an empty series).
    pub fn end(&self) -> NaiveDate {
        self.start + chrono::Days::new(self.days.len() as u64) - chrono::Days::new(1)
    }

    pub fn get(&self, date: NaiveDate) -> Option<DailyCost> {
        let offset = (date - self.start).num_days();
        usize::try_from(offset)
            .ok()
            .and_then(|i| self.days.get(i).copied().flatten())
    }

    /// Totals as f64 for models, `None` where the day is missing.
    pub fn totals_f64(&self) -> Vec<Option<f64>> {
        self.map_f64(|d| d.total())
    }

    pub fn map_f64(&self, f: impl Fn(&DailyCost) -> Money) -> Vec<Option<f64>> {
        self.days
            .iter()
            .map(|d| d.as_ref().map(|d| to_f64(f(d))))
            .collect()
    }

    /// The days from `from` on (all of them when `from` is before the start).
    pub fn since(&self, from: NaiveDate) -> DailySeries {
        let skip = usize::try_from((from - self.start).num_days()).unwrap_or(0);
        DailySeries {
            scope: self.scope.clone(),
            start: self.start.max(from),
            days: self.days.iter().skip(skip).copied().collect(),
        }
    }

    /// The days to `to` inclusive (none when `to` is before the start).
    pub fn until(&self, to: NaiveDate) -> DailySeries {
        let keep = usize::try_from((to - self.start).num_days() + 1).unwrap_or(0);
        DailySeries {
            scope: self.scope.clone(),
            start: self.start,
            days: self.days.iter().take(keep).copied().collect(),
        }
    }

    /// The first day with data, if any.
    pub fn first_observed(&self) -> Option<NaiveDate> {
        let i = self.days.iter().position(Option::is_some)?;
        Some(self.date_at(i))
    }

    /// Sum of totals from the first of `date`'s month to `date` inclusive.
    pub fn month_to_date(&self, date: NaiveDate) -> Money {
        self.total_between(date.with_day(1).unwrap_or(date), date)
    }

    /// Net total from `first` to `date`, both included (a budget's period to date).
    pub fn total_between(&self, first: NaiveDate, date: NaiveDate) -> Money {
        self.sum_between(first, date, DailyCost::total)
    }

    /// `part` of each day from `first` to `date`, both included, summed (missing days add
    /// nothing): net, gross, or one bucket.
    pub fn sum_between(
        &self,
        first: NaiveDate,
        date: NaiveDate,
        part: impl Fn(&DailyCost) -> Money,
    ) -> Money {
        first
            .iter_days()
            .take_while(|d| *d <= date)
            .filter_map(|d| self.get(d))
            .map(|c| part(&c))
            .sum()
    }
}

/// The last day of `date`'s month (2028-02-29 for any day of February 2028).
pub fn month_last_day(date: NaiveDate) -> NaiveDate {
    date.with_day(1)
        .and_then(|first| first.checked_add_months(Months::new(1)))
        .and_then(|next| next.pred_opt())
        .unwrap_or(date)
}

/// Rolls records up into daily cost per scope for the scope kinds asked for.
pub fn rollup(
    records: &[CostRecord],
    metric: CostMetric,
    kinds: &[ScopeKind],
) -> BTreeMap<Scope, BTreeMap<NaiveDate, DailyCost>> {
    let mut out: BTreeMap<Scope, BTreeMap<NaiveDate, DailyCost>> = BTreeMap::new();
    for record in records {
        let (day, bucket, amount) = (record.day(), record.bucket(), record.cost(metric));
        for scope in Scope::all_for(record) {
            if kinds.contains(&scope.kind()) {
                out.entry(scope)
                    .or_default()
                    .entry(day)
                    .or_default()
                    .add(bucket, amount);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn since_keeps_the_days_from_a_date_on() {
        let points = BTreeMap::from([
            (day(2), DailyCost::default()),
            (day(4), DailyCost::default()),
        ]);
        let s = DailySeries::from_points(Scope::Org, day(1), day(5), &points);
        let tail = s.since(day(3));
        assert_eq!((tail.start, tail.end(), tail.len()), (day(3), day(5), 3));
        assert_eq!(tail.get(day(4)), s.get(day(4)));
        assert_eq!(tail.get(day(2)), None);
        assert_eq!(s.since(day(1)), s, "from the start: all of it");
        assert_eq!(
            s.since(day(1) - chrono::Days::new(3)),
            s,
            "before the start: all of it"
        );
        assert!(s.since(day(9)).is_empty());
    }

    #[test]
    fn until_keeps_the_days_to_a_date() {
        let points = BTreeMap::from([(day(2), DailyCost::default())]);
        let s = DailySeries::from_points(Scope::Org, day(1), day(5), &points);
        let head = s.until(day(3));
        assert_eq!((head.start, head.end(), head.len()), (day(1), day(3), 3));
        assert_eq!(head.get(day(2)), s.get(day(2)));
        assert_eq!(s.until(day(9)), s, "past the end: all of it");
        assert!(s.until(day(1) - chrono::Days::new(1)).is_empty());
        assert_eq!(s.since(day(2)).until(day(2)).len(), 1);
    }

    #[test]
    fn month_last_days() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(month_last_day(d("2026-11-20")), d("2026-11-30"));
        assert_eq!(month_last_day(d("2026-12-31")), d("2026-12-31"));
        assert_eq!(month_last_day(d("2028-02-03")), d("2028-02-29"));
        assert_eq!(month_last_day(d("2027-02-01")), d("2027-02-28"));
    }

    #[test]
    fn missing_days_stay_missing_and_month_to_date_sums_present_ones() {
        let points = BTreeMap::from([
            (
                day(1),
                DailyCost {
                    usage: dec!(10),
                    recurring: dec!(100),
                    ..Default::default()
                },
            ),
            (
                day(3),
                DailyCost {
                    usage: dec!(12),
                    credit: dec!(-2),
                    ..Default::default()
                },
            ),
        ]);
        let s = DailySeries::from_points(Scope::Org, day(1), day(4), &points);
        assert_eq!(s.len(), 4);
        assert_eq!(s.end(), day(4));
        assert_eq!(s.totals_f64(), vec![Some(110.0), None, Some(10.0), None]);
        assert_eq!(s.month_to_date(day(3)), dec!(120));
        assert_eq!(s.get(day(9)), None);
    }
}
