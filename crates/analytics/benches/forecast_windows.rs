//! The forecaster alone on many 28-day windows of the real daily series, scored in Rust with no
//! baselines (`make bench-forecast-windows`, about six minutes on two cores): a change to the
//! forecaster is tried here before `make bench-forecast` reports it.
//!
//! Two sets of windows per series, one forecast every 7 days, each from its own history only:
//! * **bench**: the earlier windows `make bench-forecast` reports (the 28 days before the
//!   held-out month, and the 103 weeks before those), scored as `bench/forecast/evaluate.py`
//!   scores them, so its costwatch rows come out here too;
//! * **older**: the same weekly grid further back, down to a year of history. No figure the
//!   project reports is read on these windows, so a change chosen on them is judged on the
//!   bench's windows out of sample (issue 18's protocol: tune on one part, report on another).
//!
//! Each window's scores go to `$COSTWATCH_BENCH_OUT/windows/<series>.csv` (default
//! `target/bench-forecast`). With `COSTWATCH_BENCH_COMPARE=<an earlier run's windows/ dir>`,
//! every set is also compared window by window with that run: the mean change, how many
//! windows got better and worse, and the paired t statistic.

#[path = "support/series.rs"]
mod bench_series;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::forecast_values;

/// As `forecast_accuracy`: the held-out month, the spacing of the windows, the bench's count.
const HOLDOUT: usize = 28;
const STEP: usize = 7;
const BENCH_WINDOWS: usize = 104;
/// History the bench's windows need at least, and the older ones (a whole year, so that every
/// older window can take a yearly cycle into account as the bench's can).
const BENCH_MIN_HISTORY: usize = 56;
const OLDER_MIN_HISTORY: usize = 365;

/// One window's scores, as `evaluate.py` computes them.
#[derive(Clone, Copy)]
struct Scores {
    /// Mean absolute error over the seasonal-naive (m = 7) error of the window's own history.
    mase: f64,
    /// Mean 80 % interval score: width plus 10 × the distance outside.
    winkler: f64,
    /// Share of the window's days inside the 80 % interval.
    cov80: f64,
}

type Metric = (&'static str, fn(&Scores) -> f64);

const METRICS: [Metric; 3] = [
    ("MASE", |s| s.mase),
    ("Winkler", |s| s.winkler),
    ("coverage", |s| s.cov80),
];

fn main() {
    let out = std::env::var_os("COSTWATCH_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-forecast")
        })
        .join("windows");
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let compare = std::env::var_os("COSTWATCH_BENCH_COMPARE").map(PathBuf::from);
    for name in bench_series::NAMES {
        let series = bench_series::read(name);
        let train = &series.values[..series.values.len() - HOLDOUT];
        let windows = windows(train.len());
        let scored = score_all(series.start, train, &windows);
        let file = out.join(format!("{name}.csv"));
        write(&file, &scored);
        for set in ["bench", "older"] {
            let rows: Vec<&Scores> = scored
                .iter()
                .filter(|(_, s, _)| *s == set)
                .map(|(_, _, sc)| sc)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let mean =
                |f: fn(&Scores) -> f64| rows.iter().map(|s| f(s)).sum::<f64>() / rows.len() as f64;
            println!(
                "{name} {set}: {} windows, mean MASE {:.4}, Winkler {:.4}, 80 % coverage {:.3}",
                rows.len(),
                mean(|s| s.mase),
                mean(|s| s.winkler),
                mean(|s| s.cov80)
            );
        }
        if let Some(dir) = &compare {
            compare_with(&dir.join(format!("{name}.csv")), name, &scored);
        }
    }
    println!("wrote {}", out.display());
}

/// (first forecast day as an index of the training days, set), the bench's windows first.
fn windows(n: usize) -> Vec<(usize, &'static str)> {
    (1..)
        .map_while(|w| n.checked_sub(w * STEP).map(|end| (w, end)))
        .filter_map(|(w, end)| match w <= BENCH_WINDOWS {
            true => (end > BENCH_MIN_HISTORY && end + HOLDOUT <= n).then_some((end, "bench")),
            false => (end >= OLDER_MIN_HISTORY).then_some((end, "older")),
        })
        .collect()
}

