//! `costwatch bench scale`: the whole daily run on a synthetic organisation of `--accounts`
//! accounts × 16 services × `--days` days (org.rs), on the local store and on moto. For each
//! store it seeds the history through the store's own write path (`replace_days` of the rows
//! aggregate computes, the last two days' records into the lake), then runs one day —
//! aggregate (the new day and a restated one), detect, forecast and budgets, report — in a
//! child process (`bench scale-run`, run.rs), which reports its time per step, its peak memory
//! and, on moto, the DynamoDB request units it used (store `CapacityMeter`: computed from item
//! sizes by DynamoDB's rules). Then it measures the new day's scope manifest as stored.

mod moto;
mod org;
mod run;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use chrono::{Days, NaiveDate};
use clap::{Args, ValueEnum};
use costwatch_core::Scope;
use costwatch_local::dynalite::DynaliteServer;
use costwatch_local::moto::MotoServer;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::aggregate::{aggregate_records, rollup_rows};
use costwatch_pipeline::collect::write_days;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::AttributeValue;
use costwatch_store::aws::sdk::{aws_config::SdkConfig, aws_sdk_dynamodb};
use costwatch_store::aws::{Capacity, CapacityMeter, item_size};
use costwatch_store::{LakeWriter, LocalStore, RollupStore, StateStore};
use serde::Serialize;

use org::ScaledOrg;
pub use run::{RunArgs, scale_run};
use run::{RunReport, peak_rss_mib};

/// Which server answers DynamoDB in the emulated run.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum DynamoDb {
    /// moto, like S3 and SNS: every Query scans the whole table, so past ~100 accounts a
    /// run takes hours.
    Moto,
    /// dynalite (`COSTWATCH_DYNALITE`, the npm package's `dynalite` script): reads key ranges.
    Dynalite,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Stores {
    Local,
    Moto,
    Both,
}

#[derive(Args)]
pub struct ScaleArgs {
    /// Accounts in the synthetic organisation (each with the demo's 16 services).
    #[arg(long, default_value_t = 1000)]
    accounts: u64,
    /// Days of history, the last one the day the run analyses.
    #[arg(long, default_value_t = 400)]
    days: u32,
    /// Days of that history seeded on moto (default: all). moto keeps every item in Python
    /// objects: 400 days × 17,000 rows would take hours and tens of GB.
    #[arg(long)]
    moto_days: Option<u32>,
    #[arg(long, value_enum, default_value = "both")]
    store: Stores,
    /// The DynamoDB server of the emulated run.
    #[arg(long, value_enum, default_value = "moto")]
    dynamodb: DynamoDb,
    /// Work directory: the local store's data, the reports. Emptied first.
    #[arg(long, default_value = "costwatch-scale")]
    out: PathBuf,
}

/// The scope manifest of one day, as DynamoDB stores it.
#[derive(Serialize)]
struct Manifest {
    items: usize,
    largest_item_bytes: usize,
    total_bytes: usize,
}

#[derive(Serialize)]
struct StoreRun {
    /// `local`, `moto`, or `moto+dynalite` (DynamoDB on dynalite).
    store: &'static str,
    seeded_days: u32,
    seed_seconds: f64,
    seed_capacity: Option<Capacity>,
    /// The run's new day's manifest (moto).
    manifest: Option<Manifest>,
    run: RunReport,
    /// The run's process, from exec to exit.
    run_wall_seconds: f64,
    /// The planted spike's account × service is among the anomalies.
    spike_found: bool,
}

#[derive(Serialize)]
struct ScaleReport {
    accounts: u64,
    days: u32,
    as_of: NaiveDate,
    records_per_day: usize,
    rollup_rows_per_day: usize,
    account_service_series: usize,
    budgets: usize,
    runs: Vec<StoreRun>,
}

