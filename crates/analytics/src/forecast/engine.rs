//! Model choice by rolling-origin back-test, on one plain daily series.
//!
//! Every candidate model (see `models`), on the level-aligned series and, with two years of
//! history, on the series with its yearly cycle taken out, forecasts `horizon` days from each of
//! the last 91 days; each is scored by its mean absolute error over every (origin, horizon) pair
//! that can be checked against an observed day. The forecast is the best candidate, or the mean
//! of the best two or three when that scores better still: combinations are the most reliable
//! improvement known on competitions like M4, and the back-test decides when they help.
//!
//! The back-test forecasts of the chosen combination are kept: their errors are what the
//! intervals are built from (`intervals`).

use super::models::ModelKind;
use super::prepare::{align_level_shifts, fill, yearly_component};

/// Origins the models are chosen on: the last 13 weeks (recent behaviour is what counts).
const SELECT_DAYS: usize = 91;
/// Origins the intervals are measured on: the last two years, so that quiet and busy seasons
/// (two of each) set the width; 13 quiet weeks before a busy holiday season would give far too
/// narrow ones.
const BACKTEST_DAYS: usize = 730;
/// Spacing of the older back-test origins.
const OLDER_ORIGIN_STEP: usize = 3;
/// Largest combination tried (mean of the best k candidates).
const MAX_COMBINED: usize = 3;

/// The chosen forecast, from the last day and from every back-test origin.
pub(crate) struct Fitted {
    pub horizon: usize,
    /// Back-test origins, as indices of the input, ascending.
    pub origins: Vec<usize>,
    /// Forecast from each origin: row-major, `horizon` values a row.
    pub backtest: Vec<f64>,
    /// Forecast for the `horizon` days after the input's last day.
    pub mean: Vec<f64>,
    /// What was chosen, e.g. `["ets-aada", "theta+yearly"]`.
    pub chosen: Vec<String>,
}

impl Fitted {
    /// Forecast from back-test origin `row` at horizon `h ≥ 1`.
    pub(crate) fn at(&self, row: usize, h: usize) -> f64 {
        self.backtest[row * self.horizon + h - 1]
    }
}

struct Candidate {
    name: String,
    /// Rows for every back-test origin, then one for the last day.
    paths: Vec<f64>,
    mae: f64,
}

