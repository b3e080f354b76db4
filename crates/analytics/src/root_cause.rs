//! Root cause: which children of an anomalous scope moved, in dollars.
//!
//! Each child's contribution on the anomaly's day is its gross spend minus what the detector's
//! own model expected for it (see [`crate::detect`]), so contributions and the parent's impact
//! are measured the same way. A child with no spend before the day contributes all of it; one
//! with too little history for the model is compared with the median of its observed days.
//! Children move in both directions at once (one service up, another down); only those moving
//! the way the anomaly did explain it.

use chrono::NaiveDate;
use costwatch_core::findings::RootCause;
use costwatch_core::money::{from_f64, to_f64};
use costwatch_core::{DailySeries, Money};

use crate::detect::{DetectorConfig, expected_gross};

/// children: (dimension, value, series) e.g. ("service", "Amazon EC2", series of org × that
/// service). Ranks by dollar contribution on `date` (actual − the same model's expected), with
/// share = contribution / parent impact clamped to 0–1; returns those in the anomaly's direction,
/// largest first, at most `limit`. Children without data on `date` are skipped.
pub fn rank(
    children: &[(String, String, DailySeries)],
    date: NaiveDate,
    parent_impact: Money,
    cfg: &DetectorConfig,
    limit: usize,
) -> Vec<RootCause> {
    if parent_impact.is_zero() || limit == 0 {
        return Vec::new();
    }
    let rising = parent_impact > Money::ZERO;
    let mut causes: Vec<RootCause> = children
        .iter()
        .filter_map(|(dimension, value, series)| {
            let day = series.get(date)?;
            let index = usize::try_from((date - series.start).num_days()).ok()?;
            let contribution = day.gross() - from_f64(expected_gross(series, index, cfg));
            let same_way = if rising {
                contribution > Money::ZERO
            } else {
                contribution < Money::ZERO
            };
            same_way.then(|| RootCause {
                dimension: dimension.clone(),
                value: value.clone(),
                contribution,
                share: (to_f64(contribution) / to_f64(parent_impact)).clamp(0.0, 1.0),
            })
        })
        .collect();
    largest_first(&mut causes, limit);
    causes
}

/// The `limit` largest moves, largest first; ties broken by name so the order is stable run to
/// run. (An alert's drivers are ranked the same way: `crate::drivers`.)
pub(crate) fn largest_first(causes: &mut Vec<RootCause>, limit: usize) {
    causes.sort_by(|a, b| {
        b.contribution
            .abs()
            .cmp(&a.contribution.abs())
            .then_with(|| (&a.dimension, &a.value).cmp(&(&b.dimension, &b.value)))
    });
    causes.truncate(limit);
}
