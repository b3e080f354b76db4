//! What the detector and the forecaster share about a series' calendar-driven part.
//!
//! * [`Parts`]: a series split into flow (usage) and calendar-driven charges, as f64.
//! * [`calendar_expected`]: the part that follows the month (recurring fees, RI/Savings Plans
//!   charges, tax booked on the 1st): the same day of last month, re-levelled by the current
//!   daily run-rate of such charges.
//!
//! Both only read values at indices up to a given point, so callers control look-ahead.

use chrono::{Datelike, Days, Months, NaiveDate};
use costwatch_core::DailySeries;

use crate::stats::median;

/// One series split into what the models need, as f64, `None` where the day is missing.
pub(crate) struct Parts {
    pub start: NaiveDate,
    /// Weekday (Monday = 0) of `start`, so index `i` falls on `(start_wd + i) % 7`.
    pub start_wd: usize,
    /// Weekly-driven spend.
    pub flow: Vec<Option<f64>>,
    /// Month-driven spend: recurring + tax.
    pub calendar: Vec<Option<f64>>,
    /// The quantity judged or forecast (flow + calendar).
    pub actual: Vec<Option<f64>>,
}

impl Parts {
    /// `with_credits` puts credits into the flow (the forecaster predicts net spend); without it
    /// they are left out altogether (the detector judges gross spend).
    pub fn new(series: &DailySeries, with_credits: bool) -> Self {
        let flow = series.map_f64(|d| {
            if with_credits {
                d.usage + d.credit
            } else {
                d.usage
            }
        });
        let calendar = series.map_f64(|d| d.recurring + d.tax);
        Self::from_split(series.start, flow, calendar)
    }

    /// A plain series already split into `flow` and `calendar` (the same length).
    pub fn from_split(
        start: NaiveDate,
        flow: Vec<Option<f64>>,
        calendar: Vec<Option<f64>>,
    ) -> Self {
        let actual = flow
            .iter()
            .zip(&calendar)
            .map(|(f, c)| Some((*f)? + (*c)?))
            .collect();
        Self {
            start,
            start_wd: start.weekday().num_days_from_monday() as usize,
            flow,
            calendar,
            actual,
        }
    }

    pub fn len(&self) -> usize {
        self.actual.len()
    }

    pub fn date(&self, index: usize) -> NaiveDate {
        self.start + Days::new(index as u64)
    }

    pub fn weekday(&self, index: usize) -> usize {
        (self.start_wd + index) % 7
    }

    /// Index of `date`, if it is on or after the start (it may be past the end).
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        usize::try_from((date - self.start).num_days()).ok()
    }
}

/// Median of the observed `values` in `[lo, hi]` (inclusive, clipped to the slice).
fn median_between(values: &[Option<f64>], lo: usize, hi: usize) -> Option<f64> {
    let hi = hi.min(values.len().checked_sub(1)?);
    let obs: Vec<f64> = (lo..=hi)
        .filter_map(|i| values.get(i).copied().flatten())
        .collect();
    median(&obs)
}

/// Current daily run-rate of calendar-driven charges: median of the 7 days up to `last`.
pub(crate) fn calendar_level(parts: &Parts, last: usize) -> Option<f64> {
    median_between(&parts.calendar, last.saturating_sub(6), last)
}

/// Expected calendar-driven amount on `target`, from data at indices `..= last` only.
///
/// Reference day = the same day of the month one month earlier (clamped to that month's last
/// day, chrono's rule: 29–31 March all refer to 28 February), or further months back when that
/// day is after `last` (long horizons) or missing. Its *excess* over the typical day around it
/// (a fee on the 1st) is added to the current run-rate (daily Savings Plans fees that changed
/// since). `None` when no reference day lies inside the data: the charge cannot be predicted.
pub(crate) fn calendar_expected(parts: &Parts, target: NaiveDate, last: usize) -> Option<f64> {
    let last_date = parts.date(last);
    let now = calendar_level(parts, last);
    for k in 1..=12 {
        let reference = target.checked_sub_months(Months::new(k))?;
        if reference > last_date {
            continue;
        }
        let r = parts.index_of(reference)?;
        if let Some(expected) = relevelled(parts, r, last, now) {
            return Some(expected);
        }
    }
    None
}

