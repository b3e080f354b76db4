//! The candidate models. Each one forecasts horizons `1..=h` from every origin of a list in one
//! call, so a rolling-origin back-test costs little more than the final forecast: models with
//! fitted parameters fit them once on the whole (prepared) series and then read their state at
//! each origin; the others only read data up to the origin.
//!
//! Index `t` of the input falls on season `t % 7`: callers align nothing, weekdays only matter
//! relative to each other. Input is gap-free (see `prepare`).

use crate::stats::median;

use super::ets::{self, Ets};
use super::robust::Clipper;

/// Forecasts, row-major: row `r` holds horizons `1..=h` from `origins[r]`.
pub(crate) type Paths = Vec<f64>;

const WEEK: usize = 7;

/// Every model the back-test chooses among.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelKind {
    /// Last value carried forward.
    Naive,
    /// Same weekday last week.
    SeasonalNaive,
    /// Weekly shape (weekday medians) on the median level of the last two weeks.
    RobustWeekly,
    /// Exponential smoothing, additive level and weekly season (ETS(A,N,A)).
    EtsSeasonal,
    /// The same with a damped additive trend (ETS(A,Ad,A)).
    EtsDampedTrend,
    /// Theta method on the weekly-adjusted series (SES with half the regression drift).
    Theta,
    /// The same with the whole drift (θ → ∞ in Hyndman & Billah's form): a steady trend is
    /// extrapolated in full. Every other model damps or halves it, so on spend that grows a
    /// few dollars a day every month-end total fell short (about 55 % of the trend followed).
    ThetaFullDrift,
}

impl ModelKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Naive => "naive",
            Self::SeasonalNaive => "seasonal-naive",
            Self::RobustWeekly => "robust-weekly",
            Self::EtsSeasonal => "ets-ana",
            Self::EtsDampedTrend => "ets-aada",
            Self::Theta => "theta",
            Self::ThetaFullDrift => "theta-drift",
        }
    }

    /// The models that can be fitted on `n` days, simplest first.
    pub(crate) fn available(n: usize) -> Vec<Self> {
        let mut out = vec![Self::Naive];
        if n > WEEK {
            out.push(Self::SeasonalNaive);
        }
        if n >= 3 * WEEK {
            out.extend([
                Self::RobustWeekly,
                Self::EtsSeasonal,
                Self::Theta,
                Self::ThetaFullDrift,
            ]);
        }
        if n >= 5 * WEEK {
            out.push(Self::EtsDampedTrend);
        }
        out
    }

    /// Paths from each origin (each `< y.len()`, at least `min_origin(n)`).
    pub(crate) fn run(self, y: &[f64], origins: &[usize], h: usize) -> Paths {
        match self {
            Self::Naive => naive(y, origins, h),
            Self::SeasonalNaive => seasonal_naive(y, origins, h),
            Self::RobustWeekly => robust_weekly(y, origins, h),
            Self::EtsSeasonal => Ets::fit(y, ets::Trend::None).paths(y, origins, h),
            Self::EtsDampedTrend => Ets::fit(y, ets::Trend::Damped).paths(y, origins, h),
            Self::Theta => theta(y, origins, h, 0.5),
            Self::ThetaFullDrift => theta(y, origins, h, 1.0),
        }
    }
}

fn naive(y: &[f64], origins: &[usize], h: usize) -> Paths {
    origins
        .iter()
        .flat_map(|&o| std::iter::repeat_n(y[o], h))
        .collect()
}

fn seasonal_naive(y: &[f64], origins: &[usize], h: usize) -> Paths {
    let mut out = Vec::with_capacity(origins.len() * h);
    for &o in origins {
        for step in 1..=h {
            // The latest observed day of the same season: o + step − 7·⌈step / 7⌉.
            let back = WEEK * step.div_ceil(WEEK);
            out.push(y[(o + step).checked_sub(back).unwrap_or(o)]);
        }
    }
    out
}

/// Days whose median is the level; any 14 consecutive days hold each weekday twice.
const LEVEL_DAYS: usize = 14;
/// Days over which the weekly shape is measured.
const SHAPE_DAYS: usize = 56;