pub async fn scale(args: ScaleArgs, json: bool) -> Result<()> {
    ensure!(
        args.accounts > 0 && args.days >= 60,
        "--accounts ≥ 1 and --days ≥ 60"
    );
    let end = NaiveDate::from_ymd_opt(2026, 11, 20).context("end")?;
    let org = ScaledOrg::new(args.accounts, args.days, end);
    let cfg = PipelineConfig {
        budgets: org.budgets(),
        ..PipelineConfig::default()
    };
    cfg.validate()?;
    if args.out.exists() {
        std::fs::remove_dir_all(&args.out)?;
    }
    std::fs::create_dir_all(&args.out)?;
    let config = args.out.join("pipeline.json");
    std::fs::write(&config, serde_json::to_vec(&cfg)?)?;
    let last = org.day(end);
    let rows = rollup_rows(&cfg, &last, &[]);
    let spike = Scope::AccountService {
        account: ScaledOrg::account_id(0),
        service: org.planted.spike_service.clone(),
    }
    .key();
    let mut report = ScaleReport {
        accounts: args.accounts,
        days: args.days,
        as_of: end,
        records_per_day: last.len(),
        rollup_rows_per_day: rows.len(),
        account_service_series: rows
            .iter()
            .filter(|r| matches!(r.scope, Scope::AccountService { .. }))
            .count(),
        budgets: cfg.budgets.len(),
        runs: Vec::new(),
    };
    drop((last, rows));
    let child = |extra: Vec<String>| run_child(&config, end, &args.out, extra);

    if args.store != Stores::Moto {
        let data = args.out.join("local");
        let started = Instant::now();
        let store = LocalStore::open(&data)?;
        seed(
            &store.lake,
            &store.rollups,
            &store.state,
            &org,
            &cfg,
            args.days,
        )
        .await?;
        let seed_seconds = started.elapsed().as_secs_f64();
        drop(store);
        let (run, wall) = child(vec!["--data".into(), data.display().to_string()])?;
        report.runs.push(StoreRun {
            store: "local",
            seeded_days: args.days,
            seed_seconds,
            seed_capacity: None,
            manifest: None,
            spike_found: run.anomalies.contains(&spike),
            run,
            run_wall_seconds: wall,
        });
    }
    if args.store != Stores::Local {
        let days = args.moto_days.unwrap_or(args.days).min(args.days);
        let server =
            MotoServer::start(&crate::invoke::moto_program()).map_err(anyhow::Error::msg)?;
        let dynalite = match args.dynamodb {
            DynamoDb::Moto => None,
            DynamoDb::Dynalite => {
                Some(DynaliteServer::start(&dynalite_program()).map_err(anyhow::Error::msg)?)
            }
        };
        let sdk = moto::sdk_config(&server.url()).await;
        let dynamodb_url = dynalite.as_ref().map_or_else(|| server.url(), |d| d.url());
        let dynamodb = moto::sdk_config(&dynamodb_url).await;
        let topic = moto::create_stack(&sdk, &dynamodb).await?;
        let meter = CapacityMeter::new();
        let (lake, rollups, state) = moto::stores(&sdk, &dynamodb, &meter);
        let started = Instant::now();
        seed(&lake, &rollups, &state, &org, &cfg, days).await?;
        let seed_seconds = started.elapsed().as_secs_f64();
        let (run, wall) = child(vec![
            "--moto".into(),
            server.url(),
            "--topic-arn".into(),
            topic,
            "--dynamodb".into(),
            dynamodb_url,
        ])?;
        report.runs.push(StoreRun {
            store: match args.dynamodb {
                DynamoDb::Moto => "moto",
                DynamoDb::Dynalite => "moto+dynalite",
            },
            seeded_days: days,
            seed_seconds,
            seed_capacity: Some(meter.total()),
            manifest: Some(manifest(&dynamodb, end).await?),
            spike_found: run.anomalies.contains(&spike),
            run,
            run_wall_seconds: wall,
        });
    }
    print(&report, json)
}

