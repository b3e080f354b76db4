//! `costwatch run`: detection, forecasts, budgets and the report on the local store.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use costwatch_core::notification::ReportPeriod;
use costwatch_pipeline::collect::Collected;
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::{Ports, run_day};
use costwatch_store::local::LocalBus;
use costwatch_store::{LocalStore, RollupStore};

use crate::config::Settings;
use crate::output::{Summary, write_report};

#[derive(Clone, Copy, ValueEnum)]
enum Period {
    Daily,
    Weekly,
}

#[derive(Args)]
pub struct RunArgs {
    /// Day to analyse; default: the last day with data.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Report period.
    #[arg(long, value_enum, default_value = "daily")]
    period: Period,
    /// Where report.html and notifications/ are written.
    #[arg(long, default_value = "costwatch-out")]
    out: PathBuf,
}

pub async fn run(args: RunArgs, settings: &Settings, json: bool) -> Result<()> {
    let store = LocalStore::open(&settings.data_dir)
        .with_context(|| format!("opening data directory {}", settings.data_dir.display()))?;
    let (first, last) = store.rollups.day_range().await?.with_context(|| {
        format!(
            "no cost data in {}: run `costwatch import` first",
            settings.data_dir.display()
        )
    })?;
    let as_of = args.as_of.unwrap_or(last);
    anyhow::ensure!(
        (first..=last).contains(&as_of),
        "--as-of {as_of} is outside the data ({first} to {last})"
    );
    let notifications_dir = args.out.join("notifications");
    let bus = LocalBus::new(&notifications_dir);
    let ports = Ports {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &bus,
    };
    let now = chrono::Utc::now();
    let run = run_day(&ports, &settings.pipeline, as_of, now).await?;
    let period = match args.period {
        Period::Daily => ReportPeriod::Daily,
        Period::Weekly => ReportPeriod::Weekly,
    };
    let (report, page) = report_day(&ports, &settings.pipeline, &run, period, now).await?;
    let report_path = write_report(&args.out, &page)?;
    let mut published = run.notifications.clone();
    published.push(report);
    let nothing_collected = Collected {
        days: Vec::new(),
        records: 0,
        requests: 0,
        by_day: Default::default(),
    };
    Summary::new(
        "run",
        &nothing_collected,
        &run,
        &published,
        &report_path,
        &notifications_dir,
    )
    .print(json)
}
