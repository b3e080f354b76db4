//! Builders for synthetic series and a seeded Gaussian source.

use chrono::{Datelike, Days, NaiveDate};
use costwatch_core::{DailyCost, DailySeries, Money, Scope};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn money(v: f64) -> Money {
    Money::from_f64_retain(v).expect("finite").round_dp(2)
}

pub fn usage(v: f64) -> DailyCost {
    DailyCost {
        usage: money(v),
        ..Default::default()
    }
}

pub fn series(start: NaiveDate, days: Vec<Option<DailyCost>>) -> DailySeries {
    DailySeries {
        scope: Scope::Org,
        start,
        days,
    }
}

/// Only the first `len` days (what the detector would have seen on that day).
pub fn truncated(s: &DailySeries, len: usize) -> DailySeries {
    DailySeries {
        scope: s.scope.clone(),
        start: s.start,
        days: s.days[..len].to_vec(),
    }
}

/// Weekday shape of a typical workload: busy weekdays, quiet weekends.
pub fn weekly_factor(d: NaiveDate) -> f64 {
    [1.0, 1.08, 1.12, 1.06, 0.98, 0.55, 0.5][d.weekday().num_days_from_monday() as usize]
}

/// Seeded standard normals (Box–Muller), so every test run sees the same "noise".
pub struct Noise(ChaCha8Rng);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    pub fn gauss(&mut self) -> f64 {
        let u1: f64 = self.0.random::<f64>().max(1e-12);
        let u2: f64 = self.0.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub fn uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }
}

/// `n` days of weekly-seasonal usage around `level` with relative Gaussian noise `rel_sd`;
/// returns the series and the noiseless baseline of each day.
pub fn seasonal(
    start: NaiveDate,
    n: usize,
    level: f64,
    rel_sd: f64,
    seed: u64,
) -> (DailySeries, Vec<f64>) {
    let mut noise = Noise::new(seed);
    let mut base = Vec::with_capacity(n);
    let days = (0..n)
        .map(|i| {
            let b = level * weekly_factor(start + Days::new(i as u64));
            base.push(b);
            Some(usage(b * (1.0 + rel_sd * noise.gauss())))
        })
        .collect();
    (series(start, days), base)
}
