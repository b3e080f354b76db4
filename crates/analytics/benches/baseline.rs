//! Speed of the analytics on the synthetic organisation's account × service series, stretched
//! to 400 days: anomaly detection on the latest day (one series, and 100,000 of them) and the
//! month-end forecast.
//! `make bench` prints the figures; the README keeps them.

use chrono::{Days, NaiveDate};
use costwatch_analytics::detect::{DetectorConfig, detect_latest};
use costwatch_analytics::forecast::month_end;
use costwatch_core::record::CostMetric;
use costwatch_core::scope::ScopeKind;
use costwatch_core::series::rollup;
use costwatch_core::{DailySeries, synth};

fn main() {
    divan::main();
}

fn series() -> Vec<DailySeries> {
    let end = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
    let org = synth::generate(synth::DEFAULT_SEED, end, 400);
    rollup(
        &org.records,
        CostMetric::Billed,
        &[ScopeKind::AccountService],
    )
    .into_iter()
    .map(|(scope, points)| DailySeries::from_points(scope, end - Days::new(399), end, &points))
    .collect()
}

#[divan::bench]
fn detect_latest_400_days(bencher: divan::Bencher) {
    let all = series();
    let cfg = DetectorConfig::default();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % all.len();
        detect_latest(divan::black_box(&all[i]), &cfg)
    });
}

/// The goal as stated: 100,000 series of 400 days on one core, ≤ 30 s. The synthetic
/// organisation's account × service series, cycled to 100,000 (by reference: no copies), scored
/// once per sample; one sample, as each takes some 20 s.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn detect_latest_100000_series_of_400_days(bencher: divan::Bencher) {
    let all = series();
    let batch: Vec<&DailySeries> = all.iter().cycle().take(100_000).collect();
    let cfg = DetectorConfig::default();
    bencher.bench_local(|| {
        batch
            .iter()
            .filter(|s| detect_latest(divan::black_box(s), &cfg).is_some())
            .count()
    });
}

#[divan::bench]
fn month_end_forecast_400_days(bencher: divan::Bencher) {
    let all = series();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % all.len();
        month_end(divan::black_box(&all[i]), as_of)
    });
}
