//! Online anomaly scores for metric streams (CloudWatch-style 5-minute data): one point at a
//! time, no look-ahead, one configuration for any scale. The daily cost detector
//! ([`crate::detect`]) is built on the same [`Core`].
//!
//! For each point, seven channels say how unusual it is, each as a surprise `−ln P` against the
//! stream's own history (`tail`: empirical below an upper quantile, an exponential tail fitted
//! to the excesses above it, so the surprise keeps growing past the largest value seen; the
//! value tails' scale is floored at `tail_floor` × mean |x|, so one quantisation step past a
//! flat history is not read as impossible):
//!
//! 1. **high** and 2. **low**: the value itself against past values (last `history` points):
//!    a new extreme, up or down, is the commonest anomaly in real metrics (a spike, a step, a
//!    drop to zero);
//! 3. **deviation**: the point against the [`Core`]'s expectation (median of the last
//!    `baseline` points) on a log scale, over the core's robust spread, as the larger of the
//!    spike and of the mean of the last `shift_points` residuals: a jump inside the usual range,
//!    or a multiplicative change on a small base (a quiet instance whose traffic triples).
//!
//! 4. **level**: the median of the last `level_points` values against past such medians, in both
//!    directions: a step to a level never held before, even where a brief spike once went
//!    higher (the spike's median never did).
//! 5. **volatility**: the median absolute deviation of the last `volatility_points` values
//!    against past such spreads, upwards: a stream that starts to oscillate or turns noisy
//!    inside its usual range, which no single value and no median shows; one spike barely
//!    moves it.
//! 6. **seasonal** and 7. **weekly**: the point against the median of the values at the same
//!    time of day on the last few days, and at the same time of week on the last few weeks
//!    (needs timestamps), averaged over a few points, in both directions: a daily or weekly
//!    shape that changes inside the usual range (a missing peak, a flattened cycle, a holiday
//!    weekday that looks like a Sunday). Each surprise is scaled by the stream's correlation
//!    with itself a period earlier (the gate, clamped to 0–1): a stream without that cycle gets
//!    only false positives from it, and its gate stays near 0 ([`cycle`]).
//! 8. **density**: the mean rank, among all past values, of the last `density_points` values
//!    against past such means, upwards: more high values than usual in a while, none of them
//!    extreme (spikes that come closer together, a burst of activity in a mostly idle stream).
//!
//! A channel says nothing until its own history holds `warmup` values, so a channel that starts
//! late (the seasonal one, after its days) does not read its first values as new extremes. The
//! largest surprise, optionally blended with its own rank among the stream's past combined
//! surprises (`calibration`), becomes the score `1 − e^{−surprise / score_scale}` in [0, 1). An event
//! then scores high once: for `refractory` points after a surprise at least as large, the
//! surprise is damped by `damping`, so a burst or a step reads as one alert, not a hundred.
//! No channel needs the scale of the data, its sampling interval, its name or its labels.

mod core;
mod cycle;
mod tail;

use std::collections::VecDeque;

pub(crate) use self::core::RollingMedian;
pub use self::core::{Core, CoreConfig, Expectation};
use cycle::{Cycle, near};
use tail::Tail;

