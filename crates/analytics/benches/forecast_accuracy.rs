//! Accuracy benchmark, the forecaster's half: holds out the last 28 days of each real series
//! (the daily series of `data/forecast/` and the daily total of the Oct–Nov 2018 CUR sample),
//! forecasts them from the rest and writes, per series, `train.csv`, `test.csv` and `ours.csv`
//! (`ds,mean,lo80,hi80`) under `$COSTWATCH_BENCH_OUT` (default `target/bench-forecast`).
//! `bench/forecast/evaluate.py` then runs the baselines (naive, seasonal naive, statsforecast
//! AutoETS) on the same `train.csv` and scores everything the same way. `make bench-forecast`
//! runs both.
//!
//! The CUR total is forecast as the pipeline does it, from the daily rollup with usage, fees,
//! tax and credits apart; the page-view and taxi series as `costwatch forecast` does. Last, it
//! prints the intervals' coverage on simulated series with a known, wandering level.

// The calibration tests' series builders: the same weekly shape and seeded noise.
#[path = "support/series.rs"]
mod bench_series;
#[allow(dead_code)]
#[path = "../tests/analytics/common.rs"]
mod common;
#[path = "support/coverage.rs"]
mod coverage;
#[path = "support/month_end.rs"]
mod month_end_backtest;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::{
    HISTORY_DAYS, PERIOD_HISTORY_DAYS, PlainForecast, ValuePoint, chosen_models, forecast_daily,
    forecast_plain, forecast_values,
};
use costwatch_core::findings::BudgetPeriod;
use costwatch_core::money::{from_f64, to_f64};
use costwatch_core::record::CostMetric;
use costwatch_core::scope::ScopeKind;
use costwatch_core::series::rollup;
use costwatch_core::shared::shared_path;
use costwatch_core::synth;
use costwatch_core::{DailyCost, DailySeries, Scope};

const HOLDOUT: usize = 28;
/// Earlier 28-day windows the intervals are also checked on, one every `ROLLING_STEP` days,
/// back from the held-out window (and never overlapping it): one window says little about
/// calibration (a blizzard or a holiday moves a whole window), a hundred say more.
const ROLLING_WINDOWS: usize = 104;
const ROLLING_STEP: usize = 7;
/// History a window's forecast needs at least.
const ROLLING_MIN_HISTORY: usize = 56;

