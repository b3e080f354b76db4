//! Forecasting: daily spend ahead and the month-end total, with 80 % and 95 % intervals.
//!
//! **Two parts of spend.** Usage (with credits, unless configured out) follows the week and
//! drifts; recurring fees, RI / Savings Plans fees and tax follow the month. Usage goes through
//! the model choice below; the calendar part is the same day of last month, re-levelled by the
//! current daily run-rate of such charges (`baseline::calendar_expected`), so a fee on the 1st
//! comes back on the next 1st and is not smeared over the month. A plain series (`costwatch
//! forecast`) has no charge types: its calendar part is the days of the month that recur as
//! lumps (`monthly`).
//!
//! **Model choice** (`engine`): naive, seasonal naive, a robust weekly baseline, ETS(A,N,A),
//! ETS(A,Ad,A), Theta and Theta with the whole drift (ETS and Theta with clipped errors, so a
//! holiday or a spike barely moves their level: `robust`), each on the series with level shifts
//! aligned to the current regime and, with two years of history, also with a yearly cycle
//! taken out (Fourier or calendar analogy, `prepare`), are back-tested over two years; the
//! yearly adjustment is chosen on all of it, the models on the last 91 days: the best, or the
//! mean of the best two or three, is the forecast. Missing days are filled for fitting and never
//! scored.
//!
//! **Intervals** (`intervals`): from the chosen forecast's own back-tested errors on the total
//! (usage and calendar part together), over two years of origins so that quiet and busy seasons
//! both set the width: a horizon-smoothed scale times pooled error quantiles (at
//! split-conformal's finite-sample levels) for each day; the errors of whole k-day sums for the
//! month's remaining days, so correlated daily errors widen the total as they should, read at
//! the levels that held out of sample on the series' own history. A fee's day adds the calendar
//! part's own past errors on that day of the month (`intervals::widened`), which the pooled
//! daily errors dilute thirtyfold. The bounds always contain the mean, and never go below zero
//! for a scope that has never had a negative day.
//!
//! **What this assumes.** No holidays or known future events (commitment expiries, price
//! changes); a one-off refund is not repeated. In the pipeline a monthly lump-sum credit is not
//! foreseen (credits are part of the flow); in a plain series it is a monthly lump like a fee.

mod engine;
mod ets;
mod intervals;
mod models;
mod monthly;
mod prepare;
mod regime;
mod robust;

use chrono::{Datelike, Days, Months, NaiveDate};
use costwatch_core::findings::{ForecastPoint, MonthEndForecast};
use costwatch_core::money::from_f64;
use costwatch_core::series::month_last_day;
use costwatch_core::{DailyCost, DailySeries, Money};
use serde::{Deserialize, Serialize};

use crate::baseline::{
    Parts, calendar_errors, calendar_expected, calendar_expected_ahead, calendar_level,
    reference_before_start,
};
use engine::Fitted;
use intervals::{ErrorRows, Uncertainty, spread_widened, sum_offsets, widened};

/// Days of history the pipeline needs before it forecasts a scope: 14 observed in the last 56.
pub const MIN_HISTORY_DAYS: usize = 14;
pub const RECENT_DAYS: usize = 56;
/// The pipeline's default `history_days`: what the detector and the month-end forecasts read.
/// Here so that the month-end back-test reads what the product reads.
pub const HISTORY_DAYS: u32 = 120;
/// History a quarter's or a year's forecast reads at least (a budget's; the month end reads the
/// pipeline's `history_days`): two years, so the same quarter last year, a yearly pattern, is
/// in it. With 120 days, the quarter ends of a page-view series with a yearly cycle were
/// forecast worse than a 28-day run rate (docs/benchmarks.md).
pub const PERIOD_HISTORY_DAYS: u32 = 731;

/// Whether credits (refunds, promotional credits) count in forecasts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credits {
    /// Net spend, what the invoice says (default).
    #[default]
    Included,
    /// Gross spend: what was consumed, whatever credits paid for it.
    Excluded,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastConfig {
    pub credits: Credits,
}