/// The one configuration used for every stream (`costwatch bench nab`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    pub baseline: usize,
    /// Past values each tail and the core's spread keep. A cap on memory (about 16 bytes a
    /// value a tail), not a window: the longer the history, the steadier the tails' quantiles
    /// and the fewer ordinary records read as new extremes in long, noisy streams.
    pub history: usize,
    pub shift_points: usize,
    /// Upper quantile above which the deviation channel's tail is exponential.
    pub deviation_quantile: f64,
    /// The same for the value channels.
    pub value_quantile: f64,
    pub score_scale: f64,
    pub refractory: usize,
    pub damping: f64,
    /// Points observed before any score above 0 (the tails need a history).
    pub warmup: usize,
    /// ln(x + c) with c = `log_offset` × mean |x| so far: keeps zeros finite.
    pub log_offset: f64,
    /// The value tails' exponential scale is at least `tail_floor` × mean |x| so far: a move of
    /// a few % past a quantised, flat history is not a new extreme.
    pub tail_floor: f64,
    /// Daily memory: a value within the range seen at the same time of day (± `daily_slack_secs`)
    /// on the last `daily_memory` days is a recurring event (a nightly job), its surprise damped
    /// by `daily_damping`. Needs timestamps; without them this step is skipped.
    pub daily_memory: usize,
    pub daily_slack_secs: i64,
    pub daily_damping: f64,
    /// Sustained-level channel: the median of the last `level_points` values against past such
    /// medians (a step to a level never held before, even if a brief spike once went higher);
    /// its surprise weighs `level_weight` (0: off).
    pub level_points: usize,
    pub level_weight: f64,
    /// Volatility channel: the median absolute deviation of the last `volatility_points` values
    /// against past such spreads (upwards): a stream that starts to oscillate or turns noisy,
    /// which no single value and no median shows; one spike barely moves it. Weighs
    /// `volatility_weight` (0: off).
    pub volatility_points: usize,
    pub volatility_weight: f64,
    /// Seasonal channel: the mean of the last `seasonal_points` residuals against the median
    /// of the values at the same time of day (± `seasonal_slack_secs`) on each of the last
    /// `seasonal_days` days, in both directions: a daily shape that changes (a missing peak, a
    /// flattened cycle) inside the usual range. Needs timestamps; weighs `seasonal_weight`
    /// (0: off).
    pub seasonal_days: usize,
    pub seasonal_points: usize,
    pub seasonal_slack_secs: i64,
    pub seasonal_weight: f64,
    /// Scale the seasonal channel by the stream's correlation with itself a day earlier
    /// (1 − E[(x − x₋₁ day)²] / 2 Var x, clamped to 0–1): a stream with no daily cycle gets
    /// nothing from it but false positives. The weekly channel's gate is its correlation a week
    /// earlier.
    pub seasonal_gate: bool,
    /// Weekly channel: the seasonal channel at the same time of the week on each of the last
    /// `weekly_weeks` weeks (with `seasonal_points` and `seasonal_slack_secs`): a week's shape
    /// that changes (a holiday weekday that looks like a Sunday, a weekend batch that did not
    /// run) where the last days say nothing, since weekdays and weekends differ anyway. Acts
    /// from `weekly_weeks` weeks of history; weighs `weekly_weight` (0: off).
    pub weekly_weeks: usize,
    pub weekly_weight: f64,
    /// Density channel: the mean rank, among all past values, of the last `density_points`
    /// values against past such means, upwards: more high values than usual in a while, none
    /// of them extreme (bursts of activity in a mostly idle stream, spikes that come closer
    /// together). Ranks make one huge value count no more than any other high one. Weighs
    /// `density_weight` (0: off); `density_low` also reads fewer high values than usual.
    pub density_points: usize,
    pub density_weight: f64,
    pub density_low: bool,
    /// Weight of the calibrated surprise (the combined surprise against the stream's own past
    /// combined surprises) in the score, 0–1 (0: raw surprise only).
    pub calibration: f64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            baseline: 12,
            history: 100_000,
            shift_points: 6,
            deviation_quantile: 0.95,
            value_quantile: 0.99,
            score_scale: 10.0,
            refractory: 100,
            damping: 0.5,
            warmup: 20,
            log_offset: 0.01,
            tail_floor: 0.01,
            daily_memory: 3,
            daily_slack_secs: 3600,
            daily_damping: 0.5,
            level_points: 5,
            level_weight: 1.0,
            volatility_points: 40,
            volatility_weight: 1.0,
            seasonal_days: 3,
            seasonal_points: 36,
            seasonal_slack_secs: 900,
            seasonal_weight: 1.0,
            seasonal_gate: true,
            weekly_weeks: 3,
            weekly_weight: 1.0,
            density_points: 80,
            density_weight: 0.7,
            density_low: false,
            calibration: 0.0,
        }
    }
}