/// The reference day `r`'s calendar-driven amount as an expectation: its excess over the days
/// around it (up to `last`) on top of the current run-rate `now`. `None` when `r` is missing.
fn relevelled(parts: &Parts, r: usize, last: usize, now: Option<f64>) -> Option<f64> {
    let value = parts.calendar.get(r).copied().flatten()?;
    let around =
        median_between(&parts.calendar, r.saturating_sub(3), (r + 3).min(last)).unwrap_or(value);
    Some(now.map_or(value, |level| level + (value - around)))
}

/// [`calendar_expected`] for a back-test day whose reference lies before the data
/// ([`reference_before_start`]): the same day of the first later month within `..= known`
/// stands in for the earlier one, re-levelled by the run-rate at `last` as usual. A fee's
/// change from one month to the next errs as much read forward as backward, so the back-test
/// keeps the day with an error like the forecast's own; left out, the whole fee was its error.
pub(crate) fn calendar_expected_ahead(
    parts: &Parts,
    target: NaiveDate,
    last: usize,
    known: usize,
) -> Option<f64> {
    let now = calendar_level(parts, last);
    (1..=12)
        .map_while(|k| target.checked_add_months(Months::new(k)))
        .take_while(|reference| *reference <= parts.date(known))
        .find_map(|reference| relevelled(parts, parts.index_of(reference)?, known, now))
}

/// Whether [`calendar_expected`] for `target`, from data at indices `..= last`, looks for its
/// reference day before the series' first day: the data start too late to say what that day of
/// the month brings (a fee on the 1st read from a history that starts on the 2nd).
pub(crate) fn reference_before_start(parts: &Parts, target: NaiveDate, last: usize) -> bool {
    let last_date = parts.date(last);
    (1..=12)
        .filter_map(|k| target.checked_sub_months(Months::new(k)))
        .find(|reference| *reference <= last_date)
        .is_some_and(|reference| reference < parts.start)
}

/// The calendar part's own errors on the day of the month of `target`: for each of the same day
/// in up to twelve earlier months within `..= last`, its calendar-driven amount less what
/// [`calendar_expected`] said from the days before it. A fee that changes from month to month
/// (tax that follows usage) errs by its changes; a fixed fee by nothing.
pub(crate) fn calendar_errors(parts: &Parts, target: NaiveDate, last: usize) -> Vec<f64> {
    (1..=12)
        .filter_map(|k| {
            let day = target.checked_sub_months(Months::new(k))?;
            let r = parts.index_of(day).filter(|r| (1..=last).contains(r))?;
            let actual = parts.calendar.get(r).copied().flatten()?;
            Some(actual - calendar_expected(parts, day, r - 1)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::{DailyCost, Scope};
    use rust_decimal::Decimal;

    fn series(start: NaiveDate, usage: &[f64], recurring: &[f64]) -> DailySeries {
        let days = usage
            .iter()
            .zip(recurring)
            .map(|(u, r)| {
                Some(DailyCost {
                    usage: Decimal::from_f64_retain(*u).unwrap_or_default(),
                    recurring: Decimal::from_f64_retain(*r).unwrap_or_default(),
                    ..Default::default()
                })
            })
            .collect();
        DailySeries {
            scope: Scope::Org,
            start,
            days,
        }
    }

    #[test]
    fn fee_on_the_first_is_expected_on_the_next_first() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let recurring: Vec<f64> = (0..40).map(|i| if i == 0 { 500.0 } else { 3.0 }).collect();
        let s = series(start, &vec![10.0; 40], &recurring);
        let p = Parts::new(&s, false);
        let feb1 = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap_or_default();
        let feb2 = NaiveDate::from_ymd_opt(2026, 2, 2).unwrap_or_default();
        assert_eq!(calendar_expected(&p, feb1, 30), Some(500.0));
        assert_eq!(calendar_expected(&p, feb2, 31), Some(3.0));
        // Nothing a month before the start: unknowable, not zero.
        assert_eq!(calendar_expected(&p, start + Days::new(5), 4), None);
    }
}
