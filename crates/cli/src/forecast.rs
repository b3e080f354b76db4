//! `costwatch forecast FILE.csv [--horizon N] [--out FILE]`: a daily series in, CSV
//! `ds,mean,lo80,hi80` out for the N days (28 unless given) after the last date in the file.
//! The same forecaster the pipeline runs (model chosen per series by back-test, see
//! `costwatch_analytics::forecast`), on a plain series: no split of fees from usage.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::Days;
use clap::{Args, ValueEnum};
use costwatch_analytics::forecast::{forecast_plain, month_end_of_values, monthly_charge_days};
use costwatch_ingest::daily::{Columns, Duplicates, read_daily_columns};

#[derive(Clone, Copy, ValueEnum)]
pub enum OnDuplicate {
    /// Add up the rows of one day (spend split over rows, hourly counts).
    Sum,
    /// Fail, naming both rows.
    Error,
}

#[derive(Args)]
pub struct ForecastArgs {
    /// Daily series as CSV: `ds,y`, `timestamp,value`, or one date column and one numeric
    /// column of any names (`date,unblended_cost`); any order, case, quoting. Also taken as the
    /// first argument (`costwatch forecast costs.csv`).
    #[arg(
        long = "input",
        value_name = "FILE",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    input: Option<PathBuf>,
    /// The series, as `--input`.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The column holding the day, when the file has several date-like columns.
    #[arg(long)]
    date_column: Option<String>,
    /// The column holding the value, when the file has several numeric columns.
    #[arg(long)]
    value_column: Option<String>,
    /// Days to forecast after the last date in the file.
    #[arg(long, default_value_t = 28)]
    horizon: usize,
    /// Write the CSV here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// What several rows on one date mean.
    #[arg(long, value_enum, default_value = "sum")]
    on_duplicate: OnDuplicate,
    /// Also forecast the total of the month of the first day after the file (its days so far
    /// plus the rest), with its 80 % and 95 % intervals: a line on stderr, and `month_end` in
    /// the --json summary. The values are taken as money (cents).
    #[arg(long)]
    month_end: bool,
}

pub fn forecast(args: ForecastArgs, json: bool) -> Result<()> {
    let Some(input) = args.input.clone().or(args.file.clone()) else {
        bail!("give the series file: costwatch forecast FILE (or --input FILE)");
    };
    if args.horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    let duplicates = match args.on_duplicate {
        OnDuplicate::Sum => Duplicates::Sum,
        OnDuplicate::Error => Duplicates::Reject,
    };
    let columns = Columns {
        date: args.date_column.clone(),
        value: args.value_column.clone(),
    };
    let series = read_daily_columns(&input, duplicates, &columns)?;
    for (row, label) in &series.skipped_totals {
        eprintln!(
            "note: {}: row {row} (`{label}`) is the file's own total, not a day: skipped",
            input.display()
        );
    }
    if !series.duplicate_days.is_empty() {
        eprintln!(
            "warning: {}: {} dates have several rows, summed (first {}); --on-duplicate error rejects them",
            input.display(),
            series.duplicate_days.len(),
            series.duplicate_days[0]
        );
    }
    let Some(last_observed) = series.values.iter().rposition(Option::is_some) else {
        bail!("{}: no values, only empty cells", input.display());
    };
    // Trailing dates without a value are forecast too, but not printed: the output starts the
    // day after the last date in the file.
    let skip = series.values.len() - 1 - last_observed;
    let forecast = forecast_plain(series.start, &series.values, args.horizon + skip);
    let first = series.last_date() + Days::new(1);
    let mut csv = String::from("ds,mean,lo80,hi80\n");
    let mut rows = 0;
    for p in forecast.points.iter().filter(|p| p.date >= first) {
        csv.push_str(&format!("{},{},{},{}\n", p.date, p.mean, p.lo80, p.hi80));
        rows += 1;
    }
    if rows != args.horizon {
        bail!(
            "internal error: {rows} forecast rows for a horizon of {}",
            args.horizon
        );
    }
    match &args.out {
        Some(path) => std::fs::write(path, &csv).with_context(|| format!("{}", path.display()))?,
        None => std::io::stdout().write_all(csv.as_bytes())?,
    }
    let month_end = args
        .month_end
        .then(|| month_end_of_values(series.start, &series.values, first))
        .flatten();
    if args.month_end {
        match &month_end {
            Some(m) => eprintln!(
                "month end {}: {:.2} (80 %: {:.2} – {:.2}; 95 %: {:.2} – {:.2}); in the file, to {}: {:.2}",
                m.month.format("%Y-%m"),
                m.total,
                m.lo80,
                m.hi80,
                m.lo95,
                m.hi95,
                m.as_of,
                m.actual_to_date
            ),
            None => eprintln!(
                "month end {}: too little history (14 observed days in the last 56 are needed)",
                first.format("%Y-%m")
            ),
        }
    }
    if json {
        let summary = serde_json::json!({
            "input": input,
            "days": series.values.len(),
            "observed": series.values.iter().flatten().count(),
            "first_date": series.start,
            "last_date": series.last_date(),
            "horizon": args.horizon,
            "models": forecast.models,
            "monthly_charge_days": monthly_charge_days(series.start, &series.values),
            "month_end": month_end.map(|m| serde_json::json!({
                "month": m.month,
                "as_of": m.as_of,
                "actual_to_date": m.actual_to_date,
                "total": m.total,
                "lo80": m.lo80,
                "hi80": m.hi80,
                "lo95": m.lo95,
                "hi95": m.hi95,
            })),
            "out": args.out,
        });
        // Standard output carries the CSV unless --out is given.
        if args.out.is_some() {
            println!("{summary}");
        } else {
            eprintln!("{summary}");
        }
    }
    Ok(())
}