/// Online state of one stream.
#[derive(Debug, Clone)]
pub struct StreamDetector {
    cfg: StreamConfig,
    core: Core,
    short: VecDeque<f64>,
    deviations: Tail,
    highs: Tail,
    lows: Tail,
    recent_surprises: VecDeque<f64>,
    seen: usize,
    abs_sum: f64,
    last_values: RollingMedian,
    level_highs: Tail,
    level_lows: Tail,
    /// (time, value) of the last `daily_memory` days (or as long as the cycles compare),
    /// oldest first.
    days: VecDeque<(i64, f64)>,
    last_channels: Channels,
    /// The last `volatility_points` values and past volatilities (their MAD).
    recent: VecDeque<f64>,
    volatilities: Tail,
    daily_cycle: Cycle,
    weekly_cycle: Cycle,
    /// The values' running mean and M2 (Welford): the cycles' gates' denominator.
    value_mean: f64,
    value_m2: f64,
    /// The last `density_points` values' ranks and past mean ranks (as themselves and negated).
    ranks: VecDeque<f64>,
    density_highs: Tail,
    density_lows: Tail,
    /// Past combined surprises, for the calibration.
    surprises: Tail,
}

/// The surprise of each channel for the last point (before damping), to explain a score.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Channels {
    pub deviation: f64,
    pub high: f64,
    pub low: f64,
    pub level_high: f64,
    pub level_low: f64,
    pub volatility: f64,
    pub seasonal: f64,
    pub weekly: f64,
    pub density_high: f64,
    pub density_low: f64,
}

const DAY_SECS: i64 = 86_400;
const WEEK_SECS: i64 = 7 * DAY_SECS;

impl StreamDetector {
    pub fn new(cfg: StreamConfig) -> Self {
        let core = Core::new(CoreConfig {
            period: 1,
            level_points: cfg.baseline,
            season_cycles: 1,
            spread_points: cfg.history,
            drift: false,
        });
        Self {
            core,
            short: VecDeque::with_capacity(cfg.shift_points + 1),
            deviations: Tail::new(cfg.history),
            highs: Tail::new(cfg.history),
            lows: Tail::new(cfg.history),
            recent_surprises: VecDeque::with_capacity(cfg.refractory + 1),
            seen: 0,
            abs_sum: 0.0,
            days: VecDeque::new(),
            last_values: RollingMedian::new(cfg.level_points),
            level_highs: Tail::new(cfg.history),
            level_lows: Tail::new(cfg.history),
            last_channels: Channels::default(),
            recent: VecDeque::new(),
            volatilities: Tail::new(cfg.history),
            daily_cycle: cycle(DAY_SECS, cfg.seasonal_days, cfg.seasonal_weight, &cfg),
            weekly_cycle: cycle(WEEK_SECS, cfg.weekly_weeks, cfg.weekly_weight, &cfg),
            value_mean: 0.0,
            value_m2: 0.0,
            ranks: VecDeque::new(),
            density_highs: Tail::new(cfg.history),
            density_lows: Tail::new(cfg.history),
            surprises: Tail::new(cfg.history),
            cfg,
        }
    }

    /// Scores the next point from the points before it. A missing point (`None`, NaN) scores 0
    /// and leaves the state as it was.
    pub fn push(&mut self, value: Option<f64>) -> f64 {
        self.push_at(None, value)
    }

