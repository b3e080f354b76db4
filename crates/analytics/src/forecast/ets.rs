//! Exponential smoothing with additive errors and an additive weekly season, in the
//! error-correction form of Hyndman et al. (2008): ETS(A,N,A) and ETS(A,Ad,A), with robust
//! (clipped) errors in the updates (`robust`).
//!
//! Parameters come from a small fixed grid, the point with the least one-step squared error over
//! the (last three years of the) series. A grid, not an optimiser: a few dozen passes over
//! 400 days take a fraction of a millisecond, it cannot diverge, and the back-test that chooses
//! between models cares about forecasts, not about the last digit of α.

use super::robust::Clipper;

const WEEK: usize = 7;
/// Days the one-step error is scored over (the state runs over everything before too).
const FIT_DAYS: usize = 1100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trend {
    None,
    Damped,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

fn grid(trend: Trend) -> Vec<Params> {
    let mut out = Vec::new();
    match trend {
        Trend::None => {
            for alpha in [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9] {
                for gamma in [0.01, 0.05, 0.15, 0.3] {
                    out.push(Params {
                        alpha,
                        beta: 0.0,
                        gamma,
                        phi: 0.0,
                    });
                }
            }
        }
        Trend::Damped => {
            for alpha in [0.05, 0.15, 0.3, 0.6] {
                for beta in [0.005, 0.03] {
                    for gamma in [0.02, 0.1] {
                        for phi in [0.9, 0.98, 1.0] {
                            out.push(Params {
                                alpha,
                                beta: beta * alpha,
                                gamma,
                                phi,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct State {
    level: f64,
    trend: f64,
    season: [f64; WEEK],
    /// The robust scale of the one-step errors.
    clipper: Clipper,
}

impl State {
    /// Level from the first week's mean, trend from the change to the second week's, season
    /// from the first week's deviations, the errors' scale from the first eight weeks.
    fn initial(y: &[f64], trend: Trend) -> Self {
        let week = |k: usize| y[k * WEEK..(k + 1) * WEEK].iter().sum::<f64>() / WEEK as f64;
        let level = week(0);
        let slope = match trend {
            Trend::Damped if y.len() >= 2 * WEEK => (week(1) - level) / WEEK as f64,
            _ => 0.0,
        };
        let mut season = [0.0; WEEK];
        for (s, slot) in season.iter_mut().enumerate() {
            *slot = y[s] - level - slope * (s as f64 - 3.0);
        }
        Self {
            level,
            trend: slope,
            season,
            clipper: Clipper::new(y),
        }
    }
}

/// A fitted model: its parameters and starting state.
pub(crate) struct Ets {
    params: Params,
    start: State,
}

impl Ets {
    /// `y` needs at least two weeks.
    pub(crate) fn fit(y: &[f64], trend: Trend) -> Self {
        let start = State::initial(y, trend);
        let score_from = y.len().saturating_sub(FIT_DAYS).max(WEEK);
        let params = grid(trend)
            .into_iter()
            .map(|p| (filter(y, p, start, score_from, |_, _| {}), p))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p)
            .unwrap_or(Params {
                alpha: 0.2,
                beta: 0.0,
                gamma: 0.05,
                phi: 0.0,
            });
        Self { params, start }
    }

    /// Forecasts from each origin: level + (φ + … + φʰ)·trend + season.
    pub(crate) fn paths(&self, y: &[f64], origins: &[usize], h: usize) -> Vec<f64> {
        let p = self.params;
        let mut damp = Vec::with_capacity(h);
        let mut acc = 0.0;
        let mut pow = 1.0;
        for _ in 0..h {
            pow *= p.phi;
            acc += pow;
            damp.push(acc);
        }
        let mut out = vec![0.0; origins.len() * h];
        let mut row = 0;
        let last = origins.last().copied().unwrap_or(0);
        filter(
            &y[..=last.min(y.len() - 1)],
            p,
            self.start,
            usize::MAX,
            |t, s| {
                while row < origins.len() && origins[row] == t {
                    for step in 1..=h {
                        out[row * h + step - 1] =
                            s.level + damp[step - 1] * s.trend + s.season[(t + step) % WEEK];
                    }
                    row += 1;
                }
            },
        );
        out
    }
}

/// Runs the recursions over `y` with robust (clipped) errors, calls `visit(t, state after
/// y[t])`, and returns the sum of the squared clipped one-step errors from `score_from` on.
fn filter(
    y: &[f64],
    p: Params,
    start: State,
    score_from: usize,
    mut visit: impl FnMut(usize, &State),
) -> f64 {
    let mut s = start;
    let mut sse = 0.0;
    for (t, v) in y.iter().enumerate() {
        let k = t % WEEK;
        let damped = p.phi * s.trend;
        let e = v - (s.level + damped + s.season[k]);
        // The first week set the starting state; from then on, robust updates.
        let e = if t >= WEEK { s.clipper.clip(e) } else { e };
        if t >= score_from {
            sse += e * e;
        }
        s.level += damped + p.alpha * e;
        s.trend = damped + p.beta * e;
        s.season[k] += p.gamma * e;
        visit(t, &s);
    }
    sse
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damped_trend_follows_a_line_and_the_season() {
        let y: Vec<f64> = (0..200)
            .map(|t| 50.0 + 0.5 * t as f64 + [4.0, 2.0, 0.0, -1.0, -2.0, -1.0, -2.0][t % 7])
            .collect();
        let m = Ets::fit(&y, Trend::Damped);
        let p = m.paths(&y, &[199], 7);
        for (step, f) in p.iter().enumerate() {
            let t = 200 + step;
            let want = 50.0 + 0.5 * t as f64 + [4.0, 2.0, 0.0, -1.0, -2.0, -1.0, -2.0][t % 7];
            // Damping bends the line a little within a week.
            assert!((f - want).abs() < 2.0, "h={}: {f} vs {want}", step + 1);
        }
    }
}
