//! The two building blocks shared by the detector and the forecaster.
//!
//! * [`WeeklyBaseline`]: the "flow" part of spend (usage), which follows the week: a weekly
//!   shape (each weekday's median deviation from the level of its time over the look-back
//!   window, additive or multiplicative) on top of the current level (median of the last 14
//!   observed days with the shape taken out). A step or drift only moves the level, which
//!   follows it within about a week; the shape needs no catching up.
//! * [`calendar_expected`]: the part that follows the month (recurring fees, RI/Savings Plans
//!   charges, tax booked on the 1st): the same day of last month, re-levelled by the current
//!   daily run-rate of such charges.
//!
//! Both only read values at indices up to a given point, so callers control look-ahead.

use chrono::{Datelike, Days, Months, NaiveDate};
use costwatch_core::DailySeries;

use crate::stats::median;

/// Days of recent history whose level the baseline follows. A level shift becomes the majority
/// of this window after 7 days, which is when the baseline adapts to it (median, not mean).
pub(crate) const LEVEL_DAYS: usize = 14;

/// Below this (a cent) a weekday median counts as zero and cannot carry a ratio.
const EPS: f64 = 0.01;

/// One series split into what the models need, as f64, `None` where the day is missing.
pub(crate) struct Parts {
    pub start: NaiveDate,
    /// Weekday (Monday = 0) of `start`, so index `i` falls on `(start_wd + i) % 7`.
    pub start_wd: usize,
    /// Weekly-driven spend.
    pub flow: Vec<Option<f64>>,
    /// `flow_level[i]`: level of the flow just before day `i` (see `trailing_levels`).
    pub flow_level: Vec<Option<f64>>,
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
        let actual = flow
            .iter()
            .zip(&calendar)
            .map(|(f, c)| Some((*f)? + (*c)?))
            .collect();
        Self {
            start: series.start,
            start_wd: series.start.weekday().num_days_from_monday() as usize,
            flow_level: trailing_levels(&flow),
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

/// Rough level of the flow just before day `i`, against which the weekly shape is measured:
/// median of the last 14 observed days (any 14
/// consecutive days hold each weekday twice, so the weekly shape does not move it), reading back
/// at most 56 days; `None` with fewer than 7 of them. Uses days before `i` only, so one vector
/// serves every forecast origin without look-ahead. One entry per day plus one for the day after
/// the last.
fn trailing_levels(values: &[Option<f64>]) -> Vec<Option<f64>> {
    (0..=values.len())
        .map(|i| {
            let recent: Vec<f64> = values[i.saturating_sub(4 * LEVEL_DAYS)..i]
                .iter()
                .rev()
                .flatten()
                .take(LEVEL_DAYS)
                .copied()
                .collect();
            if recent.len() * 2 < LEVEL_DAYS {
                None
            } else {
                median(&recent)
            }
        })
        .collect()
}

/// How a weekday relates to the level. Both forms are fitted and the one with the smaller mean
/// absolute error over the last 14 days wins: growth in traffic scales every weekday
/// (multiplicative), a new always-on resource adds the same dollars to every day (additive).
/// Either way the *shape* survives a change of level, so only the level has to catch up.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    Additive([f64; 7]),
    Multiplicative([f64; 7]),
}

impl Form {
    fn apply(&self, level: f64, wd: usize) -> f64 {
        match self {
            Form::Additive(p) => level + p[wd % 7],
            Form::Multiplicative(p) => level * p[wd % 7],
        }
    }

    /// The level one observed day implies, once its weekday's shape is taken out.
    fn deseasonalise(&self, value: f64, wd: usize) -> Option<f64> {
        match self {
            Form::Additive(p) => Some(value - p[wd % 7]),
            Form::Multiplicative(p) => (p[wd % 7] > EPS).then(|| value / p[wd % 7]),
        }
    }
}

/// Robust weekly-seasonal baseline: a weekly shape (each weekday's median deviation from the
/// level of its time, over the look-back window) on top of the current level (median of the
/// last 14 observed days with the shape taken out, so it moves to a new level as soon as more
/// than 7 of those days are at it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WeeklyBaseline {
    level: f64,
    form: Form,
}

