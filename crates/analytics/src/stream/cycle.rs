//! A cyclic channel: each point against the median of the values at the same phase of the last
//! few periods (the same time of day on the last days, the same time of week on the last
//! weeks), its residuals averaged over a few points, the mean's size against its own past. A
//! shape that changes inside the usual range shows here and nowhere else: a daily peak that goes
//! missing, a holiday Thursday that looks like a Sunday.
//!
//! Gated: the surprise is scaled by the stream's correlation with itself one period earlier,
//! 1 − E[(x − x₋₁)²] / 2 Var x, clamped to 0–1 (1 for a cycle that repeats exactly, 0 for noise
//! and for anything that alternates): a stream without that cycle gets only false positives from
//! it, and its gate stays near 0.

use std::collections::VecDeque;

use super::push_bounded;
use super::tail::Tail;

/// The (time, value) pairs within `slack` seconds of `centre`, from a history ascending in
/// time (so a binary search finds them).
pub(super) fn near(
    history: &VecDeque<(i64, f64)>,
    centre: i64,
    slack: i64,
) -> impl Iterator<Item = &(i64, f64)> {
    let from = history.partition_point(|(u, _)| *u < centre - slack);
    history
        .range(from..)
        .take_while(move |(u, _)| *u <= centre + slack)
}

#[derive(Debug, Clone)]
pub(super) struct Cycle {
    period_secs: i64,
    periods: usize,
    points: usize,
    gated: bool,
    /// The last `points` residuals, and past |mean residual|s.
    residuals: VecDeque<f64>,
    past: Tail,
    /// Σ (x − x one period earlier)² and how many: the gate's numerator.
    lag_r2: f64,
    lag_n: f64,
}

/// What a cycle read at one point: the size of its mean residual and the gate's factor.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading {
    pub mean: f64,
    pub gate: f64,
}

impl Cycle {
    pub fn new(
        period_secs: i64,
        periods: usize,
        points: usize,
        gated: bool,
        history: usize,
    ) -> Self {
        Self {
            period_secs,
            periods,
            points,
            gated,
            residuals: VecDeque::new(),
            past: Tail::new(history),
            lag_r2: 0.0,
            lag_n: 0.0,
        }
    }

    /// The seconds of history this cycle compares with.
    pub fn memory_secs(&self) -> i64 {
        self.period_secs * self.periods as i64
    }

    /// `x` minus the median of the values closest to this phase (± `slack`) on each of the last
    /// periods, and `x` minus the one a period earlier (for the gate); `None` until every one of
    /// those periods has a value near this phase. `history` holds the points before `x`.
    pub fn residual(
        &self,
        history: &VecDeque<(i64, f64)>,
        slack: i64,
        t: i64,
        x: f64,
    ) -> Option<(f64, f64)> {
        if self.periods == 0 {
            return None;
        }
        let mut same_phase: Vec<f64> = Vec::with_capacity(self.periods);
        for k in 1..=self.periods as i64 {
            let centre = t - k * self.period_secs;
            let closest = near(history, centre, slack).min_by_key(|(u, _)| (u - centre).abs())?;
            same_phase.push(closest.1);
        }
        let (median, previous) = (crate::stats::median(&same_phase)?, same_phase[0]);
        Some((x - median, x - previous))
    }

    /// Takes this point's residuals (from [`residual`](Self::residual)); `variance` is the
    /// stream's variance so far, the gate's denominator.
    pub fn read(&mut self, (residual, lag): (f64, f64), variance: f64) -> Reading {
        let gate = if self.gated {
            self.lag_r2 += lag * lag;
            self.lag_n += 1.0;
            if variance > 0.0 {
                (1.0 - self.lag_r2 / self.lag_n / (2.0 * variance)).clamp(0.0, 1.0)
            } else {
                0.0
            }
        } else {
            1.0
        };
        push_bounded(&mut self.residuals, residual, self.points);
        let mean = self.residuals.iter().sum::<f64>() / self.residuals.len() as f64;
        Reading {
            mean: mean.abs(),
            gate,
        }
    }

    /// Past mean residuals, to judge a reading against.
    pub fn past(&self) -> &Tail {
        &self.past
    }

    /// Keeps a reading's mean once the residual window is full (a shorter mean is noisier and
    /// would widen the tail).
    pub fn remember(&mut self, reading: Reading) {
        if self.residuals.len() >= self.points {
            self.past.push(reading.mean);
        }
    }
}
