//! Rolling month-end back-test (issue 18, item 3): the month-end forecast from every day of
//! every complete month of a series, against the month's real total, for costwatch and for a
//! naive random walk. Writes `<dir>/month_end.csv` (one row per origin) and `<dir>/series.csv`
//! (`ds,y`, the daily totals) for `evaluate.py`, which adds AutoETS and scores them all.
//!
//! [`period_backtest`] does the same for a quarterly or annual budget's period: the forecast to
//! its end that the budget's forecast thresholds compare with the amount.
//!
//! Naive's month end: actual to date plus the last day's value for every remaining day; its
//! 80 % interval is the random walk's for that sum (one-day changes with the standard deviation
//! of the history's, so the sum of k days has variance σ² · Σ m², m = 1..k), Gaussian.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Days, NaiveDate};
use costwatch_analytics::forecast::{ForecastConfig, period_end_with};
use costwatch_core::DailySeries;
use costwatch_core::findings::BudgetPeriod;
use costwatch_core::money::to_f64;

const Z80: f64 = 1.281_552;

/// What a back-test of period totals found.
pub struct PeriodScore {
    pub origins: usize,
    /// Share of origins whose true total lies in the 80 % interval.
    pub coverage80: f64,
    /// Mean absolute error of the total over the true total: costwatch's and naive's.
    pub ours_ape: f64,
    pub naive_ape: f64,
    /// A spreadsheet's run rate: to date + the mean of the last 28 days for each day left.
    pub run_rate_ape: f64,
}

/// Back-tests every origin from `from` on whose month lies wholly in the series, each forecast
/// reading the month so far or `history_days`, whichever is longer (the pipeline's month-end
/// forecasts read its `history_days`), or everything before the origin with `None`.
pub fn backtest(
    dir: &Path,
    series: &DailySeries,
    from: NaiveDate,
    history_days: Option<u64>,
) -> PeriodScore {
    let origins = from..=series.end();
    period_backtest(dir, series, origins, BudgetPeriod::Monthly, 1, history_days)
}

/// The same for a budget's period (a calendar month, quarter or year), from every `step`-th
/// day: writes `<dir>/<period>_end.csv` (`month_end.csv` for months, what `evaluate.py` reads).
/// With `history_days`, each forecast reads what the pipeline's budgets read: the period so far
/// or that many days, whichever is longer; without, everything before the origin.
pub fn period_backtest(
    dir: &Path,
    series: &DailySeries,
    origins: std::ops::RangeInclusive<NaiveDate>,
    period: BudgetPeriod,
    step: usize,
    history_days: Option<u64>,
) -> PeriodScore {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let y = series.totals_f64();
    let mut rows = String::from(
        "origin,month,truth,to_date,ours,ours_lo80,ours_hi80,naive,naive_lo80,naive_hi80\n",
    );
    let (mut count, mut inside) = (0usize, 0usize);
    let (mut ours_ape, mut naive_ape, mut run_rate_ape) = (0.0, 0.0, 0.0);
    for (i, v) in y.iter().enumerate().step_by(step.max(1)) {
        let origin = series.start + Days::new(i as u64);
        let (first, last) = (period.start(origin, 1), period.end(origin, 1));
        if !origins.contains(&origin)
            || first < series.start
            || last > series.end()
            || origin == last
            || v.is_none()
        {
            continue;
        }
        let days = |a: NaiveDate, b: NaiveDate| -> Option<f64> {
            a.iter_days()
                .take_while(|d| *d <= b)
                .map(|d| y[(d - series.start).num_days() as usize])
                .sum()
        };
        // Periods with a missing day have no true total.
        let Some(truth) = days(first, last) else {
            continue;
        };
        let to_date = days(first, origin).unwrap_or(0.0);
        let history = DailySeries {
            scope: series.scope.clone(),
            start: series.start,
            days: series.days[..=i].to_vec(),
        };
        let history = match history_days {
            Some(n) => history.since(first.min(origin - Days::new(n.saturating_sub(1)))),
            None => history,
        };
        let Some(m) = period_end_with(&history, origin, (first, last), &ForecastConfig::default())
        else {
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
        ours_ape += ((total - truth) / truth).abs();
        naive_ape += ((naive - truth) / truth).abs();
        let recent: Vec<f64> = y[i.saturating_sub(27)..=i]
            .iter()
            .flatten()
            .copied()
            .collect();
        let run_rate = to_date + k * recent.iter().sum::<f64>() / recent.len().max(1) as f64;
        run_rate_ape += ((run_rate - truth) / truth).abs();
        let _ = writeln!(
            rows,
            "{origin},{first},{truth},{to_date},{total},{lo},{hi},{naive},{},{}",
            naive - half,
            naive + half
        );
    }
    let file = format!("{}_end.csv", period.noun());
    std::fs::write(dir.join(&file), rows).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut s = String::from("ds,y\n");
    for (i, v) in y.iter().enumerate() {
        if let Some(v) = v {
            let _ = writeln!(s, "{},{v}", series.start + Days::new(i as u64));
        }
    }
    std::fs::write(dir.join("series.csv"), s).expect("series.csv");
    let n = count.max(1) as f64;
    PeriodScore {
        origins: count,
        coverage80: inside as f64 / n,
        ours_ape: ours_ape / n,
        naive_ape: naive_ape / n,
        run_rate_ape: run_rate_ape / n,
    }
}

fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}
