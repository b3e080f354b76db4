//! Forecasting: daily spend ahead and the month-end total, the baseline way.
//!
//! **Mean.** Robust seasonal naive (m = 7) on net usage (usage + credits): the weekly shape
//! (each weekday's median deviation from its level over the last 56 days) on the current level
//! (median of the last 14 observed days, de-seasonalised), the same model the detector uses.
//! Recurring fees and tax follow the calendar: the same day of last month, re-levelled by the
//! current daily run-rate of such charges (the current run-rate alone when the data does not
//! reach back a month).
//!
//! **What this assumes.** The recent level persists: no trend, no holidays, no known future
//! events (commitment expiries, price changes). Credits recur as their weekday median, so a
//! one-off refund is not repeated, but a monthly lump-sum credit is not foreseen either.
//!
//! **Intervals.** Empirical: the model is refitted at each of the last 182 days and its h-step
//! errors (actual − forecast) are collected per horizon; the 80 % and 95 % bounds add the
//! 10/90 % and 2.5/97.5 % error quantiles to the mean. A horizon with fewer than 20 errors borrows
//! the longest horizon that has enough and widens it by √(h/h′) (random-walk growth, an
//! assumption); with no back-test at all the model's in-sample residuals stand in.
//!
//! **Month end.** Actual month-to-date plus the forecast of the remaining k days. Its interval
//! comes from the back-tested errors of whole k-day sums over the same horizons, so correlated
//! daily errors (a level that moved) widen it as they should; summing daily bounds would not.
//! With fewer than 20 such sums it assumes independent daily errors: bias × k plus spread × √k.
//!
//! Bounds never go below zero (or below the actual to date) for a scope that has never had a
//! negative day.

use chrono::{Datelike, Days, Months, NaiveDate};
use costwatch_core::findings::{ForecastPoint, MonthEndForecast};
use costwatch_core::money::from_f64;
use costwatch_core::{DailySeries, Money};

use crate::baseline::{Parts, WeeklyBaseline, calendar_expected, calendar_level};
use crate::stats::{median, quantile};

/// Days of history each fit reads.
const LOOKBACK_DAYS: usize = 56;
/// Observed days needed in that window to forecast at all.
const MIN_HISTORY_DAYS: usize = 14;
/// Back-test origins (the last half year).
const BACKTEST_ORIGINS: usize = 182;
/// Errors needed before their quantiles are trusted.
const MIN_ERRORS: usize = 20;

/// Error quantiles to add to a mean: (2.5 %, 10 %, 90 %, 97.5 %).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread([f64; 4]);

impl Spread {
    const LEVELS: [f64; 4] = [0.025, 0.10, 0.90, 0.975];

    fn empirical(errors: &[f64]) -> Option<Self> {
        let q = |p| quantile(errors, p);
        Some(Self([
            q(Self::LEVELS[0])?,
            q(Self::LEVELS[1])?,
            q(Self::LEVELS[2])?,
            q(Self::LEVELS[3])?,
        ]))
    }

    /// Quantiles of a sum of `k` independent copies of `errors`: bias × k, spread × √k.
    fn summed(errors: &[f64], k: f64) -> Option<Self> {
        let m = median(errors)?;
        let base = Self::empirical(errors)?;
        Some(Self(base.0.map(|q| k * m + k.sqrt() * (q - m))))
    }

    /// Deviation from the median widened by `factor`.
    fn widened(self, errors: &[f64], factor: f64) -> Self {
        let m = median(errors).unwrap_or(0.0);
        Self(self.0.map(|q| m + factor * (q - m)))
    }
}

/// The model fitted at one origin (data at indices `..= origin`).
struct Model<'a> {
    parts: &'a Parts,
    origin: usize,
    flow: WeeklyBaseline,
    calendar_now: f64,
}

impl<'a> Model<'a> {
    fn fit(parts: &'a Parts, origin: usize) -> Option<Self> {
        let flow = WeeklyBaseline::fit(parts, origin + 1, LOOKBACK_DAYS, MIN_HISTORY_DAYS)?;
        let calendar_now = calendar_level(parts, origin).unwrap_or(0.0);
        Some(Self {
            parts,
            origin,
            flow,
            calendar_now,
        })
    }