fn main() {
    let out = std::env::var_os("COSTWATCH_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-forecast")
        });
    for name in bench_series::NAMES {
        let series = bench_series::read(name);
        let n = series.values.len() - HOLDOUT;
        let train = &series.values[..n];
        let PlainForecast { points: f, models } = forecast_plain(series.start, train, HOLDOUT);
        let rows: Vec<_> = f.iter().map(|p| (p.date, p.mean, p.lo80, p.hi80)).collect();
        write_split(&out.join(name), series.start, &series.values, n, &rows);
        println!("{name}: {} training days, chose {models:?}", n);
        let windows = rolling_forecasts(series.start, train);
        write_rolling(&out.join(name), &windows);
        let (c80, c95) = mean_coverage(series.start, train, &windows);
        println!(
            "{name}: {} earlier windows, mean coverage 80 % {c80:.3}, 95 % {c95:.3}",
            windows.len()
        );
        if name.starts_with("example_wp") {
            // The page views as if they were spend: month ends of the last two years of
            // complete months (every day of each), from the whole history before each.
            let as_spend = DailySeries {
                scope: Scope::Org,
                start: series.start,
                days: series
                    .values
                    .iter()
                    .map(|v| {
                        v.map(|v| DailyCost {
                            usage: from_f64(v),
                            ..Default::default()
                        })
                    })
                    .collect(),
            };
            let from = series.last_date() - Days::new(730);
            month_end_report(&out.join("month_end").join(name), &as_spend, from);
            // A quarterly budget's forecast from every 7th day: the quarters of the last four
            // years, and of the two years before them (where the two-year history was not
            // chosen). (No year of either series has every day: years are back-tested below.)
            let dir = out.join("period_end").join(name);
            let (end, four_years) = (series.last_date(), series.last_date() - Days::new(4 * 365));
            let earlier = four_years - Days::new(2 * 365)..=four_years - Days::new(1);
            period_report(
                &dir,
                &as_spend,
                four_years..=end,
                BudgetPeriod::Quarterly,
                7,
            );
            period_report(&dir, &as_spend, earlier, BudgetPeriod::Quarterly, 7);
        }
    }

    let mut records = Vec::new();
    for file in [
        "data/cost/cur/Oct2018-WorkshopCUR-00001.snappy.parquet",
        "data/cost/cur/Nov2018-WorkshopCUR-00001.snappy.parquet",
    ] {
        let path = shared_path(file);
        records.extend(costwatch_ingest::read_path(&path).unwrap_or_else(|e| panic!("{e}")));
    }
    let org = rollup(&records, CostMetric::Billed, &[ScopeKind::Org]);
    let points = org.get(&Scope::Org).expect("org rollup");
    let (start, end) = (
        *points.keys().next().expect("days"),
        *points.keys().last().expect("days"),
    );
    let full = DailySeries::from_points(Scope::Org, start, end, points);
    let n = full.len() - HOLDOUT;
    let train = DailySeries {
        scope: Scope::Org,
        start,
        days: full.days[..n].to_vec(),
    };
    let f = forecast_daily(&train, HOLDOUT);
    assert_eq!(
        f.len(),
        HOLDOUT,
        "CUR total: too little history to forecast"
    );
    let rows: Vec<_> = f
        .iter()
        .map(|p| (p.date, to_f64(p.mean), to_f64(p.lo80), to_f64(p.hi80)))
        .collect();
    let totals: Vec<Option<f64>> = full.totals_f64();
    write_split(&out.join("cur_daily_total"), start, &totals, n, &rows);
    println!(
        "cur_daily_total: {n} training days, flow chose {:?}",
        chosen_models(train.start, &train.map_f64(|d| d.usage + d.credit), HOLDOUT)
    );
    month_end_report(
        &out.join("month_end").join("cur_daily_total"),
        &full,
        start + Days::new(13),
    );
    // The synthetic organisation (the demo's, 400 days): its total and every account.
    let org = synth::generate(
        synth::DEFAULT_SEED,
        NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
        400,
    );
    let kinds = [ScopeKind::Org, ScopeKind::Account];
    for (scope, points) in rollup(&org.records, CostMetric::Billed, &kinds) {
        let s = DailySeries::from_points(scope.clone(), org.start, org.end, &points);
        let name = format!(
            "synthetic_{}",
            scope.to_string().replace([':', '/', ' '], "_")
        );
        month_end_report(
            &out.join("month_end").join(&name),
            &s,
            org.start + Days::new(13),
        );
        if scope == Scope::Org {
            let dir = out.join("period_end").join(&name);
            let origins = org.start + Days::new(13)..=org.end;
            period_report(&dir, &s, origins, BudgetPeriod::Quarterly, 1);
        }
    }
    // An annual budget's forecast on three years of the synthetic organisation (2024 and 2025
    // whole), from every 7th day.
    let long = synth::generate(
        synth::DEFAULT_SEED,
        NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
        1100,
    );
    let org = rollup(&long.records, CostMetric::Billed, &[ScopeKind::Org]);
    let total = DailySeries::from_points(Scope::Org, long.start, long.end, &org[&Scope::Org]);
    let dir = out.join("period_end").join("synthetic_org_3_years");
    let origins = long.start + Days::new(13)..=long.end;
    period_report(&dir, &total, origins, BudgetPeriod::Annually, 7);
    wandering_level_report();
    println!("wrote {}", out.display());
}

