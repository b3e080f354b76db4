//! The daily model as one online pass over a series (see the parent module for what it does):
//! usage through the shared [`Core`] with a weekly period, the calendar model for recurring
//! fees and tax, one spread over the total residual.

use chrono::NaiveDate;
use costwatch_core::DailySeries;
use costwatch_core::money::from_f64;

use super::{DayScore, DetectorConfig, ZERO, score};
use crate::baseline::{Parts, calendar_expected};
use crate::stats::MAD_TO_SIGMA;
use crate::stream::{Core, CoreConfig, RollingMedian};

/// Observed days of usage before a day can be called normal or not.
const MIN_HISTORY_DAYS: usize = 14;
/// Residuals needed to estimate the spread.
const MIN_RESIDUALS: usize = 7;
/// Days a scope must have been watched before a first charge counts as new spend (on the first
/// day of the data every scope would otherwise look new).
const NEW_SCOPE_WATCH_DAYS: usize = 7;
/// Spread floor: absolute dollars and fraction of the expected value.
const SPREAD_FLOOR_ABS: f64 = 1.0;
const SPREAD_FLOOR_REL: f64 = 0.02;

/// One day of the pass: the model's expectation and spread before the day was seen.
#[derive(Debug, Clone, Copy)]
struct Step {
    index: usize,
    actual: f64,
    expected: Option<f64>,
    spread: Option<f64>,
}

/// Runs the model over `parts` up to index `end` (exclusive), calling `visit` for each
/// observed day.
fn pass(parts: &Parts, cfg: &DetectorConfig, end: usize, mut visit: impl FnMut(Step)) {
    let lookback = cfg.lookback();
    let mut core = Core::new(CoreConfig {
        period: 7,
        level_points: 14,
        season_cycles: lookback.div_ceil(7),
        spread_points: lookback,
        drift: true,
    });
    let mut residuals = RollingMedian::new(lookback);
    // Most scopes carry no fees or tax at all; their calendar model is a constant zero.
    let has_calendar = parts.calendar.iter().flatten().any(|v| v.abs() > ZERO);
    for t in 0..end.min(parts.len()) {
        let (Some(flow), Some(actual)) = (parts.flow[t], parts.actual[t]) else {
            continue;
        };
        let weekday = parts.weekday(t);
        let flow_expected = (core.observed() >= MIN_HISTORY_DAYS)
            .then(|| core.expect(weekday))
            .flatten()
            .map(|e| e.expected);
        let calendar_actual = parts.calendar[t].unwrap_or(0.0);
        let calendar = t
            .checked_sub(1)
            .filter(|_| has_calendar)
            .and_then(|last| calendar_expected(parts, parts.date(t), last))
            .unwrap_or(calendar_actual);
        let expected = flow_expected.map(|f| f + calendar);
        let spread = (residuals.len() >= MIN_RESIDUALS)
            .then(|| residuals.median())
            .flatten()
            .map(|m| MAD_TO_SIGMA * m);
        visit(Step {
            index: t,
            actual,
            expected,
            spread,
        });
        if let Some(e) = expected {
            residuals.push((actual - e).abs());
        }
        core.update(weekday, flow);
    }
}

/// A day's verdict in f64, converted to money only for the days a caller reports: the decimal
/// conversions would otherwise cost more than the model.
#[derive(Debug, Clone, Copy)]
pub(super) struct Verdict {
    pub index: usize,
    pub date: NaiveDate,
    pub actual: f64,
    pub expected: f64,
    pub lower: f64,
    pub upper: f64,
    pub score: f64,
    pub anomalous: bool,
}

impl Verdict {
    pub fn day_score(&self, series: &DailySeries) -> DayScore {
        DayScore {
            date: self.date,
            actual: series.days[self.index]
                .map(|d| d.gross())
                .unwrap_or_default(),
            expected: from_f64(self.expected),
            lower: from_f64(self.lower),
            upper: from_f64(self.upper),
            score: self.score,
            anomalous: self.anomalous,
        }
    }
}

/// Scores every observed day with enough history.
pub(super) fn score_days(series: &DailySeries, cfg: &DetectorConfig) -> Vec<Verdict> {
    let parts = Parts::new(series, false);
    let first_spend = parts
        .actual
        .iter()
        .position(|v| v.is_some_and(|v| v.abs() > ZERO));
    let mut out = Vec::new();
    pass(&parts, cfg, parts.len(), |step| {
        let t = step.index;
        let date = parts.date(t);
        if first_spend.is_none_or(|f| f >= t) && t >= NEW_SCOPE_WATCH_DAYS {
            out.push(new_spend(t, date, step.actual, cfg));
            return;
        }
        let (Some(expected), Some(spread)) = (step.expected, step.spread) else {
            return;
        };
        let floor = SPREAD_FLOOR_ABS.max(SPREAD_FLOOR_REL * expected.abs());
        out.push(judge(
            t,
            date,
            step.actual,
            expected,
            spread.max(floor),
            cfg,
        ));
    });
    out
}

fn judge(
    index: usize,
    date: NaiveDate,
    actual: f64,
    expected: f64,
    spread: f64,
    cfg: &DetectorConfig,
) -> Verdict {
    let half = cfg.half_band(spread, expected);
    let impact = actual - expected;
    let anomalous = impact >= half || (cfg.detect_falls && -impact >= half);
    // Spend cannot go below zero, so neither does the band of a non-negative expectation.
    let lower = if expected >= 0.0 {
        (expected - half).max(0.0)
    } else {
        expected - half
    };
    Verdict {
        index,
        date,
        actual,
        expected,
        lower,
        upper: expected + half,
        score: score(impact / spread, cfg.sensitivity),
        anomalous,
    }
}

/// A charge on a scope that never spent before: expected nothing, alert at the floor.
fn new_spend(index: usize, date: NaiveDate, actual: f64, cfg: &DetectorConfig) -> Verdict {
    let floor = costwatch_core::money::to_f64(cfg.new_spend_floor);
    Verdict {
        index,
        date,
        actual,
        expected: 0.0,
        lower: 0.0,
        upper: floor,
        score: score(actual / SPREAD_FLOOR_ABS, cfg.sensitivity),
        anomalous: actual > ZERO && actual >= floor - ZERO,
    }
}

/// Expected gross spend at `index` by the same model, for root-cause attribution: 0 for a scope
/// without prior spend, the median of the look-back window's observed days when there is too
/// little history for the model.
pub(crate) fn expected_gross(series: &DailySeries, index: usize, cfg: &DetectorConfig) -> f64 {
    let parts = Parts::new(series, false);
    let prior_spend = parts
        .actual
        .iter()
        .take(index)
        .flatten()
        .any(|v| v.abs() > ZERO);
    if !prior_spend {
        return 0.0;
    }
    let mut expected = None;
    pass(&parts, cfg, index + 1, |step| {
        if step.index == index {
            expected = step.expected;
        }
    });
    expected.unwrap_or_else(|| {
        let lo = index.saturating_sub(cfg.lookback());
        let mut window = RollingMedian::new(cfg.lookback());
        for v in parts.actual[lo..index.min(parts.len())].iter().flatten() {
            window.push(*v);
        }
        window.median().unwrap_or(0.0)
    })
}
