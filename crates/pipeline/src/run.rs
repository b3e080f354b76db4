//! One day's analysis over the ports: detect → forecast → budgets, then the report.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::notification::ReportPeriod;
use costwatch_core::{Notification, Scope, envelopes};
use costwatch_store::{ImportedAnomaly, LakeReader, NotificationBus, RollupStore, StateStore};

use crate::budgets::{BudgetStatus, evaluate_all, notify_crossings};
use crate::config::PipelineConfig;
use crate::detect::{DetectPorts, detect_merged};
use crate::drivers::DriverReader;
use crate::error::Result;
use crate::forecast::{forecasts, notify_forecasts};
use crate::html::{ReportPage, build_page};
use crate::meta::account_names;
use crate::report::figures;
use crate::resource_causes::ResourceLines;

/// The ports the analysis steps read and write.
pub struct Ports<'a> {
    pub lake: &'a dyn LakeReader,
    pub rollups: &'a dyn RollupStore,
    pub state: &'a dyn StateStore,
    pub bus: &'a dyn NotificationBus,
}

/// What one day's run found and published.
pub struct RunSummary {
    pub as_of: NaiveDate,
    pub notifications: Vec<Notification>,
    pub forecasts: BTreeMap<Scope, MonthEndForecast>,
    pub budgets: Vec<BudgetStatus>,
}

/// Detection, forecasts and budgets for one day, publishing what they find: the CLI's run. The
/// Lambdas run the two halves separately ([`detect_day`] and [`forecast_day`]), in parallel.
pub async fn run_day(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RunSummary> {
    run_day_merged(ports, cfg, as_of, now, &[]).await
}

/// [`run_day`] with anomalies imported from AWS Cost Anomaly Detection merged into detection.
pub async fn run_day_merged(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    imported: &[ImportedAnomaly],
) -> Result<RunSummary> {
    run_day_with(ports, None, cfg, as_of, now, imported).await
}

/// [`run_day_merged`] with resource-level root cause from `resources`.
pub async fn run_day_with(
    ports: &Ports<'_>,
    resources: Option<&dyn ResourceLines>,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    imported: &[ImportedAnomaly],
) -> Result<RunSummary> {
    let mut notifications = detect_day_with(ports, resources, cfg, as_of, now, imported).await?;
    let forecast = forecast_day(ports.rollups, ports.state, ports.bus, cfg, as_of, now).await?;
    notifications.extend(forecast.notifications);
    Ok(RunSummary {
        notifications,
        ..forecast
    })
}

/// Anomaly detection with its lifecycle; returns the envelopes it published.
pub async fn detect_day(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    detect_day_merged(ports, cfg, as_of, now, &[]).await
}

/// [`detect_day`] with imported anomalies merged in (see [`crate::hybrid`]).
pub async fn detect_day_merged(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    imported: &[ImportedAnomaly],
) -> Result<Vec<Notification>> {
    detect_day_with(ports, None, cfg, as_of, now, imported).await
}

/// [`detect_day_merged`], every anomaly's resources ranked from `resources` (a Data Export's
/// line items; see [`crate::resource_causes`]).
pub async fn detect_day_with(
    ports: &Ports<'_>,
    resources: Option<&dyn ResourceLines>,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    imported: &[ImportedAnomaly],
) -> Result<Vec<Notification>> {
    let names = account_names(ports.state).await?;
    let detect_ports = DetectPorts {
        lake: ports.lake,
        rollups: ports.rollups,
        state: ports.state,
        bus: ports.bus,
        resources,
    };
    detect_merged(&detect_ports, cfg, &names, as_of, now, imported).await
}

/// Month-end forecasts and budget crossings, publishing the alerts due; `notifications` holds
/// only those.
pub async fn forecast_day(
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RunSummary> {
    let names = account_names(state).await?;
    let standing = standing(rollups, cfg, as_of).await?;
    let drivers = DriverReader::new(rollups, cfg, &names, as_of);
    let forecasts = &standing.forecasts;
    let mut notifications =
        notify_forecasts(state, bus, cfg, &names, forecasts, &drivers, now).await?;
    let budgets = &standing.budgets;
    notifications.extend(notify_crossings(state, bus, &names, budgets, &drivers, now).await?);
    Ok(RunSummary {
        notifications,
        ..standing
    })
}

/// Where forecasts and budgets stand on `as_of`, publishing nothing: what a report shows.
pub async fn standing(
    rollups: &dyn RollupStore,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
) -> Result<RunSummary> {
    let forecasts = forecasts(rollups, cfg, as_of).await?;
    let budgets = evaluate_all(rollups, cfg, &forecasts, as_of).await?;
    Ok(RunSummary {
        as_of,
        notifications: Vec::new(),
        forecasts,
        budgets,
    })
}

/// Publishes the report envelope for the day (or the week ending on it) and returns the page
/// data for the HTML report.
pub async fn report_day(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    run: &RunSummary,
    period: ReportPeriod,
    now: DateTime<Utc>,
) -> Result<(Notification, ReportPage)> {
    let (envelope, page) = build_report(ports, cfg, run, period, now).await?;
    ports.bus.publish(&envelope).await?;
    Ok((envelope, page))
}

/// [`report_day`] without publishing: the report Lambda archives the page first and publishes
/// after, so an archive integration that reacts to the envelope finds the files in place.
pub async fn build_report(
    ports: &Ports<'_>,
    cfg: &PipelineConfig,
    run: &RunSummary,
    period: ReportPeriod,
    now: DateTime<Utc>,
) -> Result<(Notification, ReportPage)> {
    let names = account_names(ports.state).await?;
    // A month with every day in has its total in the month to date: neither the figures nor the
    // page show it as a forecast.
    let org_forecast = run.forecasts.get(&Scope::Org).filter(|f| !f.is_complete());
    // Read once: the page shows every key in full, the envelope a line per key.
    let allocation = crate::allocation::month_to_date(ports.rollups, run.as_of).await?;
    let mut figs = figures(
        ports.rollups,
        ports.state,
        &names,
        &run.budgets,
        org_forecast,
        period,
        run.as_of,
    )
    .await?;
    figs.allocation = crate::allocation::report_lines(&allocation);
    let mut envelope = envelopes::report(figs.clone(), now);
    if let Some(base) = &cfg.dashboard_url {
        envelope.links.push(costwatch_core::notification::Link {
            label: "Open the dashboard".to_owned(),
            url: format!("{}/reports/{}", base.trim_end_matches('/'), run.as_of),
        });
    }
    let page = build_page(
        ports.rollups,
        ports.state,
        cfg,
        &names,
        figs,
        org_forecast,
        allocation,
        run.as_of,
        now,
    )
    .await?;
    Ok((envelope, page))
}