/// Calibration where the truth is known: a weekly shape on a level of 1,000 a day that takes a
/// Gaussian step of σ `walk` every day (0: a fixed level), plus daily noise of σ 50, forecast 28
/// days ahead from 60 windows per series and 4 series per row. A level that wanders is what
/// makes short histories hard: the back-test has seen few independent stretches of it.
fn wandering_level_report() {
    println!(
        "simulated weekly spend, level walk σ / history days: 80 % and 95 % coverage, mean 80 % Winkler"
    );
    for walk in [0.0, 5.0, 15.0] {
        for history in [60, 90, 150, 250] {
            let runs: Vec<coverage::Coverage> = (0..4u64)
                .map(|seed| {
                    let mut noise = common::Noise::new(100 + seed);
                    let start = common::date(2025, 1, 6);
                    let mut level = 1000.0;
                    let v: Vec<f64> = (0..history + 28 * 60)
                        .map(|t| {
                            level += walk * noise.gauss();
                            let day = start + Days::new(t as u64);
                            level * common::weekly_factor(day) + 50.0 * noise.gauss()
                        })
                        .collect();
                    coverage::rolling(start, &v, history, HOLDOUT)
                })
                .collect();
            let mean = |f: fn(&coverage::Coverage) -> f64| {
                runs.iter().map(f).sum::<f64>() / runs.len() as f64
            };
            println!(
                "  walk {walk:>4} / {history:>3} days: {:.3} {:.3} {:.1}",
                mean(|c| c.c80),
                mean(|c| c.c95),
                mean(|c| c.winkler80)
            );
        }
    }
}

/// A budget period's forecast back-tested (see `month_end_backtest::period_backtest`), each
/// forecast reading the period so far or `history` days, whichever is longer: the month end's
/// default (`HISTORY_DAYS`), to compare, then the pipeline's `PERIOD_HISTORY_DAYS`.
fn period_report(
    dir: &Path,
    series: &DailySeries,
    origins: std::ops::RangeInclusive<NaiveDate>,
    period: BudgetPeriod,
    step: usize,
) {
    for history in [HISTORY_DAYS, PERIOD_HISTORY_DAYS] {
        period_report_reading(dir, series, origins.clone(), period, step, history);
    }
}

fn period_report_reading(
    dir: &Path,
    series: &DailySeries,
    origins: std::ops::RangeInclusive<NaiveDate>,
    period: BudgetPeriod,
    step: usize,
    history: u32,
) {
    let window = format!("{}..{}", origins.start(), origins.end());
    let dir = dir.join(format!("{}_{history}d_{window}", period.noun()));
    let s = month_end_backtest::period_backtest(
        &dir,
        series,
        origins,
        period,
        step,
        Some(history.into()),
    );
    println!(
        "{}: {}-end back-test, origins {window}, {history} days of history, {} origins, mean absolute error of the total {:.2} % (naive {:.2} %, 28-day run rate {:.2} %), 80 % coverage {:.3}",
        dir.parent()
            .and_then(|d| d.file_name())
            .map(|f| f.to_string_lossy())
            .unwrap_or_default(),
        period.noun(),
        s.origins,
        100.0 * s.ours_ape,
        100.0 * s.naive_ape,
        100.0 * s.run_rate_ape,
        s.coverage80
    );
}

fn month_end_report(dir: &Path, series: &DailySeries, from: NaiveDate) {
    let name = dir
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // What the product forecasts (the pipeline's default `history_days`), then, beside it,
    // the same origins forecast from everything before them (the back-test before 2026-12).
    let all_history = dir
        .parent()
        .and_then(Path::parent)
        .map(|out| out.join("month_end_all_history").join(&name))
        .expect("month_end/<series>");
    for (dir, history, reading) in [
        (
            dir,
            Some(HISTORY_DAYS.into()),
            format!("{HISTORY_DAYS} days"),
        ),
        (&all_history, None, "all history".to_string()),
    ] {
        let s = month_end_backtest::backtest(dir, series, from, history);
        println!(
            "{name}: month-end back-test, {reading}, {} origins, 80 % coverage {:.3}, mean absolute error of the total {:.2} % (naive {:.2} %, 28-day run rate {:.2} %)",
            s.origins,
            s.coverage80,
            100.0 * s.ours_ape,
            100.0 * s.naive_ape,
            100.0 * s.run_rate_ape,
        );
    }
}

