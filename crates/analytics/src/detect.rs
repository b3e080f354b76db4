//! Anomaly detection on one daily series: the baseline detector.
//!
//! **What is judged.** Gross spend of a day (usage + recurring + tax). Credits and refunds are
//! left out: a credit is not an anomaly, and a credit landing on a spike must not hide it.
//!
//! **Expected value for day t**, from days before t only (no look-ahead):
//! * usage: robust weekly seasonal baseline: the weekly shape (each weekday's median deviation
//!   from its level over the last `lookback_days`, additive or multiplicative, whichever fits
//!   the last 14 days better) on the current level (median of the last 14 observed days,
//!   de-seasonalised); see `baseline`;
//! * recurring + tax: the same day of last month, re-levelled by the current daily run-rate, so
//!   the fees on the 1st are expected on the next 1st. When the series does not reach back to
//!   last month's day, the charge is unknowable and is not judged (expected = actual for it).
//!
//! **Spread.** 1.4826 × MAD of the model's own one-step-ahead residuals over the look-back window
//! (robust to the anomalies themselves), floored at max(2 % of expected, $1) so a flat series
//! does not alert on cents.
//!
//! **Decision.** z = (actual − expected) / spread. A day is anomalous when |z| ≥ `sensitivity`,
//! |impact| ≥ `min_impact` and |impact| / expected ≥ `min_pct` — rises always, falls only with
//! `detect_falls`. The three gates are one band, `expected ± max(sensitivity × spread, min_impact,
//! min_pct % × expected)`, reported as `lower`/`upper`.
//!
//! **New spend.** A scope with no spend so far (every earlier observed day zero or missing,
//! watched for at least 7 days) is anomalous on its first charge ≥ `new_spend_floor`.
//!
//! **Level shifts.** The level follows the median of the last 14 days, so a sustained step
//! alerts for about a week (one anomalous run, one alert) and is normal once it is the majority
//! of that window (after more than 7 days).
//!
//! **Score.** `1 − 2^(−|z| / sensitivity)`: 0 on the baseline, 0.5 exactly at the threshold,
//! → 1 as |z| grows. Monotone in |z| and comparable across scopes of any size.

use chrono::NaiveDate;
use costwatch_core::findings::{Anomaly, Direction};
use costwatch_core::money::{from_f64, to_f64};
use costwatch_core::{DailySeries, Money};
use serde::{Deserialize, Serialize};

use crate::baseline::{Parts, WeeklyBaseline, calendar_expected};
use crate::stats::{MAD_TO_SIGMA, mad, median};

/// Observed days needed in the look-back window before a day can be called normal or not.
const MIN_HISTORY_DAYS: usize = 14;
/// One-step residuals needed to estimate the spread.
const MIN_RESIDUALS: usize = 7;
/// Days a scope must have been watched before a first charge counts as new spend (on the first
/// day of the data every scope would otherwise look new).
const NEW_SCOPE_WATCH_DAYS: usize = 7;
/// Spread floor: absolute dollars and fraction of the expected value.
const SPREAD_FLOOR_ABS: f64 = 1.0;
const SPREAD_FLOOR_REL: f64 = 0.02;
/// Spend below half a cent is no spend.
const ZERO: f64 = 0.005;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Smallest dollar impact (actual − expected) worth an alert.
    pub min_impact: Money,
    /// Smallest impact as a percent of expected worth an alert.
    pub min_pct: f64,
    /// Robust z threshold.
    pub sensitivity: f64,
    /// Alert on drops too (off by default: a drop is rarely a problem to chase).
    pub detect_falls: bool,
    /// Days of history the baseline reads (at least 14 are used).
    pub lookback_days: usize,
    /// A first charge on a scope with no history alerts at or above this.
    pub new_spend_floor: Money,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_impact: Money::from(25),
            min_pct: 20.0,
            sensitivity: 4.0,
            detect_falls: false,
            lookback_days: 56,
            new_spend_floor: Money::from(10),
        }
    }
}

impl DetectorConfig {
    fn lookback(&self) -> usize {
        self.lookback_days.max(MIN_HISTORY_DAYS)
    }
}