/// Fits and chooses on `values` (missing days `None`), whose last entry must be observed.
/// `None` when nothing is observed or `horizon` is 0.
pub(crate) fn fit(values: &[Option<f64>], horizon: usize) -> Option<Fitted> {
    if horizon == 0 || values.last().copied().flatten().is_none() {
        return None;
    }
    let (first, mut y, seen) = fill(values)?;
    align_level_shifts(&mut y);
    let n = y.len();
    let kinds = ModelKind::available(n);
    // Earliest origin with enough history for every available model.
    let min_origin = match n {
        0..=8 => 0,
        9..=34 => 7,
        _ => 20,
    };
    // Every day of the selection window; every third day of the two years before it, which gives
    // the intervals enough errors at a third of the cost.
    let select_lo = (n - 1).saturating_sub(SELECT_DAYS).max(min_origin);
    let lo = (n - 1).saturating_sub(BACKTEST_DAYS).max(min_origin);
    let mut origins: Vec<usize> = (lo..select_lo).rev().step_by(OLDER_ORIGIN_STEP).collect();
    origins.reverse();
    let select = origins.len();
    origins.extend(select_lo..n - 1);
    let rows = origins.len();
    origins.push(n - 1);

    let mut candidates: Vec<Candidate> = Vec::new();
    // Spend that is always positive often moves in proportion (a weekend at half the weekdays,
    // growth in percent): on logs, the same models are multiplicative.
    let positive = n >= 3 * 7 && y.iter().all(|v| *v > 0.0);
    let scales: &[bool] = if positive { &[false, true] } else { &[false] };
    for &log in scales {
        let base: Vec<f64> = if log {
            y.iter().map(|v| v.ln()).collect()
        } else {
            y.clone()
        };
        let yearly = origins
            .first()
            .and_then(|_| yearly_component(&base, origins[select] + 1, horizon));
        let mut variants: Vec<(Vec<f64>, Option<&Vec<f64>>)> = vec![(base.clone(), None)];
        if let Some(c) = &yearly {
            variants.push((base.iter().zip(c).map(|(v, s)| v - s).collect(), Some(c)));
        }
        for (series, cycle) in &variants {
            for kind in &kinds {
                let mut paths = kind.run(series, &origins, horizon);
                for (r, o) in origins.iter().enumerate() {
                    for h in 1..=horizon {
                        let v = &mut paths[r * horizon + h - 1];
                        if let Some(c) = cycle {
                            *v += c[o + h];
                        }
                        if log {
                            // exp of a log forecast is the median; with daily noise of a few
                            // percent the mean differs by far less than the error.
                            *v = v.exp();
                        }
                    }
                }
                let mae = score(
                    &paths[select * horizon..],
                    &origins[select..rows],
                    horizon,
                    &y,
                    &seen,
                );
                let name = format!(
                    "{}{}{}",
                    if log { "log-" } else { "" },
                    kind.name(),
                    if cycle.is_some() { "+yearly" } else { "" }
                );
                candidates.push(Candidate { name, paths, mae });
            }
        }
    }
    candidates.sort_by(|a, b| a.mae.total_cmp(&b.mae));

    let mut best: Option<(f64, Vec<f64>, usize)> = None;
    for k in 1..=MAX_COMBINED.min(candidates.len()) {
        let paths = mean_paths(&candidates[..k]);
        let mae = score(
            &paths[select * horizon..],
            &origins[select..rows],
            horizon,
            &y,
            &seen,
        );
        // A combination must beat the simpler choice, not tie it.
        if best
            .as_ref()
            .is_none_or(|(m, _, _)| mae < *m * (1.0 - 1e-9))
        {
            best = Some((mae, paths, k));
        }
    }
    let (_, paths, k) = best?;
    let split = rows * horizon;
    Some(Fitted {
        horizon,
        origins: origins[..rows].iter().map(|o| o + first).collect(),
        backtest: paths[..split].to_vec(),
        mean: paths[split..].to_vec(),
        chosen: candidates[..k].iter().map(|c| c.name.clone()).collect(),
    })
}

/// Mean absolute error over the (origin, horizon) pairs that land on an observed day.
/// Infinite when there are none, so an unscored candidate is never preferred to a scored one.
fn score(paths: &[f64], origins: &[usize], horizon: usize, y: &[f64], seen: &[bool]) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for (r, &o) in origins.iter().enumerate() {
        for h in 1..=horizon.min(y.len() - 1 - o) {
            if seen[o + h] {
                sum += (y[o + h] - paths[r * horizon + h - 1]).abs();
                count += 1;
            }
        }
    }
    if count == 0 {
        f64::INFINITY
    } else {
        sum / count as f64
    }
}

fn mean_paths(candidates: &[Candidate]) -> Vec<f64> {
    let k = candidates.len() as f64;
    let mut out = vec![0.0; candidates[0].paths.len()];
    for c in candidates {
        for (o, v) in out.iter_mut().zip(&c.paths) {
            *o += v / k;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noiseless_weekly_series_is_forecast_exactly() {
        let shape = [5.0, 3.0, 0.0, -1.0, 2.0, -4.0, -5.0];
        let v: Vec<Option<f64>> = (0..120).map(|t| Some(100.0 + shape[t % 7])).collect();
        let f = fit(&v, 14).expect("fits");
        for (h, m) in f.mean.iter().enumerate() {
            assert!(
                (m - (100.0 + shape[(120 + h) % 7])).abs() < 1e-6,
                "{:?}",
                f.chosen
            );
        }
        assert_eq!(f.origins.len(), 91 + (119usize - 91 - 20).div_ceil(3));
    }

    #[test]
    fn short_and_gappy_inputs_still_forecast() {
        assert_eq!(fit(&[Some(3.0)], 5).expect("one day").mean, vec![3.0; 5]);
        let v = [None, Some(1.0), None, Some(2.0), Some(3.0)];
        assert_eq!(fit(&v, 2).expect("fits").mean.len(), 2);
        assert!(
            fit(&[Some(1.0), None], 3).is_none(),
            "last day must be observed"
        );
    }
}