impl ForecastConfig {
    /// A day's spend as forecasts count it: net of credits, or gross without them.
    pub fn spend(&self, d: &DailyCost) -> Money {
        match self.credits {
            Credits::Included => d.total(),
            Credits::Excluded => d.gross(),
        }
    }
}

/// One forecast day of a plain series (`forecast_values`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValuePoint {
    pub date: NaiveDate,
    pub mean: f64,
    pub lo95: f64,
    pub lo80: f64,
    pub hi80: f64,
    pub hi95: f64,
}

/// Forecast of a plain daily series (`values[i]` on `start + i`, `None` where missing) for the
/// `horizon` days after its last observed day. Works from a single observed day (with wide,
/// assumed intervals) upwards. Bounds are floored at zero when no value is negative.
pub fn forecast_values(
    start: NaiveDate,
    values: &[Option<f64>],
    horizon: usize,
) -> Vec<ValuePoint> {
    forecast_plain(start, values, horizon).points
}

/// Names of the models chosen for a plain series (for `--explain`-style diagnostics).
pub fn chosen_models(start: NaiveDate, values: &[Option<f64>], horizon: usize) -> Vec<String> {
    forecast_plain(start, values, horizon).models
}

/// A plain series' forecast and the models chosen for it, from one fit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlainForecast {
    /// [`forecast_values`]'s days.
    pub points: Vec<ValuePoint>,
    /// [`chosen_models`]'s names.
    pub models: Vec<String>,
}

/// [`forecast_values`] and [`chosen_models`] together, the series fitted once.
pub fn forecast_plain(start: NaiveDate, values: &[Option<f64>], horizon: usize) -> PlainForecast {
    let Some(fit) = plain_fit(start, values, horizon) else {
        return PlainForecast::default();
    };
    let points = (1..=horizon)
        .map(|h| {
            let (mean, [lo95, lo80, hi80, hi95]) = fit.bounds(h);
            ValuePoint {
                date: fit.parts.date(fit.origin + h),
                mean,
                lo95,
                lo80,
                hi80,
                hi95,
            }
        })
        .collect();
    PlainForecast {
        points,
        models: fit.fitted.chosen,
    }
}

/// Days of the month on which a plain series carries a recurring charge (a fee on the 1st),
/// forecast by the calendar apart from the models; empty when there is none.
pub fn monthly_charge_days(start: NaiveDate, values: &[Option<f64>]) -> Vec<u32> {
    let last = values
        .iter()
        .rposition(Option::is_some)
        .map_or(0, |l| l + 1);
    monthly::split(start, &values[..last])
        .map(|s| s.days)
        .unwrap_or_default()
}

/// A plain series fitted at its last observed day: the flow through the models, the days of
/// the month that recur as lumps (`monthly`) by the calendar.
fn plain_fit(start: NaiveDate, values: &[Option<f64>], horizon: usize) -> Option<Fit> {
    let last = values.iter().rposition(Option::is_some)?;
    let values = &values[..=last];
    let (flow, calendar) = flow_and_calendar(start, values);
    let parts = Parts::from_split(start, flow, calendar);
    let floor = values.iter().flatten().all(|v| *v >= 0.0).then_some(0.0);
    Fit::from_parts(parts, last, horizon, floor)
}

/// A plain series as flow and calendar part: its monthly lumps (`monthly`) apart, or all flow.
fn flow_and_calendar(
    start: NaiveDate,
    values: &[Option<f64>],
) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
    match monthly::split(start, values) {
        Some(split) => (split.flow, split.calendar),
        None => (
            values.to_vec(),
            values.iter().map(|v| v.map(|_| 0.0)).collect(),
        ),
    }
}

