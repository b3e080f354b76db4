//! `costwatch bench scale-run` (hidden): one measured daily run — aggregate, detect, forecast
//! and budgets, report — on a store `bench scale` seeded, in a process of its own so that its
//! peak memory (VmHWM) is the run's and not the seeding's. Prints one JSON line.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate};
use clap::Args;
use costwatch_core::notification::ReportPeriod;
use costwatch_pipeline::aggregate::aggregate;
use costwatch_pipeline::run::{RunSummary, detect_day, forecast_day, report_day};
use costwatch_pipeline::{PipelineConfig, Ports};
use costwatch_store::aws::{Capacity, CapacityMeter, SnsBus};
use costwatch_store::local::LocalBus;
use costwatch_store::{LakeWriter, LocalStore};
use serde::{Deserialize, Serialize};

use super::moto;
use crate::output::write_report;

#[derive(Args)]
pub struct RunArgs {
    /// The pipeline configuration (JSON) the seeding used (`--config` is the global
    /// costwatch.toml).
    #[arg(long)]
    pipeline: PathBuf,
    /// The day analysed; it and the day before are aggregated from the lake.
    #[arg(long)]
    as_of: NaiveDate,
    /// Where the report (and, on the local store, the notifications) go.
    #[arg(long)]
    out: PathBuf,
    /// The local store's data directory…
    #[arg(long, required_unless_present = "moto")]
    data: Option<PathBuf>,
    /// …or a running moto with the stack's bucket, table and topic.
    #[arg(long)]
    moto: Option<String>,
    #[arg(long, requires = "moto")]
    topic_arn: Option<String>,
    /// A DynamoDB server with the stack's table, instead of moto's (dynalite).
    #[arg(long, requires = "moto")]
    dynamodb: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub seconds: f64,
    /// DynamoDB request units (on the emulators only).
    pub capacity: Option<Capacity>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RunReport {
    pub steps: Vec<Step>,
    pub seconds: f64,
    /// Peak resident memory of the run's process (VmHWM), MiB.
    pub peak_rss_mib: f64,
    pub capacity: Option<Capacity>,
    /// Rollup rows the aggregate step wrote (two days).
    pub rows_aggregated: usize,
    /// Envelopes published, by kind.
    pub published: std::collections::BTreeMap<String, usize>,
    /// Each anomaly envelope's scope key.
    pub anomalies: Vec<String>,
}

/// This process's peak resident set so far, MiB.
pub fn peak_rss_mib() -> Result<f64> {
    let kib = crate::rss::peak_rss_kib("self").context("no VmHWM in /proc/self/status")?;
    Ok(kib as f64 / 1024.0)
}

pub async fn scale_run(args: RunArgs) -> Result<()> {
    let cfg: PipelineConfig = serde_json::from_slice(&std::fs::read(&args.pipeline)?)?;
    let report = match (&args.data, &args.moto) {
        (Some(data), _) => {
            let store = LocalStore::open(data)?;
            let bus = LocalBus::new(args.out.join("notifications"));
            let ports = Ports {
                lake: &store.lake,
                rollups: &store.rollups,
                state: &store.state,
                bus: &bus,
            };
            measure(&ports, &store.lake, &cfg, &args, None).await?
        }
        (None, Some(url)) => {
            let sdk = moto::sdk_config(url).await;
            let dynamodb = moto::sdk_config(args.dynamodb.as_deref().unwrap_or(url)).await;
            let meter = CapacityMeter::new();
            let (lake, rollups, state) = moto::stores(&sdk, &dynamodb, &meter);
            let bus = SnsBus::new(&sdk, args.topic_arn.clone().unwrap_or_default());
            let ports = Ports {
                lake: &lake,
                rollups: &rollups,
                state: &state,
                bus: &bus,
            };
            measure(&ports, &lake, &cfg, &args, Some(&meter)).await?
        }
        (None, None) => anyhow::bail!("--data or --moto"),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// `archive`: where the report step archives its files, as the report Lambda does (the same lake
/// as `ports.lake`, which only reads).
async fn measure(
    ports: &Ports<'_>,
    archive: &dyn LakeWriter,
    cfg: &PipelineConfig,
    args: &RunArgs,
    meter: Option<&CapacityMeter>,
) -> Result<RunReport> {
    let as_of = args.as_of;
    let now = crate::demo::morning_after(as_of);
    let begin = Instant::now();
    let mut steps = Vec::new();
    let mut mark = (Instant::now(), meter.map(CapacityMeter::total));
    let mut step = |name: &str| {
        let capacity = meter.map(|m| m.total() - mark.1.unwrap_or_default());
        steps.push(Step {
            name: name.to_owned(),
            seconds: mark.0.elapsed().as_secs_f64(),
            capacity,
        });
        mark = (Instant::now(), meter.map(CapacityMeter::total));
    };

    let days = [as_of - Days::new(1), as_of];
    let aggregated = aggregate(ports.lake, ports.rollups, ports.state, cfg, &days).await?;
    step("aggregate");
    let detected = detect_day(ports, cfg, as_of, now).await?;
    step("detect");
    let forecast = forecast_day(ports.rollups, ports.state, ports.bus, cfg, as_of, now).await?;
    step("forecast + budgets");
    let mut notifications = detected;
    notifications.extend(forecast.notifications.iter().cloned());
    let run = RunSummary {
        notifications,
        ..forecast
    };
    let (report, page) = report_day(ports, cfg, &run, ReportPeriod::Daily, now).await?;
    write_report(&args.out, archive, &page).await?;
    step("report");

    let mut published = std::collections::BTreeMap::new();
    for n in run.notifications.iter().chain([&report]) {
        *published.entry(n.body.kind().to_owned()).or_insert(0) += 1;
    }
    let anomalies = run
        .notifications
        .iter()
        .filter(|n| n.body.kind() == "anomaly")
        .map(|n| n.scope.key.clone())
        .collect();
    Ok(RunReport {
        seconds: begin.elapsed().as_secs_f64(),
        capacity: meter.map(CapacityMeter::total),
        steps,
        peak_rss_mib: peak_rss_mib()?,
        rows_aggregated: aggregated.rows,
        published,
        anomalies,
    })
}
