//! Interval coverage of `forecast_values` on a simulated series whose truth is known: shared by
//! the calibration tests (`tests/analytics/forecast_known.rs`) and the accuracy benchmark's
//! simulations (`forecast_accuracy`).

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::forecast_values;

/// Share of the days inside the 80 % and 95 % intervals and the mean 80 % interval (Winkler)
/// score: width plus 10 × the distance by which the day falls outside.
pub struct Coverage {
    pub c80: f64,
    pub c95: f64,
    pub winkler80: f64,
}

/// Forecasts `horizon` days from every `horizon`-th day of `v` (`v[t]` on `start + t`) that has
/// `history` days before it, each from those days only, and scores the intervals.
pub fn rolling(start: NaiveDate, v: &[f64], history: usize, horizon: usize) -> Coverage {
    let (mut in80, mut in95, mut winkler, mut count) = (0usize, 0usize, 0.0, 0usize);
    for origin in (history..v.len().saturating_sub(horizon)).step_by(horizon) {
        let from = origin - history;
        let seen: Vec<Option<f64>> = v[from..origin].iter().copied().map(Some).collect();
        let first = start + Days::new(from as u64);
        for (p, a) in forecast_values(first, &seen, horizon)
            .iter()
            .zip(&v[origin..])
        {
            in80 += usize::from(p.lo80 <= *a && *a <= p.hi80);
            in95 += usize::from(p.lo95 <= *a && *a <= p.hi95);
            winkler += (p.hi80 - p.lo80) + 10.0 * ((p.lo80 - a).max(0.0) + (a - p.hi80).max(0.0));
            count += 1;
        }
    }
    let n = count.max(1) as f64;
    Coverage {
        c80: in80 as f64 / n,
        c95: in95 as f64 / n,
        winkler80: winkler / n,
    }
}