/// Month-end forecast of a plain daily series of spend (`costwatch forecast --month-end`):
/// [`month_end`] with the series' monthly lumps as recurring charges and the rest as usage, so
/// a fee on the 1st is forecast by the calendar as the pipeline forecasts it. Amounts are money:
/// rounded to cents.
pub fn month_end_of_values(
    start: NaiveDate,
    values: &[Option<f64>],
    as_of: NaiveDate,
) -> Option<MonthEndForecast> {
    let (flow, calendar) = flow_and_calendar(start, values);
    let days = flow
        .iter()
        .zip(&calendar)
        .map(|(f, c)| {
            Some(DailyCost {
                usage: from_f64((*f)?),
                recurring: from_f64((*c)?),
                ..DailyCost::default()
            })
        })
        .collect();
    let series = DailySeries {
        scope: costwatch_core::Scope::Org,
        start,
        days,
    };
    month_end(&series, as_of)
}

/// Mean ± offsets, the bounds made to contain the mean and respect `floor`.
fn bounds(mean: f64, offsets: [f64; 4], floor: Option<f64>) -> [f64; 4] {
    let [a, b, c, d] = offsets.map(|o| mean + o);
    let clamp = |v: f64| floor.map_or(v, |f| v.max(f));
    [
        clamp(a.min(mean)),
        clamp(b.min(mean)),
        clamp(c.max(mean)),
        clamp(d.max(mean)),
    ]
}

/// Errors of the fitted back-test against `actual`, with `extra(origin, h)` added to each
/// forecast (the calendar part), days after `last` unknown.
fn error_rows(
    fitted: &Fitted,
    last: usize,
    actual: impl Fn(usize) -> Option<f64>,
    extra: impl Fn(usize, usize) -> f64,
) -> ErrorRows {
    fitted
        .origins
        .iter()
        .enumerate()
        .map(|(r, &o)| {
            (1..=fitted.horizon)
                .map(|h| {
                    let i = o + h;
                    if i > last {
                        return None;
                    }
                    Some(fitted.align(o, i, actual(i)? - extra(o, h)) - fitted.at(r, h))
                })
                .collect()
        })
        .collect()
}

/// The calendar part forecast `h` days after `origin`: the same day of an earlier month, or the
/// recent daily level of such charges when there is none; 0 for a series without (`calendar`).
fn calendar_part(parts: &Parts, calendar: bool, origin: usize, h: usize) -> f64 {
    if !calendar {
        return 0.0;
    }
    calendar_expected(parts, parts.date(origin + h), origin)
        .or_else(|| calendar_level(parts, origin))
        .unwrap_or(0.0)
}

/// One-day error scale when there is no back-test: mean absolute day-to-day change.
fn fallback_scale(values: &[Option<f64>]) -> f64 {
    let obs: Vec<f64> = values.iter().flatten().copied().collect();
    let diffs: Vec<f64> = obs.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if diffs.is_empty() {
        obs.first().map_or(0.0, |v| 0.1 * v.abs())
    } else {
        diffs.iter().sum::<f64>() / diffs.len() as f64
    }
}

/// A series split and fitted at its last observed day up to some index.
struct Fit {
    parts: Parts,
    origin: usize,
    fitted: Fitted,
    rows: ErrorRows,
    unc: Uncertainty,
    calendar: bool,
    floor: Option<f64>,
}

impl Fit {
    /// `None` with too little recent history (fewer than 14 observed days in the last 56).
    fn new(
        series: &DailySeries,
        origin: usize,
        horizon: usize,
        cfg: &ForecastConfig,
    ) -> Option<Self> {
        let parts = Parts::new(series, cfg.credits == Credits::Included);
        let recent = (origin + 1).saturating_sub(RECENT_DAYS)..=origin;
        if parts.actual[recent].iter().flatten().count() < MIN_HISTORY_DAYS {
            return None;
        }
        let floor = series
            .days
            .iter()
            .flatten()
            .all(|d| cfg.spend(d) >= Money::ZERO)
            .then_some(0.0);
        Self::from_parts(parts, origin, horizon, floor)
    }