/// Forecasts of the earlier windows: `(origin, forecast)`, one per window, each from the
/// history up to its origin only; every window's 28 days lie in the training days.
fn rolling_forecasts(start: NaiveDate, train: &[Option<f64>]) -> Vec<(NaiveDate, Vec<ValuePoint>)> {
    let n = train.len();
    (1..=ROLLING_WINDOWS)
        .filter_map(|w| {
            let end = n.checked_sub(w * ROLLING_STEP)?; // first forecast day
            (end > ROLLING_MIN_HISTORY && end + HOLDOUT <= n).then_some(end)
        })
        .map(|end| {
            let origin = start + Days::new(end as u64 - 1);
            (origin, forecast_values(start, &train[..end], HOLDOUT))
        })
        .collect()
}

/// Mean share of each window's observed days inside its 80 % and 95 % intervals.
fn mean_coverage(
    start: NaiveDate,
    train: &[Option<f64>],
    windows: &[(NaiveDate, Vec<ValuePoint>)],
) -> (f64, f64) {
    let shares: Vec<(f64, f64)> = windows
        .iter()
        .filter_map(|(_, f)| {
            let seen: Vec<(f64, &ValuePoint)> = f
                .iter()
                .filter_map(|p| Some((actual(start, train, p.date)?, p)))
                .collect();
            let share = |inside: fn(f64, &ValuePoint) -> bool| {
                seen.iter().filter(|(y, p)| inside(*y, p)).count() as f64 / seen.len() as f64
            };
            (!seen.is_empty()).then(|| {
                (
                    share(|y, p| p.lo80 <= y && y <= p.hi80),
                    share(|y, p| p.lo95 <= y && y <= p.hi95),
                )
            })
        })
        .collect();
    let k = shares.len().max(1) as f64;
    (
        shares.iter().map(|s| s.0).sum::<f64>() / k,
        shares.iter().map(|s| s.1).sum::<f64>() / k,
    )
}

fn actual(start: NaiveDate, values: &[Option<f64>], d: NaiveDate) -> Option<f64> {
    let i = usize::try_from((d - start).num_days()).ok()?;
    values.get(i).copied().flatten()
}

/// `rolling.csv`: one row per window and forecast day, for `evaluate.py` to score.
fn write_rolling(dir: &Path, windows: &[(NaiveDate, Vec<ValuePoint>)]) {
    let mut s = String::from("origin,ds,mean,lo80,hi80,lo95,hi95\n");
    for (origin, f) in windows {
        for p in f {
            let _ = writeln!(
                s,
                "{origin},{},{},{},{},{},{}",
                p.date, p.mean, p.lo80, p.hi80, p.lo95, p.hi95
            );
        }
    }
    std::fs::write(dir.join("rolling.csv"), s).unwrap_or_else(|e| panic!("rolling.csv: {e}"));
}

fn write_split(
    dir: &Path,
    start: NaiveDate,
    values: &[Option<f64>],
    n: usize,
    ours: &[(NaiveDate, f64, f64, f64)],
) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let csv = |range: std::ops::Range<usize>| {
        let mut s = String::from("ds,y\n");
        for i in range {
            if let Some(v) = values[i] {
                let _ = writeln!(s, "{},{v}", start + Days::new(i as u64));
            }
        }
        s
    };
    let mut f = String::from("ds,mean,lo80,hi80\n");
    for (d, m, lo, hi) in ours {
        let _ = writeln!(f, "{d},{m},{lo},{hi}");
    }
    for (file, text) in [
        ("train.csv", csv(0..n)),
        ("test.csv", csv(n..values.len())),
        ("ours.csv", f),
    ] {
        std::fs::write(dir.join(file), text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}