    /// [`push`](Self::push) with the point's time (seconds since any fixed epoch), which enables
    /// the daily memory.
    pub fn push_at(&mut self, time: Option<i64>, value: Option<f64>) -> f64 {
        let Some(x) = value.filter(|v| v.is_finite()) else {
            return 0.0;
        };
        let recurring = time.is_some_and(|t| self.seen_at_this_time(t, x));
        let slack = self.cfg.seasonal_slack_secs;
        let seasonal = time.and_then(|t| self.daily_cycle.residual(&self.days, slack, t, x));
        let weekly = time.and_then(|t| self.weekly_cycle.residual(&self.days, slack, t, x));
        if let Some(t) = time {
            self.days.push_back((t, x));
            let memory = (DAY_SECS * self.cfg.daily_memory as i64)
                .max(self.daily_cycle.memory_secs())
                .max(self.weekly_cycle.memory_secs());
            let slack = self.cfg.daily_slack_secs.max(slack);
            let horizon = t - memory - slack;
            while self.days.front().is_some_and(|(old, _)| *old < horizon) {
                self.days.pop_front();
            }
        }
        self.seen += 1;
        self.abs_sum += x.abs();
        let delta = x - self.value_mean;
        self.value_mean += delta / self.seen as f64;
        self.value_m2 += delta * (x - self.value_mean);
        let variance = self.value_m2 / self.seen as f64;
        let seasonal = seasonal.map(|r| self.daily_cycle.read(r, variance));
        let weekly = weekly.map(|r| self.weekly_cycle.read(r, variance));
        let offset = (self.cfg.log_offset * self.abs_sum / self.seen as f64).max(1e-12);
        let y = (x.max(0.0) + offset).ln();

        let deviation = match self.core.expect(0) {
            Some(e) => {
                let residual = y - e.expected;
                let floor = 1e-9_f64.max(e.expected.abs() * 1e-6);
                let spread = e.spread.map_or(floor, |s| s.max(floor));
                push_bounded(&mut self.short, residual, self.cfg.shift_points);
                let mean = self.short.iter().sum::<f64>() / self.short.len() as f64;
                let shift = mean.abs() * (self.short.len() as f64).sqrt() / 2.0;
                residual.abs().max(shift) / spread
            }
            None => 0.0,
        };
        self.core.update(0, y);

        self.last_values.push(x);
        let level = self.last_values.median().unwrap_or(x);
        push_bounded(&mut self.recent, x, self.cfg.volatility_points);
        let volatility = mad(&self.recent);
        let density = (self.cfg.density_weight > 0.0).then(|| {
            push_bounded(&mut self.ranks, self.highs.rank(x), self.cfg.density_points);
            self.ranks.iter().sum::<f64>() / self.ranks.len() as f64
        });
        let surprise = if self.seen > self.cfg.warmup {
            let q = self.cfg.value_quantile;
            let w = self.cfg.level_weight;
            let f = self.cfg.tail_floor * self.abs_sum / self.seen as f64;
            // A rank is known to one place in the history, 1 / n: a periodic stream's mean ranks
            // creep by less as its history grows, which is not a new extreme.
            let rank_floor = 1.0 / self.seen as f64;
            // A channel whose history is shorter than the warm-up says nothing yet: a channel
            // that starts late (the seasonal one after its days) would read its first values as
            // new extremes.
            let min = self.cfg.warmup;
            let judge = |tail: &Tail, x: f64, q: f64, floor: f64| {
                if tail.len() < min {
                    0.0
                } else {
                    tail.surprise(x, q, floor)
                }
            };
            let c = Channels {
                deviation: judge(
                    &self.deviations,
                    deviation,
                    self.cfg.deviation_quantile,
                    0.0,
                ),
                high: judge(&self.highs, x, q, f),
                low: judge(&self.lows, -x, q, f),
                level_high: w * judge(&self.level_highs, level, q, f),
                level_low: w * judge(&self.level_lows, -level, q, f),
                volatility: self.cfg.volatility_weight
                    * judge(&self.volatilities, volatility, q, f),
                seasonal: seasonal.map_or(0.0, |r| {
                    r.gate * self.cfg.seasonal_weight * judge(self.daily_cycle.past(), r.mean, q, f)
                }),
                weekly: weekly.map_or(0.0, |r| {
                    r.gate * self.cfg.weekly_weight * judge(self.weekly_cycle.past(), r.mean, q, f)
                }),
                density_high: density.map_or(0.0, |d| {
                    self.cfg.density_weight * judge(&self.density_highs, d, q, rank_floor)
                }),
                density_low: density.filter(|_| self.cfg.density_low).map_or(0.0, |d| {
                    self.cfg.density_weight * judge(&self.density_lows, -d, q, rank_floor)
                }),
            };
            self.last_channels = c;
            c.deviation
                .max(c.high)
                .max(c.low)
                .max(c.level_high)
                .max(c.level_low)
                .max(c.volatility)
                .max(c.seasonal)
                .max(c.weekly)
                .max(c.density_high)
                .max(c.density_low)
        } else {
            self.last_channels = Channels::default();
            0.0
        };
        if self.last_values.len() >= self.cfg.level_points {
            self.level_highs.push(level);
            self.level_lows.push(-level);
        }
        if self.recent.len() >= self.cfg.volatility_points {
            self.volatilities.push(volatility);
        }
        if let Some(r) = seasonal {
            self.daily_cycle.remember(r);
        }
        if let Some(r) = weekly {
            self.weekly_cycle.remember(r);
        }
        if let Some(d) = density
            && self.ranks.len() >= self.cfg.density_points
        {
            self.density_highs.push(d);
            if self.cfg.density_low {
                self.density_lows.push(-d);
            }
        }
        self.deviations.push(deviation);
        self.highs.push(x);
        self.lows.push(-x);

        let surprise = if recurring {
            surprise * self.cfg.daily_damping
        } else {
            surprise
        };
        // Calibration: the combined surprise against this stream's own past combined surprises,
        // so a stream that is routinely surprising (noisy, badly modelled) is not read as
        // permanently anomalous and one threshold fits every stream.
        let surprise = if self.cfg.calibration > 0.0 && self.seen > self.cfg.warmup {
            let own = self
                .surprises
                .surprise(surprise, self.cfg.value_quantile, 0.0);
            self.surprises.push(surprise);
            (1.0 - self.cfg.calibration) * surprise + self.cfg.calibration * own
        } else {
            surprise
        };
        let recent_max = self.recent_surprises.iter().fold(0.0_f64, |a, b| a.max(*b));
        let effective = if recent_max >= surprise {
            surprise * self.cfg.damping
        } else {
            surprise
        };
        push_bounded(&mut self.recent_surprises, surprise, self.cfg.refractory);
        (1.0 - (-effective / self.cfg.score_scale).exp()).clamp(0.0, 1.0)
    }
}

