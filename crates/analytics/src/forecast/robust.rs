//! Robust exponential smoothing (Gelper, Fried & Croux, "Robust forecasting with exponential
//! and Holt–Winters smoothing", Journal of Forecasting 29, 2010): each one-step error is
//! clipped at two robust standard deviations before it moves the level, trend or season, and
//! that standard deviation follows the errors through a bounded (biweight) update.
//!
//! Why: a three-day holiday (taxi's Thanksgiving at a quarter below) or a one-day spike (page
//! views on the Super Bowl) moved every smoothing model's level by most of its size, and the
//! forecasts from the days after carried it for weeks. Clipped, such days move the level by at
//! most two standard deviations times α, while a lasting change still gets through: its errors
//! stay large, the scale grows with them (by up to 7 % a day) and the level follows within days
//! (and the level-shift alignment, `prepare` and `regime`, moves history onto it after a week).
//! The constants are the paper's, not fitted here.

use crate::stats::{MAD_TO_SIGMA, mad};

/// Errors are clipped at this many robust standard deviations (Huber's ψ).
const CLIP: f64 = 2.0;
/// Weight of each new error in the scale's update.
const SCALE_WEIGHT: f64 = 0.1;
/// The biweight ρ's bound, which makes its expectation 1 under Gaussian errors for `CLIP` 2.
const RHO_BOUND: f64 = 2.52;
/// Days at the start of the series whose week-on-week changes give the first scale.
const FIRST_SCALE_DAYS: usize = 56;
const WEEK: usize = 7;

/// The clipping state over one pass of a smoothing recursion (copied from its start for each
/// pass).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clipper {
    /// Robust variance of the one-step errors; 0 until there is any noise to measure.
    variance: f64,
}

impl Clipper {
    /// Starts from the spread of the first eight weeks' week-on-week changes (which the weekly
    /// shape does not move; a change is the difference of two days' noise, hence the √2).
    /// Like the models' fitted parameters (fitted once on the whole series, `models`), it is a
    /// property of the series, not of an origin: on a series shorter than about 11 weeks the
    /// first back-test origins (from day 20) are scored with a scale read partly after them.
    pub(crate) fn new(y: &[f64]) -> Self {
        let n = y.len().min(FIRST_SCALE_DAYS);
        let changes: Vec<f64> = (WEEK..n).map(|t| y[t] - y[t - WEEK]).collect();
        let sigma = mad(&changes).unwrap_or(0.0) * MAD_TO_SIGMA / std::f64::consts::SQRT_2;
        Self {
            variance: sigma * sigma,
        }
    }

    /// The error the recursion should use in place of `e`, and the scale updated by it.
    /// Works on squares, so the common case (no clipping) needs no square root: this runs once
    /// per day for every grid point of every model.
    #[inline]
    pub(crate) fn clip(&mut self, e: f64) -> f64 {
        if self.variance <= 0.0 {
            // No noise measured yet (a flat start): the first error sets the scale.
            self.variance = e * e;
            return e;
        }
        let x2 = e * e / self.variance;
        let (out, rho) = if x2 <= CLIP * CLIP {
            let u = 1.0 - x2 / (CLIP * CLIP);
            (e, RHO_BOUND * (1.0 - u * u * u))
        } else {
            (CLIP * self.variance.sqrt() * e.signum(), RHO_BOUND)
        };
        self.variance *= 1.0 + SCALE_WEIGHT * (rho - 1.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaussian-like noise from a fixed sequence (sum of four uniforms, centred).
    fn noise(t: usize) -> f64 {
        (1..=4)
            .map(|k| ((t * k) as f64 * 0.618_033_988_7).fract())
            .sum::<f64>()
            - 2.0
    }

    #[test]
    fn a_one_off_error_is_clipped_and_a_lasting_one_gets_through() {
        let y: Vec<f64> = (0..56).map(|t| 100.0 + noise(t)).collect();
        let mut c = Clipper::new(&y);
        let sigma = c.variance.sqrt();
        assert!(sigma > 0.3 && sigma < 2.0, "{sigma}");
        for t in 0..50 {
            c.clip(noise(t));
        }
        let before = c.variance.sqrt();
        // A spike of 20 σ moves the recursion by 2 σ, no more.
        let got = c.clip(20.0 * before);
        assert!((got - 2.0 * before).abs() < 1e-9, "{got} vs {before}");
        // A new level 20 σ away: the clipped errors grow day by day until they are whole.
        let mut level = 0.0;
        let mut days = 0;
        while (20.0 * before - level).abs() > 2.0 * before && days < 60 {
            level += 0.5 * c.clip(20.0 * before - level);
            days += 1;
        }
        assert!(days > 3 && days < 30, "followed in {days} days");
    }

    #[test]
    fn small_errors_pass_unchanged() {
        let y: Vec<f64> = (0..56).map(|t| 100.0 + noise(t)).collect();
        let mut c = Clipper::new(&y);
        let sigma = c.variance.sqrt();
        assert_eq!(c.clip(0.5 * sigma), 0.5 * sigma);
    }

    #[test]
    fn a_flat_start_takes_its_scale_from_the_first_error() {
        let mut c = Clipper::new(&[5.0; 30]);
        assert_eq!(c.clip(3.0), 3.0);
        assert!((c.clip(30.0) - 6.0).abs() < 1e-9);
    }
}
