//! forecast: `AggregatesUpdated` → month-end forecasts and budget crossings → envelopes on the
//! notifications topic, the figures as EMF metrics, then `ForecastsUpdated` on the pipeline
//! topic (the daily report waits for it).

use chrono::{DateTime, Utc};
use costwatch_core::money::to_f64;
use costwatch_pipeline::{PipelineConfig, forecast_day};
use costwatch_store::{NotificationBus, RollupStore, StateStore};
use serde::Serialize;

use super::aggregates_updated;
use crate::emf;
use crate::error::Result;
use crate::events::{PipelineBus, PipelineEvent};

pub struct ForecastPorts<'a> {
    pub rollups: &'a dyn RollupStore,
    pub state: &'a dyn StateStore,
    pub bus: &'a dyn NotificationBus,
    /// Where `ForecastsUpdated` goes (the pipeline topic).
    pub events: &'a dyn PipelineBus,
}

#[derive(Debug, Serialize)]
pub struct ForecastSummary {
    pub as_of: chrono::NaiveDate,
    pub forecasts: usize,
    pub budgets: usize,
    pub published: Vec<String>,
}

pub async fn handle(
    ports: &ForecastPorts<'_>,
    cfg: &PipelineConfig,
    event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<ForecastSummary> {
    let as_of = aggregates_updated(event, "forecast")?;
    let run = forecast_day(ports.rollups, ports.state, ports.bus, cfg, as_of, now).await?;
    for (scope, f) in &run.forecasts {
        if scope.kind() == costwatch_core::scope::ScopeKind::Org {
            emf::month_end_forecast(
                &scope.key(),
                to_f64(f.total),
                to_f64(f.lo80),
                to_f64(f.hi80),
            );
        }
    }
    for status in &run.budgets {
        let line = &status.line;
        // An auto-adjusting budget without an amount yet has no percent to report.
        if !status.amount_pending() {
            let forecast_percent = to_f64(line.forecast / line.limit) * 100.0;
            emf::budget_used(&line.budget, line.percent_used, forecast_percent);
        }
        if let Some(note) = &status.note {
            // A budget watching a scope with no costs, or not forecast yet: the CLI prints this
            // beside the budget.
            tracing::warn!(budget = %line.budget, "{note}");
        }
    }
    ports
        .events
        .publish(&PipelineEvent::ForecastsUpdated { as_of })
        .await?;
    Ok(ForecastSummary {
        as_of,
        forecasts: run.forecasts.len(),
        budgets: run.budgets.len(),
        published: run.notifications.into_iter().map(|n| n.id).collect(),
    })
}