/// The detector's baseline idea on a plain series: the weekday medians of each day's deviation
/// from its trailing 14-day median give the shape; the median of the last 14 days with the shape
/// taken out gives the level. Robust to spikes, follows a step within a week, no trend.
fn robust_weekly(y: &[f64], origins: &[usize], h: usize) -> Paths {
    // dev[i] = y[i] − median(y[i−14 .. i]), for i ≥ 14.
    let mut buf = Vec::with_capacity(SHAPE_DAYS);
    let dev: Vec<Option<f64>> = (0..y.len())
        .map(|i| (i >= LEVEL_DAYS).then(|| y[i] - median(&y[i - LEVEL_DAYS..i]).unwrap_or(y[i])))
        .collect();
    let mut out = Vec::with_capacity(origins.len() * h);
    for &o in origins {
        let lo = (o + 1).saturating_sub(SHAPE_DAYS);
        let mut shape = [0.0; WEEK];
        for (season, slot) in shape.iter_mut().enumerate() {
            buf.clear();
            buf.extend(
                (lo..=o)
                    .filter(|i| i % WEEK == season)
                    .filter_map(|i| dev[i]),
            );
            *slot = median(&buf).unwrap_or(0.0);
        }
        buf.clear();
        buf.extend(((o + 1).saturating_sub(LEVEL_DAYS)..=o).map(|i| y[i] - shape[i % WEEK]));
        let level = median(&buf).unwrap_or(y[o]);
        out.extend((1..=h).map(|step| level + shape[(o + step) % WEEK]));
    }
    out
}

/// Additive weekly indices by classical decomposition: each day's deviation from the centred
/// 7-day mean, averaged per season over the last `window` days and centred on zero.
pub(crate) fn weekly_indices(y: &[f64], window: usize) -> [f64; WEEK] {
    trailing_weekly_indices(y, window)
        .pop()
        .unwrap_or([0.0; WEEK])
}

/// [`weekly_indices`] as known on each day: element `t` is `weekly_indices(&y[..=t], window)`,
/// read from the days up to `t` only (a centred mean needs its three days after, so the last
/// three days wait). A back-test origin must not see the shape of the weeks after it.
fn trailing_weekly_indices(y: &[f64], window: usize) -> Vec<[f64; WEEK]> {
    let n = y.len();
    let mut prefix = vec![0.0; n + 1];
    for (t, v) in y.iter().enumerate() {
        prefix[t + 1] = prefix[t] + v;
    }
    // deviation[s]: day s against its centred 7-day mean, for 3 ≤ s < n − 3.
    let deviation = |s: usize| y[s] - (prefix[s + 4] - prefix[s - 3]) / WEEK as f64;
    let (mut sum, mut count) = ([0.0; WEEK], [0usize; WEEK]);
    let mut out = Vec::with_capacity(n);
    for t in 0..n {
        // Days s in (t + 1 − window).max(3) .. t − 2 are in: the newest enters once t = s + 3,
        // the oldest leaves once it falls out of the window.
        if t >= 6 {
            let s = t - 3;
            sum[s % WEEK] += deviation(s);
            count[s % WEEK] += 1;
        }
        if let Some(s) = (t + 1)
            .checked_sub(window + 1)
            .filter(|s| *s >= 3 && *s + 3 <= t)
        {
            sum[s % WEEK] -= deviation(s);
            count[s % WEEK] -= 1;
        }
        let idx: [f64; WEEK] = std::array::from_fn(|s| {
            if count[s] > 0 {
                sum[s] / count[s] as f64
            } else {
                0.0
            }
        });
        let centre = idx.iter().sum::<f64>() / WEEK as f64;
        out.push(idx.map(|v| v - centre));
    }
    out
}

/// Smoothing constants the Theta method's SES chooses among (least one-step squared error).
const THETA_ALPHAS: [f64; 7] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
/// Days the drift is estimated over: long enough to be a trend, short enough to be current.
const DRIFT_DAYS: usize = 365;