    /// Mean forecast `h ≥ 1` days after the origin.
    fn mean(&self, h: usize) -> f64 {
        let index = self.origin + h;
        let calendar = calendar_expected(self.parts, self.parts.date(index), self.origin)
            .unwrap_or(self.calendar_now);
        self.flow.predict(self.parts.weekday(index)) + calendar
    }

    /// In-sample residuals of the flow part over the fit window: the stand-in error sample when
    /// there is no back-test yet.
    fn in_sample_residuals(&self) -> Vec<f64> {
        let lo = (self.origin + 1).saturating_sub(LOOKBACK_DAYS);
        (lo..=self.origin)
            .filter_map(|i| {
                Some(
                    self.parts.flow.get(i).copied().flatten()?
                        - self.flow.predict(self.parts.weekday(i)),
                )
            })
            .collect()
    }
}

/// Back-test: for each recent origin s before `origin`, the errors at horizons 1..=max_h that
/// can be checked with data up to `origin` (`None` where the day is missing or not yet known).
fn backtest(parts: &Parts, origin: usize, max_h: usize) -> Vec<Vec<Option<f64>>> {
    (origin.saturating_sub(BACKTEST_ORIGINS)..origin)
        .filter_map(|s| {
            let model = Model::fit(parts, s)?;
            let row = (1..=max_h)
                .map(|h| {
                    let i = s + h;
                    if i > origin {
                        return None;
                    }
                    Some(parts.actual.get(i).copied().flatten()? - model.mean(h))
                })
                .collect();
            Some(row)
        })
        .collect()
}

/// Error quantiles for horizon `h` (1-based) from the back-test rows.
fn daily_spread(rows: &[Vec<Option<f64>>], h: usize, fallback: &[f64]) -> Spread {
    let at = |h: usize| -> Vec<f64> {
        rows.iter()
            .filter_map(|r| r.get(h - 1).copied().flatten())
            .collect()
    };
    for base in (1..=h).rev() {
        let errors = at(base);
        if errors.len() >= MIN_ERRORS
            && let Some(s) = Spread::empirical(&errors)
        {
            return s.widened(&errors, (h as f64 / base as f64).sqrt());
        }
    }
    Spread::summed(fallback, h as f64).unwrap_or(Spread([0.0; 4]))
}

/// Error quantiles of the sum over horizons `h0 .. h0 + k`, and the median of that error (the
/// bias a point forecast should remove; it always lies inside the quantile band).
fn sum_spread(rows: &[Vec<Option<f64>>], h0: usize, k: usize, fallback: &[f64]) -> (Spread, f64) {
    let span = |r: &Vec<Option<f64>>| {
        r.get(h0 - 1..h0 - 1 + k)
            .map(|s| s.iter().copied().sum::<Option<f64>>())
    };
    let sums: Vec<f64> = rows.iter().filter_map(|r| span(r).flatten()).collect();
    if sums.len() >= MIN_ERRORS
        && let (Some(s), Some(m)) = (Spread::empirical(&sums), median(&sums))
    {
        return (s, m);
    }
    let pooled: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.get(h0 - 1..h0 - 1 + k))
        .flat_map(|s| s.iter().flatten().copied())
        .collect();
    let errors = if pooled.len() >= MIN_ERRORS {
        &pooled[..]
    } else {
        fallback
    };
    let spread = Spread::summed(errors, k as f64).unwrap_or(Spread([0.0; 4]));
    (spread, median(errors).map_or(0.0, |m| m * k as f64))
}

/// True when the scope never had a negative day, so spend can be bounded below by zero.
fn never_negative(series: &DailySeries) -> bool {
    series
        .days
        .iter()
        .flatten()
        .all(|d| d.total() >= Money::ZERO)
}

fn point(date: NaiveDate, mean: f64, s: Spread, floor: Option<f64>) -> ForecastPoint {
    let b = |q: f64| from_f64(floor.map_or(mean + q, |f| (mean + q).max(f)));
    ForecastPoint {
        date,
        mean: from_f64(mean),
        lo95: b(s.0[0]),
        lo80: b(s.0[1]),
        hi80: b(s.0[2]),
        hi95: b(s.0[3]),
    }
}