fn dynalite_program() -> String {
    std::env::var("COSTWATCH_DYNALITE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "dynalite".to_owned())
}

/// `days` days up to the one before `org.end` through aggregate's own write path (rollups and
/// account names), and the records of the last two days into the lake for the run to aggregate.
async fn seed(
    lake: &dyn LakeWriter,
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    org: &ScaledOrg,
    cfg: &PipelineConfig,
    days: u32,
) -> Result<()> {
    let first = org.end - Days::new(u64::from(days) - 1);
    for (i, day) in first.iter_days().take_while(|d| *d < org.end).enumerate() {
        aggregate_records(rollups, state, cfg, &[day], &org.day(day)).await?;
        if i % 50 == 49 {
            eprintln!(
                "seeded {} of {days} days (peak RSS {:.0} MiB)",
                i + 1,
                peak_rss_mib()?
            );
        }
    }
    let last_two = [org.end - Days::new(1), org.end];
    let records = last_two.iter().map(|d| (*d, org.day(*d))).collect();
    write_days(lake, &last_two, &records, &Default::default()).await?;
    // A store that has been watched: the run looks again at the days before the one it judges.
    costwatch_pipeline::revised::judged_since(state, first).await?;
    Ok(())
}

fn run_child(
    config: &Path,
    as_of: NaiveDate,
    out: &Path,
    extra: Vec<String>,
) -> Result<(RunReport, f64)> {
    let exe = std::env::current_exe()?;
    let store = if extra.contains(&"--moto".to_owned()) {
        "moto"
    } else {
        "local"
    };
    let started = Instant::now();
    let output = Command::new(exe)
        .args(["bench", "scale-run", "--as-of", &as_of.to_string()])
        .arg("--pipeline")
        .arg(config)
        .arg("--out")
        .arg(out.join(format!("report-{store}")))
        .args(extra)
        .stderr(Stdio::inherit())
        .output()
        .context("starting bench scale-run")?;
    let wall = started.elapsed().as_secs_f64();
    ensure!(
        output.status.success(),
        "bench scale-run on {store} failed: {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let run =
        serde_json::from_str(line).with_context(|| format!("bench scale-run said: {line}"))?;
    Ok((run, wall))
}

/// The manifest items of `day` as stored, each measured as DynamoDB counts it.
async fn manifest(sdk: &SdkConfig, day: NaiveDate) -> Result<Manifest> {
    let out = aws_sdk_dynamodb::Client::new(sdk)
        .query()
        .table_name(moto::TABLE)
        .key_condition_expression("pk = :pk AND begins_with(sk, :day)")
        .expression_attribute_values(":pk", AttributeValue::S("rollup-days".into()))
        .expression_attribute_values(":day", AttributeValue::S(day.to_string()))
        .send()
        .await
        .context("dynamodb:Query rollup-days")?;
    let sizes: Vec<usize> = out.items().iter().map(item_size).collect();
    Ok(Manifest {
        items: sizes.len(),
        largest_item_bytes: sizes.iter().copied().max().unwrap_or_default(),
        total_bytes: sizes.iter().sum(),
    })
}

fn print(report: &ScaleReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!(
        "{} accounts × {} days: {} records and {} rollup rows a day ({} account × service series), {} budgets",
        report.accounts,
        report.days,
        report.records_per_day,
        report.rollup_rows_per_day,
        report.account_service_series,
        report.budgets
    );
    for r in &report.runs {
        println!(
            "\n{} ({} days seeded in {:.0} s): daily run {:.1} s ({:.1} s with process start), peak RSS {:.0} MiB, spike found: {}",
            r.store,
            r.seeded_days,
            r.seed_seconds,
            r.run.seconds,
            r.run_wall_seconds,
            r.run.peak_rss_mib,
            r.spike_found
        );
        for s in &r.run.steps {
            let units = s.capacity.map(|c| {
                format!(
                    "  {:.0} RRU in {} reads, {} WRU (+{} in the index) in {} writes",
                    c.read_units,
                    c.read_requests,
                    c.write_units,
                    c.index_write_units,
                    c.write_requests
                )
            });
            println!(
                "  {:<20} {:>8.1} s{}",
                s.name,
                s.seconds,
                units.unwrap_or_default()
            );
        }
        println!(
            "  published: {:?}; anomalies: {}",
            r.run.published,
            r.run.anomalies.len()
        );
        if let Some(m) = &r.manifest {
            println!(
                "  new day's manifest: {} items, largest {} bytes, {} bytes in all",
                m.items, m.largest_item_bytes, m.total_bytes
            );
        }
    }
    Ok(())
}
