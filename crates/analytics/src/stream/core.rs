//! The part every detector shares: an online expectation with a robust spread, updated one
//! observation at a time, reading only what came before.
//!
//! * **Level**: median of the last `level_points` de-seasonalised observations. A spike does not
//!   move it; a level shift does once it is the majority of the window (after `level_points / 2`
//!   points), which is when the new level stops being anomalous: one run, one alert.
//! * **Season** (period > 1, e.g. 7 for weekdays): each phase's median deviation from the level
//!   over its last `season_cycles` occurrences, so the shape survives a change of level.
//! * **Drift**: the median of the last three period-to-period level changes, projected over the
//!   half-window the median lags behind, so a steady trend is not read as a rise.
//! * **Spread**: 1.4826 × median |residual| over the last `spread_points` one-step residuals;
//!   residuals are measured before the update, so the spread is honest about surprises.

use std::collections::VecDeque;

use crate::stats::MAD_TO_SIGMA;

/// A window's median kept sorted: O(window) per update, no allocation after warm-up.
#[derive(Debug, Clone)]
pub(crate) struct RollingMedian {
    capacity: usize,
    order: VecDeque<f64>,
    sorted: Vec<f64>,
}

impl RollingMedian {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::with_capacity(capacity.max(1)),
            sorted: Vec::with_capacity(capacity.max(1)),
        }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn push(&mut self, value: f64) {
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            let at = self.sorted.partition_point(|v| *v < old);
            if at < self.sorted.len() {
                self.sorted.remove(at);
            }
        }
        self.order.push_back(value);
        let at = self.sorted.partition_point(|v| *v < value);
        self.sorted.insert(at, value);
    }

    pub fn median(&self) -> Option<f64> {
        let n = self.sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(self.sorted[n / 2]),
            _ => Some((self.sorted[n / 2 - 1] + self.sorted[n / 2]) / 2.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoreConfig {
    /// Season length in points (1: none).
    pub period: usize,
    pub level_points: usize,
    pub season_cycles: usize,
    pub spread_points: usize,
    /// Follow a steady trend (see the module notes).
    pub drift: bool,
}

/// What the core expects for the next point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    pub expected: f64,
    /// Robust standard deviation of one-step residuals; `None` before there are any.
    pub spread: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Core {
    cfg: CoreConfig,
    level: RollingMedian,
    season: Vec<RollingMedian>,
    spread: RollingMedian,
    /// Level at each of the last few period boundaries, for the drift.
    level_marks: VecDeque<f64>,
    since_mark: usize,
    observed: usize,
}

impl Core {
    pub fn new(cfg: CoreConfig) -> Self {
        let period = cfg.period.max(1);
        Self {
            level: RollingMedian::new(cfg.level_points),
            season: (0..period)
                .map(|_| RollingMedian::new(cfg.season_cycles))
                .collect(),
            spread: RollingMedian::new(cfg.spread_points),
            level_marks: VecDeque::with_capacity(5),
            since_mark: 0,
            observed: 0,
            cfg: CoreConfig { period, ..cfg },
        }
    }

    /// Observations taken so far.
    pub fn observed(&self) -> usize {
        self.observed
    }

    fn seasonal(&self, phase: usize) -> f64 {
        if self.cfg.period == 1 {
            return 0.0;
        }
        self.season[phase % self.cfg.period].median().unwrap_or(0.0)
    }

    fn drift_per_point(&self) -> f64 {
        if !self.cfg.drift || self.level_marks.len() < 4 {
            return 0.0;
        }
        let m = &self.level_marks;
        let mut steps = [m[1] - m[0], m[2] - m[1], m[3] - m[2]];
        steps.sort_by(f64::total_cmp);
        steps[1] / self.cfg.period as f64
    }

    /// The expectation at `phase` (the point's position in the season, e.g. its weekday).
    pub fn expect(&self, phase: usize) -> Option<Expectation> {
        let level = self.level.median()?;
        let lag = self.level.len() as f64 / 2.0;
        Some(Expectation {
            expected: level + self.drift_per_point() * lag + self.seasonal(phase),
            spread: self.spread.median().map(|m| MAD_TO_SIGMA * m),
        })
    }

    /// Takes the observation `value` at `phase`, after it was judged.
    pub fn update(&mut self, phase: usize, value: f64) {
        if let Some(e) = self.expect(phase) {
            self.spread.push((value - e.expected).abs());
        }
        let level = self.level.median();
        if self.cfg.period > 1
            && let Some(level) = level
        {
            self.season[phase % self.cfg.period].push(value - level);
        }
        self.level.push(value - self.seasonal(phase));
        self.observed += 1;
        self.since_mark += 1;
        if self.since_mark >= self.cfg.period
            && let Some(level) = self.level.median()
        {
            self.since_mark = 0;
            self.level_marks.push_back(level);
            if self.level_marks.len() > 4 {
                self.level_marks.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_median_forgets_the_oldest() {
        let mut m = RollingMedian::new(3);
        for v in [5.0, 1.0, 3.0] {
            m.push(v);
        }
        assert_eq!(m.median(), Some(3.0));
        m.push(10.0); // window 1, 3, 10
        assert_eq!(m.median(), Some(3.0));
        m.push(11.0); // window 3, 10, 11
        assert_eq!(m.median(), Some(10.0));
    }

    #[test]
    fn weekly_shape_and_level_are_learnt_online() {
        let cfg = CoreConfig {
            period: 7,
            level_points: 14,
            season_cycles: 8,
            spread_points: 56,
            drift: false,
        };
        let mut core = Core::new(cfg);
        let shape = [100.0, 100.0, 100.0, 100.0, 100.0, 40.0, 40.0];
        for t in 0..70 {
            core.update(t % 7, shape[t % 7]);
        }
        let weekday = core.expect(2).expect("expectation");
        let weekend = core.expect(6).expect("expectation");
        assert!((weekday.expected - 100.0).abs() < 1.0, "{weekday:?}");
        assert!((weekend.expected - 40.0).abs() < 1.0, "{weekend:?}");
    }
}