/// Daily points for horizons `hs` from a fitted model.
fn points(
    series: &DailySeries,
    model: &Model,
    rows: &[Vec<Option<f64>>],
    hs: std::ops::RangeInclusive<usize>,
) -> Vec<ForecastPoint> {
    let fallback = model.in_sample_residuals();
    let floor = never_negative(series).then_some(0.0);
    hs.map(|h| {
        let date = model.parts.date(model.origin + h);
        point(date, model.mean(h), daily_spread(rows, h, &fallback), floor)
    })
    .collect()
}

/// Daily forecasts for the `horizon` days after the series' last day with 80/95 % intervals.
/// Empty when there is too little history (fewer than 14 observed days in the last 56).
pub fn forecast_daily(series: &DailySeries, horizon: usize) -> Vec<ForecastPoint> {
    let Some(origin) = series.len().checked_sub(1) else {
        return Vec::new();
    };
    if horizon == 0 {
        return Vec::new();
    }
    let parts = Parts::new(series, true);
    let Some(model) = Model::fit(&parts, origin) else {
        return Vec::new();
    };
    let rows = backtest(&parts, origin, horizon);
    points(series, &model, &rows, 1..=horizon)
}

/// Month-end forecast for the month containing `as_of`: actual to date through the last observed
/// day up to `as_of`, plus the forecast of every later day of the month (days not yet reported
/// are forecast, not taken as zero). The interval is on the total (see the module docs). A day
/// missing *inside* the month to date adds nothing. `None` with too little history.
pub fn month_end(series: &DailySeries, as_of: NaiveDate) -> Option<MonthEndForecast> {
    let parts = Parts::new(series, true);
    let upto = parts.index_of(as_of.min(series.end()))?;
    let origin = (0..=upto)
        .rev()
        .find(|i| parts.actual.get(*i).copied().flatten().is_some())?;
    let origin_date = parts.date(origin);
    let month = as_of.with_day(1)?;
    let month_last = month.checked_add_months(Months::new(1))? - Days::new(1);
    let first = (origin_date + Days::new(1)).max(month);
    let h0 = usize::try_from((first - origin_date).num_days()).ok()?;
    let k = usize::try_from((month_last - first).num_days() + 1).ok()?;

    let model = Model::fit(&parts, origin)?;
    let actual_to_date = if origin_date >= month {
        series.month_to_date(origin_date)
    } else {
        Money::ZERO
    };
    let rows = backtest(&parts, origin, h0 + k - 1);
    let (spread, bias) = if k > 0 {
        sum_spread(&rows, h0, k, &model.in_sample_residuals())
    } else {
        (Spread([0.0; 4]), 0.0)
    };
    // The level model lags a trending series, so its back-tested k-day errors are biased; the
    // point forecast moves by their median (spread evenly over the remaining days), which also
    // keeps the total inside its own interval.
    let bias_per_day = if k > 0 { bias / k as f64 } else { 0.0 };
    let daily: Vec<ForecastPoint> = if k > 0 {
        points(series, &model, &rows, h0..=h0 + k - 1)
            .into_iter()
            .map(|p| ForecastPoint {
                mean: p.mean + from_f64(bias_per_day),
                ..p
            })
            .collect()
    } else {
        Vec::new()
    };
    let raw_total = actual_to_date + daily.iter().map(|p| p.mean).sum::<Money>()
        - from_f64(bias_per_day * k as f64);
    let total = actual_to_date + daily.iter().map(|p| p.mean).sum::<Money>();

    let floor = never_negative(series).then_some(actual_to_date);
    let bound = |q: f64| {
        let b = raw_total + from_f64(q);
        floor.map_or(b, |f| b.max(f))
    };
    Some(MonthEndForecast {
        scope: series.scope.clone(),
        month,
        as_of: origin_date,
        actual_to_date,
        total,
        lo95: bound(spread.0[0]),
        lo80: bound(spread.0[1]),
        hi80: bound(spread.0[2]),
        hi95: bound(spread.0[3]),
        previous_month_total: previous_month_total(series, month),
        daily,
    })
}

/// Total of the month before `month`, only when every one of its days is in the series (a
/// partial month would understate it).
fn previous_month_total(series: &DailySeries, month: NaiveDate) -> Option<Money> {
    let start = month.checked_sub_months(Months::new(1))?;
    start
        .iter_days()
        .take_while(|d| *d < month)
        .map(|d| series.get(d).map(|c| c.total()))
        .sum()
}
