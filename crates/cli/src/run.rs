//! `costwatch run`: detection, forecasts, budgets and the report on the local store; with
//! `--aws`, first an incremental pull from Cost Explorer into it (read-only towards AWS: only
//! `ce:GetCostAndUsage`), within the request cap, and the `[metrics]` series from CloudWatch
//! (`cloudwatch:GetMetricData`), judged as the metrics Lambda judges them; with
//! `--data-export DIR`, first the collect Lambda's Data Exports query over an export on disk,
//! run by the embedded engine.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use costwatch_core::Notification;
use costwatch_core::notification::ReportPeriod;
use costwatch_pipeline::Ports;
use costwatch_pipeline::collect::Collected;
use costwatch_pipeline::incremental::IncrementalOutcome;
use costwatch_pipeline::metrics::MetricsOutcome;
use costwatch_pipeline::resource_causes::ResourceLines;
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::run::run_day_with;
use costwatch_store::local::LocalBus;
use costwatch_store::{ImportedAnomaly, LocalStore, RollupStore};
// What only `--aws` needs: the lean build (`make demo`) has no AWS SDK.
#[cfg(feature = "aws")]
use {
    costwatch_pipeline::aggregate::aggregate,
    costwatch_pipeline::hybrid,
    costwatch_pipeline::incremental::{collect_incremental, mark_announced},
    costwatch_store::RequestBudget,
    costwatch_store::aws::CostExplorerSource,
    costwatch_store::aws::sdk::aws_config::SdkConfig,
};

use crate::config::{Settings, SourceConfig, SourceKind};
use crate::output::{CostExplorerLine, Summary, write_report};

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
    /// First pull new and revised days from Cost Explorer (credentials, region and endpoint from
    /// the standard AWS chain). Costs $0.01 per request; a quiet day is 2 requests. With a
    /// `[metrics]` table, also the watched CloudWatch series ($0.01 per 1,000 metrics).
    #[arg(long)]
    aws: bool,
    /// AWS profile from ~/.aws/config to use with --aws.
    #[arg(long, requires = "aws")]
    profile: Option<String>,
    /// Cost Explorer requests this run may make at most (default: [collect]
    /// max_requests_per_run, 20). The run stops before passing it; the next run continues.
    #[arg(long, requires = "aws")]
    max_requests: Option<u32>,
    /// First read the days AWS may still revise (last month and this month up to yesterday) from a Data
    /// Export on disk — a CUR 2.0 export's folder (`data/BILLING_PERIOD=YYYY-MM/`) or CUR
    /// Parquet — with the query the collect Lambda sends to Athena, run here by the embedded
    /// engine (no AWS call, nothing billed).
    #[arg(long, conflicts_with = "aws")]
    data_export: Option<PathBuf>,
    /// Pretend today is this day (tests, replays): --aws collects up to the day before,
    /// --data-export up to the day before too.
    #[arg(long, hide = true)]
    today: Option<NaiveDate>,
}

/// What `--data-export` read, and the export's line items for resource-level root cause.
type FromExport = (
    costwatch_pipeline::data_exports::DataExportsCollected,
    costwatch_pipeline::resource_causes::ExportLines,
);

/// The restated window of the export at `path` into the local store, rolled up.
#[cfg(feature = "data-exports")]
async fn collect_from_export(
    path: &std::path::Path,
    args: &RunArgs,
    settings: &Settings,
    store: &LocalStore,
    now: DateTime<Utc>,
) -> Result<FromExport> {
    let export = crate::data_export::LocalExport::open(path, settings).await?;
    let today = args.today.unwrap_or_else(|| now.date_naive());
    let outcome = costwatch_pipeline::data_exports::collect_data_exports(
        export.engine(),
        export.table(),
        &store.lake,
        None,
        costwatch_query::Window::restated(today),
        now,
    )
    .await
    .with_context(|| format!("querying the export at {}", path.display()))?;
    costwatch_pipeline::aggregate::aggregate(
        &store.lake,
        &store.rollups,
        &store.state,
        &settings.pipeline,
        &outcome.days,
    )
    .await?;
    Ok((outcome, export.resource_lines()))
}

#[cfg(not(feature = "data-exports"))]
async fn collect_from_export(
    _: &std::path::Path,
    _: &RunArgs,
    _: &Settings,
    _: &LocalStore,
    _: DateTime<Utc>,
) -> Result<FromExport> {
    Err(crate::needs::needs("data-exports", "run --data-export"))
}

