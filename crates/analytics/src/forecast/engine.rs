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
use super::prepare::{align_level_shifts, fill, yearly_analog, yearly_component};
use super::regime::RecentShift;

/// Origins the models are chosen on: the last 13 weeks (recent behaviour is what counts).
const SELECT_DAYS: usize = 91;
/// Origins the intervals are measured on: the last two years, so that quiet and busy seasons
/// (two of each) set the width; 13 quiet weeks before a busy holiday season would give far too
/// narrow ones.
const BACKTEST_DAYS: usize = 730;
/// Spacing of the older back-test origins.
const OLDER_ORIGIN_STEP: usize = 3;
/// Days either side of the forecast's date, in earlier years, whose back-test origins judge a
/// yearly adjustment alongside the whole back-test (at least the horizon).
const SEASON_DAYS: usize = 28;
/// Mean days in a year, for finding the same stretch of earlier years.
const YEAR_DAYS: f64 = 365.25;
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
    /// Per horizon, how far the best candidates disagree about the forecast beyond what they
    /// usually did at the back-test's origins (`unusual_spread`).
    pub unusual_spread: Vec<f64>,
    /// Offset of the first observed day in the input.
    first: usize,
    /// A new level in the last days, which history was moved onto (`regime`).
    pub shift: Option<RecentShift>,
    /// Level shifts history was aligned across, after `shift`: (first day of the new level,
    /// size), each moving every day before it by its size.
    steps: Vec<(usize, f64)>,
}

impl Fitted {
    /// Forecast from back-test origin `row` at horizon `h ≥ 1`.
    pub(crate) fn at(&self, row: usize, h: usize) -> f64 {
        self.backtest[row * self.horizon + h - 1]
    }

    /// `v`, a value of input day `i`, on the level the back-test forecast from input day `origin`
    /// was made at: back-test forecasts are compared with this.
    ///
    /// * Days before a recent change of level count at the new level's scale (`regime`).
    /// * Level shifts history was aligned across move `v` by the shifts after the origin, not
    ///   after day `i`: the forecast from an origin before a shift was made on history already
    ///   moved to the later level, which no forecaster at that origin could know, so a shift
    ///   inside the horizon stays in the error, as it would have surprised a forecast made
    ///   then. Compared with the raw value instead, every day before a shift erred by the
    ///   shift's size: on log page views, 80 % intervals reached 2.8 above forecasts that erred
    ///   by 0.3 on average.
    pub(crate) fn align(&self, origin: usize, i: usize, v: f64) -> f64 {
        let Some(t) = i.checked_sub(self.first) else {
            return v;
        };
        let v = self.shift.as_ref().map_or(v, |s| s.align(t, v));
        let at = origin.saturating_sub(self.first);
        v + self
            .steps
            .iter()
            .filter(|(c, _)| at < *c)
            .map(|(_, jump)| jump)
            .sum::<f64>()
    }
}

struct Candidate {
    name: String,
    /// Rows for every back-test origin, then one for the last day.
    paths: Vec<f64>,
    /// Mean absolute error over the selection window.
    mae: f64,
    /// Yearly adjustment: "", "+yearly" (Fourier) or "+lastyears" (calendar analogy).
    yearly: &'static str,
    /// What the yearly adjustment is judged on: the mean of the mean absolute errors over
    /// every back-test origin and over the origins in the same stretch of the year as the
    /// forecast in earlier years (the whole back-test alone when there are none).
    year_mae: f64,
}