/// The detector's verdict on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayScore {
    pub date: NaiveDate,
    /// Gross spend (usage + recurring + tax).
    pub actual: Money,
    pub expected: Money,
    /// Band outside which the day is anomalous (all three gates folded in).
    pub lower: Money,
    pub upper: Money,
    /// `1 − 2^(−|z| / sensitivity)`, in [0, 1).
    pub score: f64,
    pub anomalous: bool,
}

/// Scores every day that has enough history, using only days before it (no look-ahead).
/// Missing days are skipped (never read as zero) and get no score.
pub fn score_series(series: &DailySeries, cfg: &DetectorConfig) -> Vec<DayScore> {
    score_from(series, cfg, 0)
}

/// The anomaly on the series' last day, if any; start_date = first day of the current
/// consecutive anomalous run (missing days inside the run neither break nor extend it).
/// root_causes left empty (see [`crate::root_cause`]).
pub fn detect_latest(series: &DailySeries, cfg: &DetectorConfig) -> Option<Anomaly> {
    let n = series.len();
    series.days.last().copied().flatten()?;
    // Only the tail is scored; scores do not depend on where scoring starts, so this equals the
    // full computation. If the run reaches back to the tail's first day, score everything.
    let tail_start = n.saturating_sub(2 * cfg.lookback());
    let mut scores = score_from(series, cfg, tail_start);
    let (mut start, last) = run_start(series, &scores)?;
    if start == 0 && tail_start > 0 {
        scores = score_from(series, cfg, 0);
        (start, _) = run_start(series, &scores)?;
    }
    let first = scores.get(start)?.date;
    let impact = last.actual - last.expected;
    let expected = to_f64(last.expected);
    Some(Anomaly {
        scope: series.scope.clone(),
        start_date: first,
        date: last.date,
        direction: if impact < Money::ZERO {
            Direction::Fall
        } else {
            Direction::Rise
        },
        actual: last.actual,
        expected: last.expected,
        lower: last.lower,
        upper: last.upper,
        impact,
        impact_pct: (expected > ZERO).then(|| to_f64(impact) / expected * 100.0),
        score: last.score,
        root_causes: Vec::new(),
    })
}

/// Index into `scores` of the first day of the anomalous run ending on the series' last day,
/// and that last day's score.
fn run_start(series: &DailySeries, scores: &[DayScore]) -> Option<(usize, DayScore)> {
    let last = *scores.last()?;
    if last.date != series.end() || !last.anomalous {
        return None;
    }
    let rising = last.actual >= last.expected;
    let mut start = scores.len() - 1;
    while start > 0 {
        let (prev, cur) = (&scores[start - 1], &scores[start]);
        let only_missing_between = prev
            .date
            .iter_days()
            .skip(1)
            .take_while(|d| *d < cur.date)
            .all(|d| series.get(d).is_none());
        if !prev.anomalous || (prev.actual >= prev.expected) != rising || !only_missing_between {
            break;
        }
        start -= 1;
    }
    Some((start, last))
}

/// Expected gross spend at `index` by the detector's model, for root-cause attribution; falls
/// back to 0 for a scope without prior spend and to the median of the window's observed days
/// when there is too little history for the model.
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
    expected_at(&parts, index, cfg.lookback()).unwrap_or_else(|| {
        let window: Vec<f64> = parts.actual
            [index.saturating_sub(cfg.lookback())..index.min(parts.len())]
            .iter()
            .flatten()
            .copied()
            .collect();
        median(&window).unwrap_or(0.0)
    })
}

/// Model expectation for day `t` from days before it; `None` without enough history.
fn expected_at(parts: &Parts, t: usize, lookback: usize) -> Option<f64> {
    let flow = WeeklyBaseline::fit(parts, t, lookback, MIN_HISTORY_DAYS)?;
    let actual_calendar = parts.calendar.get(t).copied().flatten().unwrap_or(0.0);
    let calendar = t
        .checked_sub(1)
        .and_then(|last| calendar_expected(parts, parts.date(t), last))
        .unwrap_or(actual_calendar);
    Some(flow.predict(parts.weekday(t)) + calendar)
}

