//! A new level in the last days: spend that fell (or rose) a few days ago and stayed there.
//!
//! The level-shift alignment in `prepare` needs a week of the new level and flat weeks around
//! it; and even once history is aligned, a back-test over 13 weeks of the old regime would
//! still pick the models that fit the old weeks (a busy weekly shape) over those that fit the
//! last few days (a flat, collapsed spend). So, from five days on a new level:
//!
//! * history before the change is moved onto the new level — multiplied by the ratio of the
//!   levels when the series is positive (spend moves in proportion: a collapse to a sixth
//!   shrinks the weekly swings and the noise with it), else shifted by the difference;
//! * the models are chosen only on how they forecast the days since the change (`engine`);
//! * the back-test errors that set the intervals are read on the moved series (`Fitted::align`),
//!   so the old regime's errors count at the new level's scale.
//!
//! **What counts as a new level**: the last `d ≥ 5` days either sit flat around their median
//! (each within a quarter of the jump from the week before), or repeat last week's days times
//! one ratio (each log-ratio within a quarter of the median one, with the week before that
//! not already moving so, which a trend would); the jump is over four σ of the daily noise.
//! The longest such run of days (up to eight weeks) is the new regime.

use crate::stats::median;

use super::prepare::noise_sigma;

const WEEK: usize = 7;
/// Days on a new level before it is followed.
const MIN_DAYS: usize = 5;
/// Longest run looked at: beyond it, the 13-week model choice has enough of the new regime.
const MAX_DAYS: usize = 56;
const JUMP_SIGMAS: f64 = 4.0;
/// Spread allowed within the new days, as a fraction of the jump.
const FLAT_FRACTION: f64 = 0.25;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Change {
    /// Days before the change are multiplied by this.
    Ratio(f64),
    /// Days before the change are moved by this.
    Jump(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RecentShift {
    /// Index of the first day of the new level.
    pub start: usize,
    pub change: Change,
}

impl RecentShift {
    /// The new level the last days of `y` (gap-free) sit on, if any.
    pub(crate) fn detect(y: &[f64]) -> Option<Self> {
        let n = y.len();
        let positive = y.iter().all(|v| *v > 0.0);
        let mut found = None;
        for d in MIN_DAYS..=MAX_DAYS {
            let Some(c) = n.checked_sub(d).filter(|c| *c >= 4 * WEEK) else {
                break;
            };
            if let Some(change) = new_level(y, c, positive) {
                found = Some(Self { start: c, change });
            }
        }
        found
    }

    /// `v`, a value of day `t`, moved onto the new level.
    pub(crate) fn align(&self, t: usize, v: f64) -> f64 {
        if t >= self.start {
            return v;
        }
        match self.change {
            Change::Ratio(r) => v * r,
            Change::Jump(j) => v + j,
        }
    }

    pub(crate) fn apply(&self, y: &mut [f64]) {
        for (t, v) in y.iter_mut().enumerate().take(self.start) {
            *v = self.align(t, *v);
        }
    }
}

/// Whether `y[c..]` is a new level against the days before `c` (see the module docs).
fn new_level(y: &[f64], c: usize, positive: bool) -> Option<Change> {
    let new = &y[c..];
    let sigma = noise_sigma(&y[c.saturating_sub(8 * WEEK)..c]);
    let last_week = median(&y[c - WEEK..c])?;
    let week_before = median(&y[c - 2 * WEEK..c - WEEK])?;
    let big = |jump: f64| jump.abs() > JUMP_SIGMAS * sigma && jump.abs() > 1e-9 * last_week.abs();

    // Flat: the new days hold one level, whatever the weekly shape was.
    let level = median(new)?;
    let jump = level - last_week;
    if big(jump)
        && new
            .iter()
            .all(|v| (v - level).abs() <= FLAT_FRACTION * jump.abs())
    {
        return Some(if positive {
            Change::Ratio(level / last_week)
        } else {
            Change::Jump(jump)
        });
    }

    // Moved: each new day is the same weekday of last week times one ratio (plus one jump when
    // not positive); the week before did not move so already (a trend would).
    let change = |a: f64, b: f64| if positive { (a / b).ln() } else { a - b };
    let moves: Vec<f64> = (c..y.len())
        .map(|t| change(y[t], y[t - WEEK * (t + 1 - c).div_ceil(WEEK)]))
        .collect();
    let m = median(&moves)?;
    let before = change(last_week, week_before);
    let size = if positive { last_week * m.exp_m1() } else { m };
    (big(size)
        && moves
            .iter()
            .all(|v| (v - m).abs() <= FLAT_FRACTION * m.abs())
        && before.abs() <= FLAT_FRACTION * m.abs())
    .then(|| {
        if positive {
            Change::Ratio(m.exp())
        } else {
            Change::Jump(m)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(t: usize) -> f64 {
        [1.0, 1.08, 1.12, 1.06, 0.98, 0.55, 0.5][t % WEEK]
    }

    #[test]
    fn a_collapse_is_found_from_five_days_and_not_before() {
        let y = |age: usize| -> Vec<f64> {
            (0..100)
                .map(|t| {
                    if t + age >= 100 {
                        8.4
                    } else {
                        50.0 * weekly(t)
                    }
                })
                .collect()
        };
        assert_eq!(RecentShift::detect(&y(4)), None);
        for age in [5, 9, 30] {
            let s = RecentShift::detect(&y(age)).expect("found");
            assert_eq!(s.start, 100 - age);
            assert!(matches!(s.change, Change::Ratio(r) if r < 0.2), "{s:?}");
        }
    }

    #[test]
    fn a_jump_keeping_the_shape_is_found_but_a_trend_is_not() {
        let y: Vec<f64> = (0..100)
            .map(|t| 50.0 * weekly(t) * if t >= 94 { 2.5 } else { 1.0 })
            .collect();
        let s = RecentShift::detect(&y).expect("found");
        assert_eq!(s.start, 94);
        assert!(matches!(s.change, Change::Ratio(r) if (r - 2.5).abs() < 1e-9));
        let trend: Vec<f64> = (0..100)
            .map(|t| 50.0 * weekly(t) * 1.01f64.powi(t as i32))
            .collect();
        assert_eq!(RecentShift::detect(&trend), None);
        let line: Vec<f64> = (0..100).map(|t| 10.0 + t as f64).collect();
        assert_eq!(RecentShift::detect(&line), None);
    }
}
