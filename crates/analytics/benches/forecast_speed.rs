//! Speed benchmark: forecasts for `COSTWATCH_BENCH_SERIES` (default 100,000) seeded synthetic
//! daily spend series of 400 days, 28 days ahead with intervals, on one core. Only forecasting
//! is timed (series are generated in batches between timings). Writes the figure to
//! `$COSTWATCH_BENCH_OUT/speed/ours.json` and the first 1,000 series to `speed/sample.csv`, on
//! which `bench/forecast/evaluate.py` times statsforecast's AutoETS in the same run.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::forecast_values;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DAYS: usize = 400;
const HORIZON: usize = 28;
const BATCH: usize = 1_000;
const SAMPLE: usize = 1_000;

/// Spend-like: a level between $1 and $10,000 a day, a weekly shape of random depth, a slow
/// trend, Gaussian noise of 2–20 %, and now and then a level step.
fn series(rng: &mut ChaCha8Rng) -> Vec<Option<f64>> {
    let mut g = || {
        let u1: f64 = rng.random::<f64>().max(1e-12);
        let u2: f64 = rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let level = 10f64.powf(4.0 * (g() * 0.3 + 0.5).clamp(0.0, 1.0));
    let weekend = 1.0 - 0.5 * (g() * 0.3 + 0.5).clamp(0.0, 1.0);
    let trend = 0.001 * g();
    let noise = 0.02 + 0.18 * (g() * 0.3 + 0.5).clamp(0.0, 1.0);
    let step_at = (g().abs() * 400.0) as usize;
    let step = 1.0 + 0.5 * g();
    (0..DAYS)
        .map(|t| {
            let week = if t % 7 >= 5 { weekend } else { 1.0 };
            let shift = if t >= step_at { step.max(0.2) } else { 1.0 };
            let base = level * week * shift * (1.0 + trend).powi(t as i32);
            Some((base * (1.0 + noise * g())).max(0.0))
        })
        .collect()
}

fn main() {
    let total: usize = std::env::var("COSTWATCH_BENCH_SERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let out = std::env::var_os("COSTWATCH_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-forecast")
        })
        .join("speed");
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut elapsed = Duration::ZERO;
    let mut checksum = 0.0;
    let mut sample = String::from("unique_id,ds,y\n");
    let mut done = 0;
    while done < total {
        let batch: Vec<_> = (0..BATCH.min(total - done))
            .map(|_| series(&mut rng))
            .collect();
        if done < SAMPLE {
            for (k, s) in batch.iter().enumerate().take(SAMPLE - done) {
                for (t, v) in s.iter().enumerate() {
                    let _ = writeln!(
                        sample,
                        "s{},{},{}",
                        done + k,
                        start + Days::new(t as u64),
                        v.unwrap_or(0.0)
                    );
                }
            }
        }
        let t0 = Instant::now();
        for s in &batch {
            let f = forecast_values(start, std::hint::black_box(s), HORIZON);
            checksum += f.last().map_or(0.0, |p| p.hi80);
        }
        elapsed += t0.elapsed();
        done += batch.len();
    }
    let secs = elapsed.as_secs_f64();
    let rate = total as f64 / secs;
    println!(
        "{total} series x {DAYS} days, horizon {HORIZON}: {secs:.1} s forecasting, {rate:.0} series/s (checksum {checksum:.0})"
    );
    let json = format!(
        "{{\"series\": {total}, \"days\": {DAYS}, \"horizon\": {HORIZON}, \"seconds\": {secs}, \"series_per_second\": {rate}}}\n"
    );
    for (file, text) in [("ours.json", json), ("sample.csv", sample)] {
        std::fs::write(out.join(file), text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}