impl StreamDetector {
    /// The channels' surprises for the last point taken.
    pub fn channels(&self) -> Channels {
        self.last_channels
    }

    /// Whether `x` lies within the range of values seen near this time of day on each of the
    /// last `daily_memory` days.
    fn seen_at_this_time(&self, t: i64, x: f64) -> bool {
        if self.cfg.daily_memory == 0 {
            return false;
        }
        (1..=self.cfg.daily_memory as i64).all(|k| {
            let near =
                near(&self.days, t - k * DAY_SECS, self.cfg.daily_slack_secs).map(|(_, v)| *v);
            let (lo, hi) = near.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            lo <= hi && x >= lo - (hi - lo) * 0.1 && x <= hi + (hi - lo) * 0.1
        })
    }
}

/// A cyclic channel of `periods` periods (none when it weighs nothing), with the seasonal
/// channel's points, gate and history.
fn cycle(period_secs: i64, periods: usize, weight: f64, cfg: &StreamConfig) -> Cycle {
    let periods = if weight > 0.0 { periods } else { 0 };
    Cycle::new(
        period_secs,
        periods,
        cfg.seasonal_points,
        cfg.seasonal_gate,
        cfg.history,
    )
}

/// Median absolute deviation from the median: the spread of a short window, blind to one spike.
fn mad(values: &VecDeque<f64>) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v[v.len() / 2];
    let mut d: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