    /// `parts` fitted at `origin`, bounds floored at `floor`.
    fn from_parts(parts: Parts, origin: usize, horizon: usize, floor: Option<f64>) -> Option<Self> {
        let flow = &parts.flow[..=origin];
        let fitted = engine::fit(flow, horizon)?;
        let calendar = parts.calendar[..=origin]
            .iter()
            .flatten()
            .any(|c| *c != 0.0);
        // The forecast has the same day of last month for every day it forecasts once the data
        // reach a month back from its first day. A back-test day whose reference lies before
        // the data would be forecast blind to that day's fee (a history read from the 2nd
        // misses the fee on the 1st), an error of where the data start, not of this forecast:
        // an account's month end read from 120 days had an upper bound 2.3 times its point.
        // Such a day reads the same day of a later month instead.
        let sees_last_month = parts
            .date(origin + 1)
            .checked_sub_months(Months::new(1))
            .is_some_and(|day| day >= parts.start);
        let cal = |o: usize, h: usize| -> f64 {
            let target = parts.date(o + h);
            let blind = calendar && sees_last_month && reference_before_start(&parts, target, o);
            blind
                .then(|| calendar_expected_ahead(&parts, target, o, origin))
                .flatten()
                .unwrap_or_else(|| calendar_part(&parts, calendar, o, h))
        };
        let rows = error_rows(&fitted, origin, |i| parts.actual[i], cal);
        let unc = Uncertainty::new(&rows, fallback_scale(&parts.actual[..=origin]));
        Some(Self {
            parts,
            origin,
            fitted,
            rows,
            unc,
            calendar,
            floor,
        })
    }

    fn mean(&self, h: usize) -> f64 {
        let m = self.fitted.mean[h - 1] + calendar_part(&self.parts, self.calendar, self.origin, h);
        self.floor.map_or(m, |f| m.max(f))
    }

    /// The mean `h` days ahead and its bounds (95 % and 80 %, low to high). On a day whose
    /// calendar part has erred before (a fee that changes from month to month), those errors
    /// widen it: the daily errors pool every day, so a fee's one day a month hardly moves them.
    fn bounds(&self, h: usize) -> (f64, [f64; 4]) {
        let mean = self.mean(h);
        let mut offsets = spread_widened(self.unc.daily(h), self.fitted.unusual_spread[h - 1]);
        if self.calendar {
            let target = self.parts.date(self.origin + h);
            offsets = widened(offsets, &calendar_errors(&self.parts, target, self.origin));
        }
        (mean, bounds(mean, offsets, self.floor))
    }

    fn point(&self, h: usize) -> ForecastPoint {
        let (mean, [lo95, lo80, hi80, hi95]) = self.bounds(h);
        ForecastPoint {
            date: self.parts.date(self.origin + h),
            mean: from_f64(mean),
            lo95: from_f64(lo95),
            lo80: from_f64(lo80),
            hi80: from_f64(hi80),
            hi95: from_f64(hi95),
        }
    }
}

/// Daily forecasts for the `horizon` days after the series' last day with 80/95 % intervals,
/// credits included. Empty when there is too little history (fewer than 14 observed days in
/// the last 56) or the last day is missing.
pub fn forecast_daily(series: &DailySeries, horizon: usize) -> Vec<ForecastPoint> {
    forecast_daily_with(series, horizon, &ForecastConfig::default())
}

pub fn forecast_daily_with(
    series: &DailySeries,
    horizon: usize,
    cfg: &ForecastConfig,
) -> Vec<ForecastPoint> {
    let Some(origin) = series.len().checked_sub(1) else {
        return Vec::new();
    };
    Fit::new(series, origin, horizon, cfg)
        .map(|fit| (1..=horizon).map(|h| fit.point(h)).collect())
        .unwrap_or_default()
}

/// Month-end forecast for the month containing `as_of`, credits included (see
/// [`month_end_with`]).
pub fn month_end(series: &DailySeries, as_of: NaiveDate) -> Option<MonthEndForecast> {
    month_end_with(series, as_of, &ForecastConfig::default())
}