/// Fits and chooses on `values` (missing days `None`), whose last entry must be observed.
/// `None` when nothing is observed or `horizon` is 0.
pub(crate) fn fit(values: &[Option<f64>], horizon: usize) -> Option<Fitted> {
    if horizon == 0 || values.last().copied().flatten().is_none() {
        return None;
    }
    let (first, mut y, seen) = fill(values)?;
    let shift = RecentShift::detect(&y);
    if let Some(s) = &shift {
        s.apply(&mut y);
    }
    let steps = align_level_shifts(&mut y);
    // After a recent change of level, models are chosen on their forecasts from the days since
    // (`regime`): from older origins, every model would be judged on the old regime's shape.
    let judged_from = shift.map_or(0, |s| s.start);
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

    // Origins in the same stretch of the year as the forecast, in earlier years.
    let stretch = horizon.max(SEASON_DAYS) as f64;
    let in_season = |o: usize| {
        let years = (n - 1 - o) as f64 / YEAR_DAYS;
        years.round() >= 1.0 && (years - years.round()).abs() * YEAR_DAYS <= stretch
    };
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
        // A yearly component must be estimated from days before the targets it is judged
        // on: the Fourier fit is redone every `YEARLY_REFIT_DAYS` of origins on the days before
        // them (and, for the forecast itself, on everything), the calendar analogy reads only
        // days a year or more back by construction.
        let blocks = refit_blocks(&origins);
        let fourier: Option<Cycles> = blocks
            .iter()
            .map(|&b| Some((b, yearly_component(&base, origins[b] + 1, horizon)?)))
            .collect();
        let analog = yearly_analog(&base, origins[0], horizon).map(|c| vec![(0usize, c)]);
        let mut variants: Vec<(Option<Cycles>, &'static str)> = vec![(None, "")];
        for (c, tag) in [(fourier, "+yearly"), (analog, "+lastyears")] {
            if c.is_some() {
                variants.push((c, tag));
            }
        }
        for (cycles, tag) in &variants {
            for kind in &kinds {
                let mut paths = match cycles {
                    None => kind.run(&base, &origins, horizon),
                    Some(cycles) => adjusted_paths(*kind, &base, &origins, horizon, cycles),
                };
                if log {
                    // exp of a log forecast is the median; with daily noise of a few percent
                    // the mean differs by far less than the error.
                    paths.iter_mut().for_each(|v| *v = v.exp());
                }
                let mae = score(
                    &paths[select * horizon..],
                    &origins[select..rows],
                    horizon,
                    (&y, &seen),
                    &|o| o >= judged_from,
                );
                let whole = score(
                    &paths[..rows * horizon],
                    &origins[..rows],
                    horizon,
                    (&y, &seen),
                    &|_| true,
                );
                let season = score(
                    &paths[..rows * horizon],
                    &origins[..rows],
                    horizon,
                    (&y, &seen),
                    &in_season,
                );
                let year_mae = if season.is_finite() {
                    (whole + season) / 2.0
                } else {
                    whole
                };
                let name = format!("{}{}{tag}", if log { "log-" } else { "" }, kind.name());
                candidates.push(Candidate {
                    name,
                    paths,
                    mae,
                    yearly: tag,
                    year_mae,
                });
            }
        }
    }
    // Whether (and how) to take a yearly cycle out is decided on the back-test beyond the recent
    // window: a 13-week window in a quiet season would always prefer no adjustment (it only
    // adds the noise of the estimate), and then miss the holiday that comes next. Half the
    // weight is the whole back-test (two years when there are, every season twice), half the
    // same stretch of the year in the earlier years: a cycle that matters for a few weeks (page
    // views falling at Christmas and back in January) is lost in two years' average, where
    // the adjustment's noise on the other 48 weeks outweighs it. The adjustment whose best
    // candidate errs least there wins; the models are then chosen among its candidates on the
    // recent window, as before.
    if let Some(way) = candidates
        .iter()
        .min_by(|a, b| a.year_mae.total_cmp(&b.year_mae))
        .map(|c| c.yearly)
    {
        candidates.retain(|c| c.yearly == way);
    }
    candidates.sort_by(|a, b| a.mae.total_cmp(&b.mae));

    let mut best: Option<(f64, Vec<f64>, usize)> = None;
    for k in 1..=MAX_COMBINED.min(candidates.len()) {
        let paths = mean_paths(&candidates[..k]);
        let mae = score(
            &paths[select * horizon..],
            &origins[select..rows],
            horizon,
            (&y, &seen),
            &|o| o >= judged_from,
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
    let unusual_spread = unusual_spread(&candidates, rows, horizon);
    Some(Fitted {
        horizon,
        origins: origins[..rows].iter().map(|o| o + first).collect(),
        backtest: paths[..split].to_vec(),
        mean: paths[split..].to_vec(),
        chosen: candidates[..k].iter().map(|c| c.name.clone()).collect(),
        unusual_spread,
        first,
        shift,
        steps,
    })
}

/// A yearly component per block of back-test origins: (index of the block's first origin, the
/// component that block uses).
type Cycles = Vec<(usize, Vec<f64>)>;

/// Origins apart at which the yearly Fourier fit is redone in the back-test.
const YEARLY_REFIT_DAYS: usize = 91;

/// Blocks of origins sharing one yearly fit, as the index of each block's first origin. The
/// last origin (the forecast itself) is a block of its own, fitted on everything.
fn refit_blocks(origins: &[usize]) -> Vec<usize> {
    let last = origins.len() - 1;
    let mut out = Vec::new();
    let mut b = 0;
    while b < last {
        let e = (b..last)
            .find(|&i| origins[i] >= origins[b] + YEARLY_REFIT_DAYS)
            .unwrap_or(last);
        out.push(b);
        b = e;
    }
    out.push(last);
    out
}

/// Paths of `kind` on `y` with a yearly component taken out and added back: `cycles` holds,
/// for each block of origins from its first index on, the component that block uses.
fn adjusted_paths(
    kind: ModelKind,
    y: &[f64],
    origins: &[usize],
    horizon: usize,
    cycles: &Cycles,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(origins.len() * horizon);
    for (i, (b, c)) in cycles.iter().enumerate() {
        let e = cycles.get(i + 1).map_or(origins.len(), |n| n.0);
        let series: Vec<f64> = y.iter().zip(c).map(|(v, s)| v - s).collect();
        let mut paths = kind.run(&series, &origins[*b..e], horizon);
        for (r, o) in origins[*b..e].iter().enumerate() {
            for h in 1..=horizon {
                paths[r * horizon + h - 1] += c[o + h];
            }
        }
        out.extend(paths);
    }
    out
}

/// Mean absolute error over the (origin, horizon) pairs from origins `from` or later that land
/// on an observed day. Infinite when there are none, so an unscored candidate is never preferred to a
/// scored one.
fn score(
    paths: &[f64],
    origins: &[usize],
    horizon: usize,
    (y, seen): (&[f64], &[bool]),
    keep: &dyn Fn(usize) -> bool,
) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for (r, &o) in origins.iter().enumerate().filter(|(_, o)| keep(**o)) {
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

/// Candidates whose disagreement is read: the plausible ones, by their back-test error.
const SPREAD_CANDIDATES: usize = 5;

/// Per horizon, the part of the best candidates' disagreement at the forecast's origin beyond
/// their usual one: √max(0, sd² − mean of the back-test origins' sd²), sd being the standard
/// deviation of [`SPREAD_CANDIDATES`] forecasts. The back-test errors, which set the interval,
/// already hold the usual disagreement; models that agree as they always did add nothing.
fn unusual_spread(candidates: &[Candidate], rows: usize, horizon: usize) -> Vec<f64> {
    let top = &candidates[..candidates.len().min(SPREAD_CANDIDATES)];
    let var = |r: usize, h: usize| -> f64 {
        let k = top.len() as f64;
        if top.len() < 2 {
            return 0.0;
        }
        let at = |c: &Candidate| c.paths[r * horizon + h];
        let mean = top.iter().map(at).sum::<f64>() / k;
        top.iter().map(|c| (at(c) - mean).powi(2)).sum::<f64>() / (k - 1.0)
    };
    (0..horizon)
        .map(|h| {
            let usual = (0..rows).map(|r| var(r, h)).sum::<f64>() / rows.max(1) as f64;
            (var(rows, h) - usual).max(0.0).sqrt()
        })
        .collect()
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

    fn candidate(rows: &[f64]) -> Candidate {
        Candidate {
            name: String::new(),
            paths: rows.to_vec(),
            mae: 0.0,
            yearly: "",
            year_mae: 0.0,
        }
    }

    #[test]
    fn only_disagreement_beyond_the_usual_widens() {
        // Two back-test origins and the forecast's, one horizon: the five best candidates
        // disagree by a spread of sd 1 at every back-test origin.
        let usual = [-2.0, -1.0, 0.0, 1.0, 2.0].map(|d| d * 0.632_455_5);
        let as_usual: Vec<Candidate> = usual.iter().map(|d| candidate(&[*d, -d, *d])).collect();
        assert!(unusual_spread(&as_usual, 2, 1)[0].abs() < 1e-6);
        // At the forecast's origin they spread by sd 5: √(25 − 1) beyond the usual.
        let apart: Vec<Candidate> = usual
            .iter()
            .map(|d| candidate(&[*d, -d, 5.0 * d]))
            .collect();
        assert!((unusual_spread(&apart, 2, 1)[0] - 24f64.sqrt()).abs() < 1e-6);
        // A sixth candidate is not among the plausible ones, however far off.
        let mut six = apart;
        six.push(candidate(&[0.0, 0.0, 1e6]));
        assert!((unusual_spread(&six, 2, 1)[0] - 24f64.sqrt()).abs() < 1e-6);
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
