//! `costwatch demo`: a synthetic organisation through the whole pipeline, offline. The last 60
//! days are replayed one run per day, as the daily schedule would, so anomalies open, update and
//! resolve and budget thresholds are crossed on the days they really would be.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate, TimeZone, Utc};
use clap::{Args, ValueEnum};
use costwatch_analytics::budget::planted_budgets;
use costwatch_core::notification::ReportPeriod;
use costwatch_core::synth;
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::{Ports, aggregate, collect, run_day};
use costwatch_store::LocalStore;
use costwatch_store::local::LocalBus;
use costwatch_store::memory::MemoryCostSource;

use crate::config::Settings;
use crate::output::{Summary, progress, write_report};

#[derive(Args)]
pub struct DemoArgs {
    /// Where report.html and notifications/ are written.
    #[arg(long, default_value = "costwatch-out")]
    out: PathBuf,
    /// Seed of the synthetic organisation.
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    /// Last day of the synthetic data.
    #[arg(long, default_value = "2026-11-20")]
    end: NaiveDate,
    /// Days of synthetic history.
    #[arg(long, default_value_t = 120)]
    days: u32,
    /// Days replayed as daily runs, ending on --end.
    #[arg(long, default_value_t = 60)]
    replay: u32,
    /// Then run the four scenarios of issue 12 against integrations: `fakes` starts local
    /// Slack, Teams, PagerDuty, Jira and Datadog fakes on loopback and prints, per scenario,
    /// what each received.
    #[arg(long, value_enum)]
    integrations: Option<Integrations>,
}

/// Where `demo --integrations` sends.
#[derive(Clone, Copy, ValueEnum)]
pub enum Integrations {
    /// The vendor fakes, started on loopback (nothing leaves the machine).
    Fakes,
}

pub async fn demo(args: DemoArgs, settings: &Settings, json: bool) -> Result<()> {
    anyhow::ensure!(
        args.days >= 60,
        "--days must be at least 60 to give the models history"
    );
    anyhow::ensure!(
        args.replay >= 1 && args.replay < args.days,
        "--replay must be between 1 and --days - 1"
    );
    #[cfg(not(feature = "integrations"))]
    if args.integrations.is_some() {
        return Err(crate::needs::needs(
            "integrations",
            "demo --integrations fakes",
        ));
    }
    let data_dir = args.out.join("data");
    let notifications_dir = args.out.join("notifications");
    for dir in [&data_dir, &notifications_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
    }
    let org = synth::generate(args.seed, args.end, args.days);
    let mut cfg = settings.pipeline.clone();
    if cfg.budgets.is_empty() {
        cfg.budgets = planted_budgets(&org);
    }
    cfg.validate()?;

    let store = LocalStore::open(&data_dir)?;
    let bus = LocalBus::new(&notifications_dir);
    let source = MemoryCostSource::new(org.records.clone());
    let bar = progress(json, 3, "collect and aggregate");
    let collected = collect::collect(&source, &store.lake, org.start, org.end).await?;
    bar.inc(1);
    aggregate::aggregate(
        &store.lake,
        &store.rollups,
        &store.state,
        &cfg,
        &collected.days,
    )
    .await?;
    bar.finish_and_clear();

    let ports = Ports {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &bus,
    };
    let first = args.end - Days::new(u64::from(args.replay - 1));
    let bar = progress(json, u64::from(args.replay), "daily runs");
    let mut published = Vec::new();
    let mut last = None;
    for day in first.iter_days().take_while(|d| *d <= args.end) {
        let run = run_day(&ports, &cfg, day, morning_after(day)).await?;
        published.extend(run.notifications.iter().cloned());
        last = Some(run);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let run = last.context("no day was run")?;
    let (report, page) = report_day(
        &ports,
        &cfg,
        &run,
        ReportPeriod::Daily,
        morning_after(args.end),
    )
    .await?;
    published.push(report);
    let report_path = write_report(&args.out, &store.lake, &page).await?;

    let summary = Summary::new(
        "demo",
        &collected,
        &run,
        &published,
        &report_path,
        &notifications_dir,
    );
    #[cfg(feature = "integrations")]
    if let Some(Integrations::Fakes) = args.integrations {
        return scenarios(summary, json).await;
    }
    summary.print(json)
}

/// The four scenarios against the vendor fakes, after the demo's summary.
#[cfg(feature = "integrations")]
async fn scenarios(summary: Summary, json: bool) -> Result<()> {
    let bar = progress(json, 1, "scenarios against the vendor fakes");
    let scenarios = costwatch_scenarios::run_all()
        .await
        .context("the scenarios against the vendor fakes")?;
    bar.finish_and_clear();
    if json {
        let mut doc = serde_json::to_value(&summary)?;
        doc["scenarios"] = serde_json::to_value(&scenarios)?;
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    summary.print(false)?;
    println!();
    println!(
        "the four scenarios against the vendor fakes on loopback (what each vendor received):"
    );
    print!("{}", costwatch_scenarios::render(&scenarios));
    Ok(())
}

/// Runs happen early the next morning, when the day's data has arrived.
pub(crate) fn morning_after(day: NaiveDate) -> chrono::DateTime<Utc> {
    let next = day + Days::new(1);
    Utc.from_utc_datetime(&next.and_hms_opt(6, 0, 0).unwrap_or_default())
}