/// Scores days `first..` (their expectations and residual windows reach back `2 × lookback`).
fn score_from(series: &DailySeries, cfg: &DetectorConfig, first: usize) -> Vec<DayScore> {
    let parts = Parts::new(series, false);
    let n = parts.len();
    let lookback = cfg.lookback();
    let first_spend = parts
        .actual
        .iter()
        .position(|v| v.is_some_and(|v| v.abs() > ZERO));

    // One-step-ahead expectations and residuals for the scored days and the window before them.
    let calc_from = first.saturating_sub(lookback);
    let mut expected: Vec<Option<f64>> = vec![None; n];
    let mut residual: Vec<Option<f64>> = vec![None; n];
    for t in calc_from..n {
        let Some(actual) = parts.actual[t] else {
            continue;
        };
        expected[t] = expected_at(&parts, t, lookback);
        residual[t] = expected[t].map(|e| actual - e);
    }

    let mut out = Vec::new();
    for t in first..n {
        let Some(actual) = parts.actual[t] else {
            continue;
        };
        let gross = series.days[t].map(|d| d.gross()).unwrap_or_default();
        let date = parts.date(t);
        if first_spend.is_none_or(|f| f >= t) && t >= NEW_SCOPE_WATCH_DAYS {
            out.push(new_spend(date, gross, actual, cfg));
            continue;
        }
        let Some(exp) = expected[t] else { continue };
        let window: Vec<f64> = residual[t.saturating_sub(lookback)..t]
            .iter()
            .flatten()
            .copied()
            .collect();
        if window.len() < MIN_RESIDUALS {
            continue;
        }
        let floor = SPREAD_FLOOR_ABS.max(SPREAD_FLOOR_REL * exp.abs());
        let spread = mad(&window).map_or(floor, |m| (MAD_TO_SIGMA * m).max(floor));
        out.push(judge(date, gross, actual, exp, spread, cfg));
    }
    out
}

fn judge(
    date: NaiveDate,
    gross: Money,
    actual: f64,
    exp: f64,
    spread: f64,
    cfg: &DetectorConfig,
) -> DayScore {
    let z = (actual - exp) / spread;
    let half = (cfg.sensitivity * spread)
        .max(to_f64(cfg.min_impact))
        .max(exp.max(0.0) * cfg.min_pct / 100.0);
    let impact = actual - exp;
    let anomalous = impact >= half || (cfg.detect_falls && -impact >= half);
    // Spend cannot go below zero, so neither does the band of a non-negative expectation.
    let lower = if exp >= 0.0 {
        (exp - half).max(0.0)
    } else {
        exp - half
    };
    DayScore {
        date,
        actual: gross,
        expected: from_f64(exp),
        lower: from_f64(lower),
        upper: from_f64(exp + half),
        score: score(z, cfg.sensitivity),
        anomalous,
    }
}

/// A charge on a scope that never spent before: expected nothing, alert at the floor.
fn new_spend(date: NaiveDate, gross: Money, actual: f64, cfg: &DetectorConfig) -> DayScore {
    DayScore {
        date,
        actual: gross,
        expected: Money::ZERO,
        lower: Money::ZERO,
        upper: cfg.new_spend_floor,
        score: score(actual / SPREAD_FLOOR_ABS, cfg.sensitivity),
        anomalous: actual > ZERO && gross >= cfg.new_spend_floor,
    }
}

fn score(z: f64, sensitivity: f64) -> f64 {
    let s = sensitivity.max(f64::EPSILON);
    (1.0 - (-z.abs() / s).exp2()).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_half_at_the_threshold() {
        assert!((score(4.0, 4.0) - 0.5).abs() < 1e-12);
        assert_eq!(score(0.0, 4.0), 0.0);
        assert!(score(-40.0, 4.0) > 0.99);
    }

    #[test]
    fn config_defaults_and_rejects_unknown_fields() {
        let cfg: DetectorConfig = serde_json::from_str(r#"{"min_pct": 30}"#).expect("valid config");
        assert_eq!(cfg.min_impact, Money::from(25));
        assert_eq!(cfg.min_pct, 30.0);
        assert_eq!(cfg.lookback_days, 56);
        assert!(serde_json::from_str::<DetectorConfig>(r#"{"sensitivty": 3}"#).is_err());
    }
}