/// Every window forecast and scored, on every core: (origin, set, scores).
fn score_all(
    start: NaiveDate,
    train: &[Option<f64>],
    windows: &[(usize, &'static str)],
) -> Vec<(NaiveDate, &'static str, Scores)> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = windows.len().div_ceil(cores).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = windows
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|&(end, set)| {
                            let origin = start + Days::new(end as u64 - 1);
                            Some((origin, set, score(start, train, end)?))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("a window's forecast panicked"))
            .collect()
    })
}

/// A window's day: actual, forecast, 80 % bounds.
type Day = (f64, f64, f64, f64);

/// The window whose first day is `train[end]`, forecast from the days before it. `None` when
/// none of its days is observed or its history has no seasonal-naive error.
fn score(start: NaiveDate, train: &[Option<f64>], end: usize) -> Option<Scores> {
    let history = &train[..end];
    let scale = {
        let diffs: Vec<f64> = (STEP..end)
            .filter_map(|i| Some((history[i]? - history[i - STEP]?).abs()))
            .collect();
        diffs.iter().sum::<f64>() / diffs.len() as f64
    };
    let forecast = forecast_values(start, history, HOLDOUT);
    let days: Vec<Day> = forecast
        .iter()
        .filter_map(|p| {
            let i = usize::try_from((p.date - start).num_days()).ok()?;
            Some((train.get(i).copied().flatten()?, p.mean, p.lo80, p.hi80))
        })
        .collect();
    if days.is_empty() || scale.is_nan() || scale <= 0.0 {
        return None;
    }
    let k = days.len() as f64;
    let mean = |f: &dyn Fn(&Day) -> f64| days.iter().map(f).sum::<f64>() / k;
    Some(Scores {
        mase: mean(&|(a, m, _, _)| (a - m).abs()) / scale,
        winkler: mean(&|(a, _, lo, hi)| (hi - lo) + 10.0 * ((lo - a).max(0.0) + (a - hi).max(0.0))),
        cov80: mean(&|(a, _, lo, hi)| f64::from(u8::from(lo <= a && a <= hi))),
    })
}

fn write(file: &Path, scored: &[(NaiveDate, &str, Scores)]) {
    let mut s = String::from("origin,set,mase,winkler,cov80\n");
    for (origin, set, sc) in scored {
        let _ = writeln!(s, "{origin},{set},{},{},{}", sc.mase, sc.winkler, sc.cov80);
    }
    std::fs::write(file, s).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

/// Window-by-window comparison with an earlier run's file of the same series.
fn compare_with(file: &Path, name: &str, scored: &[(NaiveDate, &str, Scores)]) {
    let Ok(text) = std::fs::read_to_string(file) else {
        println!("{name}: nothing to compare with at {}", file.display());
        return;
    };
    let before: BTreeMap<(String, String), Scores> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| f.get(i)?.parse::<f64>().ok();
            let scores = Scores {
                mase: num(2)?,
                winkler: num(3)?,
                cov80: num(4)?,
            };
            Some(((f[0].to_owned(), f.get(1)?.to_string()), scores))
        })
        .collect();
    for set in ["bench", "older"] {
        let pairs: Vec<(&Scores, &Scores)> = scored
            .iter()
            .filter(|(_, s, _)| *s == set)
            .filter_map(|(o, s, now)| Some((before.get(&(o.to_string(), s.to_string()))?, now)))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let mut line = format!(
            "{name} {set}, against the earlier run ({} windows):",
            pairs.len()
        );
        for (metric, f) in METRICS {
            let d: Vec<f64> = pairs.iter().map(|(b, n)| f(n) - f(b)).collect();
            let (better, worse) = match metric {
                // Coverage has no better side: report the change only.
                "coverage" => (0, 0),
                _ => (
                    d.iter().filter(|x| **x < -1e-12).count(),
                    d.iter().filter(|x| **x > 1e-12).count(),
                ),
            };
            let k = d.len() as f64;
            let mean = d.iter().sum::<f64>() / k;
            let sd =
                (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0).max(1.0)).sqrt();
            let t = if sd > 0.0 {
                mean / (sd / k.sqrt())
            } else {
                0.0
            };
            let before_mean = pairs.iter().map(|(b, _)| f(b)).sum::<f64>() / k;
            let _ = write!(
                line,
                " {metric} {before_mean:.4} → {:.4} (t {t:.1}",
                before_mean + mean
            );
            let _ = match metric {
                "coverage" => write!(line, ");"),
                _ => write!(line, ", {better} better, {worse} worse);"),
            };
        }
        println!("{line}");
    }
}