fn push_bounded(queue: &mut VecDeque<f64>, value: f64, capacity: usize) {
    if capacity == 0 {
        return;
    }
    queue.push_back(value);
    if queue.len() > capacity {
        queue.pop_front();
    }
}

/// Scores a whole stream online: element `i` depends on elements `..= i` only.
pub fn score_stream(values: &[Option<f64>], cfg: &StreamConfig) -> Vec<f64> {
    let mut detector = StreamDetector::new(*cfg);
    values.iter().map(|v| detector.push(*v)).collect()
}

/// [`score_stream`] with each point's time (seconds), `None` where unknown.
pub fn score_timed_stream(points: &[(Option<i64>, Option<f64>)], cfg: &StreamConfig) -> Vec<f64> {
    let mut detector = StreamDetector::new(*cfg);
    points
        .iter()
        .map(|(t, v)| detector.push_at(*t, *v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_causal_bounded_and_scale_free() {
        let values: Vec<Option<f64>> = (0..600)
            .map(|i| Some(10.0 + f64::from(i % 7) + if i == 500 { 80.0 } else { 0.0 }))
            .collect();
        let cfg = StreamConfig::default();
        let scores = score_stream(&values, &cfg);
        assert_eq!(scores.len(), values.len());
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        let spike = scores[500];
        assert!(
            scores[..500].iter().all(|s| *s < spike),
            "the spike scores highest"
        );
        // No look-ahead: scoring a prefix gives the same scores.
        assert_eq!(score_stream(&values[..501], &cfg), scores[..501].to_vec());
        // Scale-free: the same shape a million times larger scores the same.
        let big: Vec<Option<f64>> = values.iter().map(|v| v.map(|x| x * 1e6)).collect();
        let big_scores = score_stream(&big, &cfg);
        assert!((big_scores[500] - spike).abs() < 1e-6);
    }

    #[test]
    fn a_stream_that_starts_to_oscillate_is_seen_by_the_volatility_channel() {
        // Flat at 33.5 with a small deterministic wobble and a lone spike every 97 points, then
        // (from 1500) alternating between 31 and 36 inside the range the spikes already reached.
        let value = |i: usize| {
            if i >= 1500 {
                if i.is_multiple_of(2) { 31.0 } else { 36.0 }
            } else if i.is_multiple_of(97) {
                38.0
            } else {
                33.5 + 0.01 * (i % 5) as f64
            }
        };
        let mut d = StreamDetector::new(StreamConfig::default());
        let mut before = 0.0_f64;
        let mut after = 0.0_f64;
        for i in 0..1600 {
            d.push(Some(value(i)));
            let v = d.channels().volatility;
            if (200..1500).contains(&i) {
                before = before.max(v);
            } else if i >= 1500 {
                after = after.max(v);
            }
        }
        assert!(
            before < 5.0,
            "lone spikes moved the volatility channel: {before}"
        );
        assert!(
            after > 2.0 * before.max(1.0),
            "before {before}, after {after}"
        );
    }

    #[test]
    fn spikes_that_come_closer_together_are_seen_by_the_density_channel() {
        // Idle at 0 with a spike of 20 every 100 points, then (from 2000) one every 5 points:
        // no value is new, so only how many high values a short while holds shows it.
        let value = |i: usize| {
            let every = if (2000..2040).contains(&i) { 5 } else { 100 };
            if i.is_multiple_of(every) { 20.0 } else { 0.0 }
        };
        let cfg = StreamConfig::default();
        let mut d = StreamDetector::new(cfg);
        let (mut before, mut during, mut high) = (0.0_f64, 0.0_f64, 0.0_f64);
        for i in 0..2040 {
            d.push(Some(value(i)));
            let c = d.channels();
            if (500..2000).contains(&i) {
                before = before.max(c.density_high);
            } else if i >= 2000 {
                during = during.max(c.density_high);
                high = high.max(c.high);
            }
        }
        assert!(
            during > 2.0 * before.max(1.0),
            "before {before}, during {during}"
        );
        assert!(high < 0.5 * during, "the value channel saw it too: {high}");
        // It is what raises the burst's score to an alert: without it, no point of the burst
        // reaches the metrics detector's threshold (0.561).
        let values: Vec<Option<f64>> = (0..2040).map(|i| Some(value(i))).collect();
        let burst = |cfg: &StreamConfig| {
            score_stream(&values, cfg)[2000..]
                .iter()
                .fold(0.0_f64, |a, b| a.max(*b))
        };
        let without = StreamConfig {
            density_weight: 0.0,
            ..cfg
        };
        assert!(burst(&cfg) >= 0.561, "with the channel: {}", burst(&cfg));
        assert!(burst(&without) < 0.561, "without: {}", burst(&without));
    }

    #[test]
    fn a_daily_peak_that_goes_missing_is_seen_by_the_seasonal_channel() {
        // 5-minute points of a daily cycle between 0 and 10 with a small deterministic wobble;
        // on day 8 the afternoon peak stays at the day's mean level: inside the usual range, so
        // only the same time on earlier days shows it.
        let step = 300_i64;
        let per_day = (DAY_SECS / step) as usize;
        let value = |i: usize| {
            let phase = (i % per_day) as f64 / per_day as f64;
            let cycle = 5.0 + 5.0 * (2.0 * std::f64::consts::PI * phase).sin();
            let missing = i / per_day == 8 && (0.15..0.35).contains(&phase);
            (if missing { 5.0 } else { cycle }) + 0.05 * ((i * 7) % 5) as f64
        };
        let cfg = StreamConfig {
            seasonal_weight: 1.0,
            ..StreamConfig::default()
        };
        let mut d = StreamDetector::new(cfg);
        let (mut before, mut during) = (0.0_f64, 0.0_f64);
        for i in 0..9 * per_day {
            d.push_at(Some(i as i64 * step), Some(value(i)));
            let s = d.channels().seasonal;
            if i / per_day == 8 && (i % per_day) < per_day / 2 {
                during = during.max(s);
            } else if i / per_day < 8 {
                before = before.max(s);
            }
        }
        assert!(
            during > 2.0 * before.max(1.0),
            "before {before}, during {during}"
        );
        // Without timestamps it says nothing.
        let mut plain = StreamDetector::new(cfg);
        for i in 0..9 * per_day {
            plain.push(Some(value(i)));
            assert_eq!(plain.channels().seasonal, 0.0);
        }
    }

    #[test]
    fn a_stream_without_a_daily_cycle_gets_nothing_from_the_seasonal_channel() {
        // Hourly noise (a fixed linear congruential sequence): the same hour yesterday explains
        // none of it, so the gate closes; ungated, the channel's records read as surprises.
        let mut state = 12345_u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / f64::from(u32::MAX >> 1)
        };
        let values: Vec<f64> = (0..24 * 30).map(|_| 10.0 + noise()).collect();
        let largest = |gate: bool| {
            let cfg = StreamConfig {
                seasonal_gate: gate,
                ..StreamConfig::default()
            };
            let mut d = StreamDetector::new(cfg);
            let mut largest = 0.0_f64;
            for (i, v) in values.iter().enumerate() {
                d.push_at(Some(i as i64 * 3600), Some(*v));
                largest = largest.max(d.channels().seasonal);
            }
            largest
        };
        let (gated, ungated) = (largest(true), largest(false));
        assert!(ungated > 4.0, "ungated {ungated}");
        assert!(gated < 0.25 * ungated, "gated {gated}, ungated {ungated}");
    }

    #[test]
    fn a_holiday_weekday_is_seen_by_the_weekly_channel_not_the_daily_one() {
        // Hourly points, Monday first: weekdays climb to 100 in office hours, weekends stay
        // at 20; on the sixth Thursday (a holiday) the office stays shut, so that day looks like
        // a Sunday. Every Saturday does too against the days before it, so the daily channel
        // has seen such residuals weekly; only the same time on earlier weeks shows the holiday.
        let value = |i: usize| {
            let (day, hour) = (i / 24, i % 24);
            let weekend = day % 7 >= 5 || day == 5 * 7 + 3;
            let office = !weekend && (9..18).contains(&hour);
            (if office { 100.0 } else { 20.0 }) + 0.5 * ((i * 7) % 5) as f64
        };
        let run = |cfg: StreamConfig| {
            let mut d = StreamDetector::new(cfg);
            let (mut before, mut holiday) = (Channels::default(), Channels::default());
            for i in 0..6 * 7 * 24 {
                d.push_at(Some(i as i64 * 3600), Some(value(i)));
                let c = d.channels();
                let slot = if i / 24 == 38 {
                    &mut holiday
                } else if i / 24 < 38 {
                    &mut before
                } else {
                    continue;
                };
                slot.weekly = slot.weekly.max(c.weekly);
                slot.seasonal = slot.seasonal.max(c.seasonal);
            }
            (before, holiday)
        };
        let (before, holiday) = run(StreamConfig::default());
        assert!(
            holiday.weekly > 2.0 * before.weekly.max(1.0),
            "weekly: before {}, holiday {}",
            before.weekly,
            holiday.weekly
        );
        assert!(
            holiday.weekly > 2.0 * holiday.seasonal,
            "on the holiday: weekly {}, daily {}",
            holiday.weekly,
            holiday.seasonal
        );
        // Switched off, it says nothing.
        let (before, holiday) = run(StreamConfig {
            weekly_weight: 0.0,
            ..StreamConfig::default()
        });
        assert_eq!((before.weekly, holiday.weekly), (0.0, 0.0));
    }

    #[test]
    fn the_weekly_channel_waits_for_its_weeks() {
        // With three weeks to compare, nothing is read before the fourth week starts.
        let mut d = StreamDetector::new(StreamConfig::default());
        for i in 0..21 * 24 {
            let wobble = 0.5 * ((i * 7) % 5) as f64;
            d.push_at(Some(i * 3600), Some(10.0 + (i % 24) as f64 + wobble));
            assert_eq!(d.channels().weekly, 0.0, "point {i}");
        }
    }

    #[test]
    fn a_channel_says_nothing_before_its_own_warm_up() {
        // The seasonal channel starts after its days; its first residuals are not new extremes.
        let step = 3600_i64;
        let cfg = StreamConfig {
            seasonal_weight: 1.0,
            warmup: 50,
            ..StreamConfig::default()
        };
        let mut d = StreamDetector::new(cfg);
        for i in 0..(3 * 24 + 49) {
            // A wobble of period 5 against a day of 24: the residuals are never all zero.
            let wobble = 0.5 * ((i * 7) % 5) as f64;
            d.push_at(Some(i * step), Some(10.0 + (i % 24) as f64 + wobble));
            assert_eq!(d.channels().seasonal, 0.0, "point {i}");
        }
    }

    #[test]
    fn constant_short_and_gappy_streams_score_finitely() {
        let cfg = StreamConfig::default();
        for values in [
            vec![Some(5.0); 300],
            vec![Some(0.0); 300],
            vec![Some(1.0), None, Some(f64::NAN)],
            Vec::new(),
        ] {
            let scores = score_stream(&values, &cfg);
            assert_eq!(scores.len(), values.len());
            assert!(
                scores
                    .iter()
                    .all(|s| s.is_finite() && (0.0..=1.0).contains(s))
            );
        }
        assert!(
            score_stream(&vec![Some(5.0); 300], &cfg)
                .iter()
                .all(|s| *s < 0.2)
        );
    }
}