/// The AWS configuration of one run, loaded when a step first needs it and shared by the
/// others (Cost Explorer, CloudWatch, the anomaly import): the profile files are read and the
/// region resolved once, and credentials (an assumed role's included) are fetched and cached
/// once, not once per step.
struct AwsSession<'a> {
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    profile: Option<&'a str>,
    #[cfg(feature = "aws")]
    config: tokio::sync::OnceCell<SdkConfig>,
}

impl<'a> AwsSession<'a> {
    fn new(profile: Option<&'a str>) -> Self {
        Self {
            profile,
            #[cfg(feature = "aws")]
            config: tokio::sync::OnceCell::new(),
        }
    }

    #[cfg(feature = "aws")]
    async fn config(&self) -> &SdkConfig {
        self.config.get_or_init(|| aws_config(self.profile)).await
    }
}

/// The standard chain with the named profile when given ([`crate::deployed::sdk_config`]). Cost
/// Explorer has one endpoint (us-east-1): without a configured region that is the one used.
#[cfg(feature = "aws")]
async fn aws_config(profile: Option<&str>) -> SdkConfig {
    crate::deployed::sdk_config_or(profile, "us-east-1").await
}

/// Pulls from Cost Explorer into the local store and rolls the written days up.
#[cfg(feature = "aws")]
async fn collect_from_aws(
    aws: &AwsSession<'_>,
    args: &RunArgs,
    settings: &Settings,
    store: &LocalStore,
    now: DateTime<Utc>,
) -> Result<IncrementalOutcome> {
    let mut collect = settings.collect.clone();
    if let Some(cap) = args.max_requests {
        collect.max_requests_per_run = cap;
    }
    collect.validate().context("--max-requests")?;
    let sdk = aws.config().await;
    crate::credentials::require(sdk, "Cost Explorer", "the account to read").await?;
    let source = CostExplorerSource::new(sdk, settings.cost_explorer.options())?;
    let today = args.today.unwrap_or_else(|| now.date_naive());
    let outcome = collect_incremental(&source, &store.lake, &store.state, &collect, today, now)
        .await
        .context("collecting from Cost Explorer")?;
    aggregate(
        &store.lake,
        &store.rollups,
        &store.state,
        &settings.pipeline,
        &outcome.announce,
    )
    .await?;
    mark_announced(&store.state, &outcome.announce).await?;
    Ok(outcome)
}

/// The `[metrics]` series pulled from CloudWatch and judged; their alerts written to `bus`.
#[cfg(feature = "aws")]
async fn watch_metrics_on_aws(
    aws: &AwsSession<'_>,
    settings: &Settings,
    store: &LocalStore,
    bus: &LocalBus,
    now: DateTime<Utc>,
) -> Result<(MetricsOutcome, Vec<Notification>)> {
    crate::watch_metrics::watch(aws.config().await, settings, store, bus, now).await
}

/// AWS Cost Anomaly Detection's findings of the week up to `as_of`.
#[cfg(feature = "aws")]
async fn import_from_aws(
    aws: &AwsSession<'_>,
    settings: &Settings,
    as_of: NaiveDate,
) -> Result<Vec<ImportedAnomaly>> {
    let source = CostExplorerSource::new(aws.config().await, settings.cost_explorer.options())?;
    let budget = RequestBudget::new(hybrid::DEFAULT_IMPORT_REQUESTS);
    hybrid::import(&source, as_of, &budget)
        .await
        .context("importing anomalies from Cost Explorer (GetAnomalies)")
}

impl RunArgs {
    /// The configured `[source]` when no flag names one: a flag wins.
    fn apply_source(&mut self, source: &SourceConfig) {
        if self.aws || self.data_export.is_some() {
            return;
        }
        match source.kind {
            SourceKind::Local => {}
            SourceKind::CostExplorer => self.aws = true,
            SourceKind::DataExport => self.data_export = source.data_export.clone(),
        }
    }
}

