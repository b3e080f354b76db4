//! Anomaly detection on one daily cost series, online: day `t` is judged from days before it.
//!
//! **What is judged.** Gross spend of a day (usage + recurring + tax). Credits and refunds are
//! left out: a credit is not an anomaly, and a credit landing on a spike must not hide it.
//!
//! **Expected value** (see [`daily`]):
//! * usage, through the shared [`Core`](crate::stream::Core) with a weekly period: the level
//!   (median of the last 14 observed days, de-seasonalised), each weekday's shape over the last
//!   8 weeks, and the drift of a steady trend;
//! * recurring fees and tax (FOCUS ChargeCategory Purchase/Tax, ChargeFrequency Recurring or
//!   One-Time: RI and Savings Plans fees, support, tax on the 1st): the same day of last month,
//!   re-levelled by the current daily run-rate, so the fees on the 1st are expected on the next
//!   1st. Without a month of history that charge is unknowable and is not judged.
//!
//! **Spread.** 1.4826 × median |actual − expected| over the last `lookback_days` days, floored at
//! max(2 % of expected, $1) so a flat series does not alert on cents.
//!
//! **Decision.** A day is anomalous when its impact (actual − expected) reaches the band's
//! half-width `max(sensitivity × spread, floors)`, where the floors are `min_impact` and
//! `min_pct` of expected, both (`require = "both"`) or the smaller one (`"either"`); rises
//! always, falls only with `detect_falls`. Thresholds may be set per scope kind or scope.
//!
//! **New spend.** A scope with no spend so far (every earlier observed day zero or missing,
//! watched for at least 7 days) is anomalous on its first charge ≥ `new_spend_floor`.
//!
//! **Level shifts** alert at their start; the level follows once the new level is the
//! majority of its 14-day window (after about a week), and the lifecycle keeps the whole run
//! one alert (pipeline: open → ongoing → resolved).
//!
//! **Score.** `1 − 2^(−|z| / sensitivity)`, z = impact / spread: 0 on the baseline, 0.5 exactly
//! at the sensitivity, → 1 as |z| grows; comparable across scopes of any size.

mod config;
mod daily;

use chrono::NaiveDate;
use costwatch_core::findings::{Anomaly, Direction};
use costwatch_core::money::to_f64;
use costwatch_core::{DailySeries, Money, Scope};
use serde::{Deserialize, Serialize};

pub use config::{DetectorConfig, Require, ScopeThresholds};
pub(crate) use daily::expected_gross;

/// Spend below half a cent is no spend.
const ZERO: f64 = 0.005;

/// The detector's verdict on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayScore {
    pub date: NaiveDate,
    /// Gross spend (usage + recurring + tax).
    pub actual: Money,
    pub expected: Money,
    /// Band outside which the day is anomalous (all gates folded in).
    pub lower: Money,
    pub upper: Money,
    /// `1 − 2^(−|z| / sensitivity)`, in [0, 1).
    pub score: f64,
    pub anomalous: bool,
}

/// Scores every day that has enough history, using only days before it (no look-ahead), with
/// the thresholds in force for the series' scope. Missing days are skipped (never read as zero)
/// and get no score.
pub fn score_series(series: &DailySeries, cfg: &DetectorConfig) -> Vec<DayScore> {
    daily::score_days(series, &cfg.for_scope(&series.scope))
        .iter()
        .map(|v| v.day_score(series))
        .collect()
}

/// The anomaly on the series' last day, if any; start_date = first day of the current
/// consecutive anomalous run (missing days inside the run neither break nor extend it).
/// root_causes left empty (see [`crate::root_cause`]).
pub fn detect_latest(series: &DailySeries, cfg: &DetectorConfig) -> Option<Anomaly> {
    series.days.last().copied().flatten()?;
    judge_since(series, cfg, series.end()).latest
}

/// One pass over a series: what [`detect_latest`] finds on its last day, and the scores of the
/// observed days from `since` on (what a caller re-judging recent days needs, without a second
/// pass).
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub latest: Option<Anomaly>,
    pub recent: Vec<DayScore>,
}

/// [`Judged`] for `series`: the recent days' scores from `since` on and the last day's anomaly.
pub fn judge_since(series: &DailySeries, cfg: &DetectorConfig, since: NaiveDate) -> Judged {
    let verdicts = daily::score_days(series, &cfg.for_scope(&series.scope));
    let first_recent = verdicts.partition_point(|v| v.date < since);
    Judged {
        latest: anomaly_ending(series, &verdicts),
        recent: verdicts[first_recent..]
            .iter()
            .map(|v| v.day_score(series))
            .collect(),
    }
}

/// The anomaly whose run ends on the series' last day, from its verdicts.
fn anomaly_ending(series: &DailySeries, verdicts: &[daily::Verdict]) -> Option<Anomaly> {
    let (start, last) = run_start(series, verdicts)?;
    let start_date = verdicts.get(start)?.date;
    Some(on_day(&series.scope, start_date, &last.day_score(series)))
}

/// An anomaly of `scope` begun on `start_date` with `day`'s figures (root causes left empty).
pub fn on_day(scope: &Scope, start_date: NaiveDate, day: &DayScore) -> Anomaly {
    let impact = day.actual - day.expected;
    let expected = to_f64(day.expected);
    Anomaly {
        scope: scope.clone(),
        start_date,
        date: day.date,
        direction: if impact < Money::ZERO {
            Direction::Fall
        } else {
            Direction::Rise
        },
        actual: day.actual,
        expected: day.expected,
        lower: day.lower,
        upper: day.upper,
        impact,
        impact_pct: (expected > ZERO).then(|| to_f64(impact) / expected * 100.0),
        score: day.score,
        root_causes: Vec::new(),
        resources: Vec::new(),
    }
}

/// Index into `scores` of the first day of the anomalous run ending on the series' last day,
/// and that last day's score.
fn run_start(series: &DailySeries, scores: &[daily::Verdict]) -> Option<(usize, daily::Verdict)> {
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

pub(crate) fn score(z: f64, sensitivity: f64) -> f64 {
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
