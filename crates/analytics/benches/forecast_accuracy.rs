//! Accuracy benchmark, the forecaster's half: holds out the last 28 days of each real series
//! (the daily series of `data/forecast/` and the daily total of the Oct–Nov 2018 CUR sample),
//! forecasts them from the rest and writes, per series, `train.csv`, `test.csv` and `ours.csv`
//! (`ds,mean,lo80,hi80`) under `$COSTWATCH_BENCH_OUT` (default `target/bench-forecast`).
//! `bench/forecast/evaluate.py` then runs the baselines (naive, seasonal naive, statsforecast
//! AutoETS) on the same `train.csv` and scores everything the same way. `make bench-forecast`
//! runs both.
//!
//! The CUR total is forecast as the pipeline does it, from the daily rollup with usage, fees,
//! tax and credits apart; the page-view and taxi series as `costwatch forecast` does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::{chosen_models, forecast_daily, forecast_values};
use costwatch_core::money::to_f64;
use costwatch_core::record::CostMetric;
use costwatch_core::scope::ScopeKind;
use costwatch_core::series::rollup;
use costwatch_core::shared::shared_path;
use costwatch_core::{DailySeries, Scope};
use costwatch_ingest::daily::{Duplicates, read_daily};

const HOLDOUT: usize = 28;

fn main() {
    let out = std::env::var_os("COSTWATCH_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-forecast")
        });
    for name in [
        "example_wp_log_peyton_manning",
        "example_wp_log_R",
        "nab_nyc_taxi_daily",
    ] {
        let path = shared_path(&format!("data/forecast/{name}.csv"));
        let series = read_daily(&path, Duplicates::Sum).unwrap_or_else(|e| panic!("{e}"));
        let n = series.values.len() - HOLDOUT;
        let train = &series.values[..n];
        let f = forecast_values(series.start, train, HOLDOUT);
        let models = chosen_models(train, HOLDOUT);
        let rows: Vec<_> = f.iter().map(|p| (p.date, p.mean, p.lo80, p.hi80)).collect();
        write_split(&out.join(name), series.start, &series.values, n, &rows);
        println!("{name}: {} training days, chose {models:?}", n);
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
        chosen_models(&train.map_f64(|d| d.usage + d.credit), HOLDOUT)
    );
    println!("wrote {}", out.display());
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
