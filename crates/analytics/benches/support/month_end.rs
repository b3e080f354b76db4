//! Rolling month-end back-test (issue 18, item 3): the month-end forecast from every day of
//! every complete month of a series, against the month's real total, for costwatch and for a
//! naive random walk. Writes `<dir>/month_end.csv` (one row per origin) and `<dir>/series.csv`
//! (`ds,y`, the daily totals) for `evaluate.py`, which adds AutoETS and scores them all.
//!
//! Naive's month end: actual to date plus the last day's value for every remaining day; its
//! 80 % interval is the random walk's for that sum (one-day changes with the standard deviation
//! of the history's, so the sum of k days has variance σ² · Σ m², m = 1..k), Gaussian.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, Days, Months, NaiveDate};
use costwatch_analytics::forecast::month_end;
use costwatch_core::DailySeries;
use costwatch_core::money::to_f64;

const Z80: f64 = 1.281_552;

/// Back-tests every origin from `from` on whose month lies wholly in the series.
pub fn backtest(dir: &Path, series: &DailySeries, from: NaiveDate) -> (usize, f64) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let y = series.totals_f64();
    let mut rows = String::from(
        "origin,month,truth,to_date,ours,ours_lo80,ours_hi80,naive,naive_lo80,naive_hi80\n",
    );
    let (mut count, mut inside) = (0usize, 0usize);
    for (i, v) in y.iter().enumerate() {
        let origin = series.start + Days::new(i as u64);
        let month = origin.with_day(1).expect("day 1");
        let last = month + Months::new(1) - Days::new(1);
        if origin < from || last > series.end() || origin == last || v.is_none() {
            continue;
        }
        let days = |a: NaiveDate, b: NaiveDate| -> Option<f64> {
            a.iter_days()
                .take_while(|d| *d <= b)
                .map(|d| y[(d - series.start).num_days() as usize])
                .sum()
        };
        // Months with a missing day have no true total.
        let Some(truth) = days(month, last) else {
            continue;
        };
        let to_date = days(month, origin).unwrap_or(0.0);
        let history = DailySeries {
            scope: series.scope.clone(),
            start: series.start,
            days: series.days[..=i].to_vec(),
        };
        let Some(m) = month_end(&history, origin) else {
            continue;
        };
        let k = (last - origin).num_days() as f64;
        let diffs: Vec<f64> = y[..=i]
            .windows(2)
            .filter_map(|w| Some(w[1]? - w[0]?))
            .collect();
        let sd = std_dev(&diffs);
        let naive = to_date + k * v.unwrap_or(0.0);
        let half = Z80 * sd * (k * (k + 1.0) * (2.0 * k + 1.0) / 6.0).sqrt();
        let (total, lo, hi) = (to_f64(m.total), to_f64(m.lo80), to_f64(m.hi80));
        count += 1;
        inside += usize::from(lo <= truth && truth <= hi);
        let _ = writeln!(
            rows,
            "{origin},{month},{truth},{to_date},{total},{lo},{hi},{naive},{},{}",
            naive - half,
            naive + half
        );
    }
    std::fs::write(dir.join("month_end.csv"), rows).expect("month_end.csv");
    let mut s = String::from("ds,y\n");
    for (i, v) in y.iter().enumerate() {
        if let Some(v) = v {
            let _ = writeln!(s, "{},{v}", series.start + Days::new(i as u64));
        }
    }
    std::fs::write(dir.join("series.csv"), s).expect("series.csv");
    (count, inside as f64 / count.max(1) as f64)
}

fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}