pub async fn run(mut args: RunArgs, settings: &Settings, json: bool) -> Result<()> {
    args.apply_source(&settings.source);
    let store = LocalStore::open(&settings.data_dir)
        .with_context(|| format!("opening data directory {}", settings.data_dir.display()))?;
    let now = chrono::Utc::now();
    let aws = AwsSession::new(args.profile.as_deref());
    let pulled = match args.aws {
        true => Some(collect_from_aws(&aws, &args, settings, &store, now).await?),
        false => None,
    };
    let (exported, resources) = match &args.data_export {
        Some(path) => {
            let (outcome, lines) = collect_from_export(path, &args, settings, &store, now).await?;
            (Some(outcome), Some(lines))
        }
        None => (None, None),
    };
    let range = store.rollups.day_range().await?;
    let (first, last) = match (range, &pulled) {
        (Some(range), _) => range,
        (None, Some(pulled)) => anyhow::bail!(
            "no cost data yet in {} after {}{}",
            settings.data_dir.display(),
            pulled.ledger_line,
            if pulled.capped {
                "; the request cap stopped the pull: run again to continue"
            } else {
                ""
            }
        ),
        (None, None) if exported.is_some() => anyhow::bail!(
            "no cost data in {} after reading the export: it holds no line items in the \
             window it was asked for",
            settings.data_dir.display()
        ),
        (None, None) => anyhow::bail!(
            "no cost data in {}: run `costwatch import` or `costwatch run --aws` first",
            settings.data_dir.display()
        ),
    };
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
    let (watched, metric_alerts) = match settings.metrics.watch.len() {
        0 => (None, Vec::new()),
        _ if args.aws => {
            let (outcome, alerts) = watch_metrics_on_aws(&aws, settings, &store, &bus, now).await?;
            (Some(outcome), alerts)
        }
        // Said, not silently skipped: the file asks for series this run will not look at.
        n => {
            eprintln!(
                "note: [metrics] watches {n} CloudWatch series; they are pulled and judged with \
                 --aws (or [source] kind = \"cost-explorer\"), not from the local store"
            );
            (None, Vec::new())
        }
    };
    let imported = match args.aws && settings.cost_explorer.import_anomalies {
        true => import_from_aws(&aws, settings, as_of).await?,
        false => Vec::new(),
    };
    let resources = resources.as_ref().map(|r| r as &dyn ResourceLines);
    let run = run_day_with(&ports, resources, &settings.pipeline, as_of, now, &imported).await?;
    let period = match args.period {
        Period::Daily => ReportPeriod::Daily,
        Period::Weekly => ReportPeriod::Weekly,
    };
    let (report, page) = report_day(&ports, &settings.pipeline, &run, period, now).await?;
    let report_path = write_report(&args.out, &store.lake, &page).await?;
    let mut published = run.notifications.clone();
    published.extend(metric_alerts);
    published.push(report);
    let collected = Collected {
        days: pulled
            .as_ref()
            .map(|p| p.days.clone())
            .or_else(|| exported.as_ref().map(|e| e.days.clone()))
            .unwrap_or_default(),
        records: pulled
            .as_ref()
            .map(|p| p.records)
            .or_else(|| exported.as_ref().map(|e| e.records))
            .unwrap_or(0),
        requests: pulled.as_ref().map_or(0, |p| p.requests),
        by_day: Default::default(),
    };
    let mut summary = Summary::new(
        "run",
        &collected,
        &run,
        &published,
        &report_path,
        &notifications_dir,
    );
    summary.cost_explorer = pulled.as_ref().map(CostExplorerLine::from);
    summary.data_export = exported.map(|e| e.ledger_line);
    summary.cloudwatch = watched;
    summary.print(json)
}

/// The lean build has no AWS SDK: `--aws` says which build it needs.
#[cfg(not(feature = "aws"))]
async fn collect_from_aws(
    _: &AwsSession<'_>,
    _: &RunArgs,
    _: &Settings,
    _: &LocalStore,
    _: DateTime<Utc>,
) -> Result<IncrementalOutcome> {
    Err(crate::needs::needs("aws", "run --aws"))
}

#[cfg(not(feature = "aws"))]
async fn watch_metrics_on_aws(
    _: &AwsSession<'_>,
    _: &Settings,
    _: &LocalStore,
    _: &LocalBus,
    _: DateTime<Utc>,
) -> Result<(MetricsOutcome, Vec<Notification>)> {
    Err(crate::needs::needs("aws", "run --aws"))
}

#[cfg(not(feature = "aws"))]
async fn import_from_aws(
    _: &AwsSession<'_>,
    _: &Settings,
    _: NaiveDate,
) -> Result<Vec<ImportedAnomaly>> {
    Err(crate::needs::needs("aws", "run --aws"))
}