/// Actual to date through the last observed day up to `as_of`, plus the forecast of every later
/// day of the month (days not yet reported are forecast, not taken as zero). The interval is on
/// the total (see the module docs). A day missing *inside* the month to date adds nothing.
/// `None` with too little history.
pub fn month_end_with(
    series: &DailySeries,
    as_of: NaiveDate,
    cfg: &ForecastConfig,
) -> Option<MonthEndForecast> {
    let month = as_of.with_day(1)?;
    let mut f = period_end_with(series, as_of, (month, month_last_day(month)), cfg)?;
    f.previous_month_total = previous_month_total(series, month, cfg);
    Some(f)
}

/// As [`month_end_with`], for a budget's period (`first..=last`, containing `as_of`: a quarter
/// or a year): its `month` is the period's first day and its days run to the period's last.
/// It carries no previous month's total. (The code says "month" for the period: the month end
/// is the case it was written for.)
pub fn period_end_with(
    series: &DailySeries,
    as_of: NaiveDate,
    (month, month_last): (NaiveDate, NaiveDate),
    cfg: &ForecastConfig,
) -> Option<MonthEndForecast> {
    let upto = usize::try_from((as_of.min(series.end()) - series.start).num_days()).ok()?;
    let origin = (0..=upto.min(series.len().checked_sub(1)?))
        .rev()
        .find(|i| series.days[*i].is_some())?;
    let origin_date = series.date_at(origin);
    let first = (origin_date + Days::new(1)).max(month);
    let h0 = usize::try_from((first - origin_date).num_days()).ok()?;
    let k = usize::try_from((month_last - first).num_days() + 1).ok()?;

    let fit = Fit::new(series, origin, (h0 + k).saturating_sub(1).max(1), cfg)?;
    let to_date = |upto: NaiveDate| -> Money {
        month
            .iter_days()
            .take_while(|d| *d <= upto)
            .filter_map(|d| series.get(d))
            .map(|d| cfg.spend(&d))
            .sum()
    };
    let actual_to_date = if origin_date >= month {
        to_date(origin_date)
    } else {
        Money::ZERO
    };
    let daily: Vec<ForecastPoint> = (h0..h0 + k).map(|h| fit.point(h)).collect();
    // With no day left the month is what was spent, to the precision it was billed at. A
    // forecast is given to the cent, as its bounds and its days are (an API reader saw
    // $86,417.5198 between $85,806.41 and $87,868.33).
    let total = actual_to_date + daily.iter().map(|p| p.mean).sum::<Money>();
    let total = if k == 0 { total } else { total.round_dp(2) };
    // The spend to date is not rounded: a bound must not fall a fraction of a cent below what
    // is already spent, so the floor is it rounded up to the cent.
    let spent = fit.floor.map(|_| {
        actual_to_date.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToPositiveInfinity)
    });
    let [lo95, lo80, hi80, hi95] = if k == 0 {
        [total; 4]
    } else {
        let offsets = sum_offsets(&fit.rows, &fit.fitted.origins, h0, k, &fit.unc);
        let floor = spent.map(costwatch_core::money::to_f64);
        bounds(costwatch_core::money::to_f64(total), offsets, floor)
            .map(from_f64)
            .map(|b| spent.map_or(b, |s| b.max(s)))
    };
    Some(MonthEndForecast {
        scope: series.scope.clone(),
        month,
        as_of: origin_date,
        actual_to_date,
        total,
        lo95: lo95.min(total),
        lo80: lo80.min(total),
        hi80: hi80.max(total),
        hi95: hi95.max(total),
        previous_month_total: None,
        daily,
    })
}

/// Total of the month before `month`, only when every one of its days is in the series (a
/// partial month would understate it).
fn previous_month_total(
    series: &DailySeries,
    month: NaiveDate,
    cfg: &ForecastConfig,
) -> Option<Money> {
    let start = month.checked_sub_months(Months::new(1))?;
    start
        .iter_days()
        .take_while(|d| *d < month)
        .map(|d| series.get(d).map(|c| cfg.spend(&c)))
        .sum()
}