/// Theta method (Assimakopoulos & Nikolopoulos; Hyndman & Billah's SES-with-drift form): SES on
/// the weekly-adjusted series plus `drift_share` of the least-squares slope (½ is the classic
/// θ = 2; 1 follows a steady line exactly), with the season added back. The SES is robust
/// (`robust`): a holiday or a spike moves its level by a clipped error. Each day is adjusted,
/// and each origin forecast, with the weekly shape known on that day.
fn theta(y: &[f64], origins: &[usize], h: usize, drift_share: f64) -> Paths {
    let shapes = trailing_weekly_indices(y, SHAPE_DAYS);
    let z: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(t, v)| v - shapes[t][t % WEEK])
        .collect();
    let start_clipper = Clipper::new(y);
    // The smoothing constant is chosen on the days whose weekly shape had its whole window: on
    // the first weeks the adjustment is still half-made, and their large errors would choose it.
    let sse_from = SHAPE_DAYS.min(y.len() / 2);
    let ses = |alpha: f64, mut visit: Option<&mut dyn FnMut(usize, f64)>| {
        let (mut level, mut sse) = (z[0], 0.0);
        let mut clipper = start_clipper;
        for (t, v) in z.iter().enumerate().skip(1) {
            let e = v - level;
            let e = if t >= WEEK { clipper.clip(e) } else { e };
            if t >= sse_from {
                sse += e * e;
            }
            level += alpha * e;
            if let Some(f) = visit.as_mut() {
                f(t, level);
            }
        }
        sse
    };
    let alpha = THETA_ALPHAS
        .iter()
        .copied()
        .min_by(|a, b| ses(*a, None).total_cmp(&ses(*b, None)))
        .unwrap_or(0.3);
    let mut levels = vec![z[0]; z.len()];
    ses(alpha, Some(&mut |t, l| levels[t] = l));

    // Prefix sums for O(1) least-squares slopes over any window.
    let (mut sz, mut stz) = (vec![0.0; z.len() + 1], vec![0.0; z.len() + 1]);
    for (t, v) in z.iter().enumerate() {
        sz[t + 1] = sz[t] + v;
        stz[t + 1] = stz[t] + t as f64 * v;
    }
    let slope = |lo: usize, hi: usize| {
        // Over t in lo..hi.
        let m = (hi - lo) as f64;
        if m < 2.0 {
            return 0.0;
        }
        let st = (lo + hi - 1) as f64 * m / 2.0;
        let stt: f64 = {
            let s = |k: f64| (k - 1.0) * k * (2.0 * k - 1.0) / 6.0;
            s(hi as f64) - s(lo as f64)
        };
        let (sy, sty) = (sz[hi] - sz[lo], stz[hi] - stz[lo]);
        let den = m * stt - st * st;
        if den.abs() < f64::EPSILON {
            0.0
        } else {
            (m * sty - st * sy) / den
        }
    };
    let mut out = Vec::with_capacity(origins.len() * h);
    for &o in origins {
        let lo = (o + 1).saturating_sub(DRIFT_DAYS);
        let n = (o + 1 - lo) as f64;
        let b = slope(lo, o + 1) * drift_share;
        let start = (1.0 - (1.0 - alpha).powf(n)) / alpha;
        out.extend((1..=h).map(|step| {
            levels[o] + b * (step as f64 - 1.0 + start) + shapes[o][(o + step) % WEEK]
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(n: usize) -> Vec<f64> {
        (0..n)
            .map(|t| 100.0 + [5.0, 3.0, 0.0, -1.0, 2.0, -4.0, -5.0][t % 7])
            .collect()
    }

    #[test]
    fn every_model_reproduces_a_pure_weekly_pattern() {
        let y = weekly(140);
        for kind in ModelKind::available(y.len()) {
            if kind == ModelKind::Naive {
                continue;
            }
            let p = kind.run(&y, &[139], 14);
            for (step, f) in p.iter().enumerate() {
                let want = weekly(160)[140 + step];
                assert!(
                    (f - want).abs() < 0.5,
                    "{kind:?} h={}: {f} vs {want}",
                    step + 1
                );
            }
        }
    }

    #[test]
    fn theta_follows_a_linear_trend() {
        let y: Vec<f64> = (0..200).map(|t| 10.0 + 2.0 * t as f64).collect();
        let p = ModelKind::Theta.run(&y, &[199], 10);
        // Theta damps the drift by half on a noiseless line: it lags, but moves upward.
        assert!(p[9] > p[0] && p[0] > 390.0, "{p:?}");
        // With the whole drift it extrapolates the line.
        let p = ModelKind::ThetaFullDrift.run(&y, &[199], 10);
        for (step, f) in p.iter().enumerate() {
            let want = 10.0 + 2.0 * (200 + step) as f64;
            assert!((f - want).abs() < 1e-6, "h={}: {f} vs {want}", step + 1);
        }
    }

    #[test]
    fn the_weekly_shape_at_a_day_reads_no_later_day() {
        // A shape that turns over on day 100: the indices of days before it must not know.
        let y: Vec<f64> = (0..160)
            .map(|t| {
                let shape = [5.0, 3.0, 0.0, -1.0, 2.0, -4.0, -5.0][t % 7];
                100.0 + if t < 100 { shape } else { -3.0 * shape } + (t % 5) as f64 * 0.3
            })
            .collect();
        let trailing = trailing_weekly_indices(&y, SHAPE_DAYS);
        for t in [0, 5, 6, 30, 62, 63, 99, 120, 159] {
            // The classical decomposition on the days up to t, computed directly.
            let upto = &y[..=t];
            let lo = (t + 1).saturating_sub(SHAPE_DAYS).max(3);
            let (mut sum, mut count) = ([0.0; WEEK], [0usize; WEEK]);
            for s in lo..(t + 1).saturating_sub(3) {
                let mean = upto[s - 3..=s + 3].iter().sum::<f64>() / 7.0;
                sum[s % WEEK] += upto[s] - mean;
                count[s % WEEK] += 1;
            }
            let raw: Vec<f64> = (0..WEEK)
                .map(|k| {
                    if count[k] > 0 {
                        sum[k] / count[k] as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            let centre = raw.iter().sum::<f64>() / 7.0;
            for k in 0..WEEK {
                let want = raw[k] - centre;
                assert!((trailing[t][k] - want).abs() < 1e-9, "day {t}, season {k}");
            }
        }
        // Before the turn the shape is the old one; the series' last shape is the new one.
        assert!(trailing[99][0] > 3.0, "{:?}", trailing[99]);
        assert!(weekly_indices(&y, SHAPE_DAYS)[0] < -10.0);
    }

    #[test]
    fn a_theta_back_test_origin_forecasts_the_shape_it_knew() {
        // The weekly shape turns over on day 140. A back-test origin on day 139 must forecast
        // the shape of its own past, not the one the series ends with (which it cannot know).
        let shape = [5.0, 3.0, 0.0, -1.0, 2.0, -4.0, -5.0];
        let y: Vec<f64> = (0..200)
            .map(|t| 100.0 + if t < 140 { 1.0 } else { -1.0 } * shape[t % 7])
            .collect();
        for kind in [ModelKind::Theta, ModelKind::ThetaFullDrift] {
            let p = kind.run(&y, &[139, 199], 7);
            for step in 1..=7 {
                let before = p[step - 1] - 100.0;
                let at_end = p[7 + step - 1] - 100.0;
                let want = shape[(139 + step) % 7];
                assert!(
                    (before - want).abs() < 1.0,
                    "{kind:?} from 139, h={step}: {before}"
                );
                let want = -shape[(199 + step) % 7];
                assert!(
                    (at_end - want).abs() < 1.5,
                    "{kind:?} from 199, h={step}: {at_end}"
                );
            }
        }
    }

    #[test]
    fn weekly_indices_recover_the_shape() {
        let idx = weekly_indices(&weekly(70), 70);
        let shape = [5.0, 3.0, 0.0, -1.0, 2.0, -4.0, -5.0];
        for s in 0..7 {
            assert!((idx[s] - shape[s]).abs() < 1e-9, "{idx:?}");
        }
    }
}