impl WeeklyBaseline {
    /// Fits on the flow at indices `end - lookback .. end` (end exclusive), skipping missing
    /// days. `None` when fewer than `min_obs` days are observed: too little to call anything
    /// normal.
    pub fn fit(parts: &Parts, end: usize, lookback: usize, min_obs: usize) -> Option<Self> {
        let end = end.min(parts.len());
        let obs: Vec<(usize, f64)> = (end.saturating_sub(lookback)..end)
            .filter_map(|i| Some((i, parts.flow[i]?)))
            .collect();
        if obs.len() < min_obs.max(1) {
            return None;
        }
        let with_level: Vec<(usize, f64, f64)> = obs
            .iter()
            .filter_map(|(i, v)| Some((*i, *v, parts.flow_level.get(*i).copied().flatten()?)))
            .collect();
        let profile = |index: &dyn Fn(f64, f64) -> Option<f64>, neutral: f64| {
            let mut p = [neutral; 7];
            for (wd, slot) in p.iter_mut().enumerate() {
                let same: Vec<f64> = with_level
                    .iter()
                    .filter(|(i, _, _)| parts.weekday(*i) == wd)
                    .filter_map(|(_, v, l)| index(*v, *l))
                    .collect();
                *slot = median(&same).unwrap_or(neutral);
            }
            p
        };
        let mut forms = vec![Form::Additive(profile(&|v, l| Some(v - l), 0.0))];
        // Ratios need a level clearly above zero on most days, or they say little.
        if with_level.iter().filter(|(_, _, l)| *l > EPS).count() * 2 > with_level.len() {
            forms.push(Form::Multiplicative(profile(
                &|v, l| (l > EPS).then(|| v / l),
                1.0,
            )));
        }

        let recent: Vec<(usize, f64)> = obs.iter().rev().take(LEVEL_DAYS).copied().collect();
        forms
            .into_iter()
            .filter_map(|form| {
                let implied: Vec<f64> = recent
                    .iter()
                    .filter_map(|(i, v)| form.deseasonalise(*v, parts.weekday(*i)))
                    .collect();
                let level = median(&implied)?;
                let error: f64 = recent
                    .iter()
                    .map(|(i, v)| (v - form.apply(level, parts.weekday(*i))).abs())
                    .sum();
                Some((error, Self { level, form }))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, fit)| fit)
    }

    /// Expected value on a day of weekday `wd` (Monday = 0).
    pub fn predict(&self, wd: usize) -> f64 {
        self.form.apply(self.level, wd)
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
        let Some(value) = parts.calendar.get(r).copied().flatten() else {
            continue;
        };
        let around = median_between(&parts.calendar, r.saturating_sub(3), (r + 3).min(last))
            .unwrap_or(value);
        return Some(now.map_or(value, |level| level + (value - around)));
    }
    None
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
    fn additive_step_is_followed_by_the_offset_form() {
        // Weekdays 100, weekends 50, then +100 on every day for the last 10 days.
        let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(); // a Monday
        let usage: Vec<f64> = (0..56)
            .map(|i| if i % 7 >= 5 { 50.0 } else { 100.0 } + if i >= 46 { 100.0 } else { 0.0 })
            .collect();
        let s = series(start, &usage, &vec![0.0; 56]);
        let p = Parts::new(&s, false);
        let b = WeeklyBaseline::fit(&p, 56, 56, 14).expect("enough data");
        assert!((b.predict(0) - 200.0).abs() < 1e-9, "{b:?}");
        assert!((b.predict(6) - 150.0).abs() < 1e-9, "{b:?}");
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
