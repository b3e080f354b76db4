//! aggregate: `CostDataCollected` → rollups for the collected days → `AggregatesUpdated`.

use costwatch_core::Scope;
use costwatch_core::money::to_f64;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::aggregate::aggregate;
use costwatch_store::{LakeReader, RollupStore, StateStore};
use serde::Serialize;

use crate::emf;
use crate::error::{HandlerError, Result};
use crate::events::{PipelineBus, PipelineEvent, from_sns};

pub struct AggregatePorts<'a> {
    pub lake: &'a dyn LakeReader,
    pub rollups: &'a dyn RollupStore,
    pub state: &'a dyn StateStore,
    pub events: &'a dyn PipelineBus,
}

#[derive(Debug, Serialize)]
pub struct AggregateSummary {
    pub days: usize,
    pub rows: usize,
    pub as_of: Option<chrono::NaiveDate>,
}

pub async fn handle(
    ports: &AggregatePorts<'_>,
    cfg: &PipelineConfig,
    event: serde_json::Value,
) -> Result<AggregateSummary> {
    let mut days = Vec::new();
    for e in from_sns(event)? {
        match e {
            PipelineEvent::CostDataCollected { days: d, .. } => days.extend(d),
            other => {
                return Err(HandlerError::Malformed(format!(
                    "aggregate takes CostDataCollected events, got {}",
                    other.name()
                )));
            }
        }
    }
    days.sort_unstable();
    days.dedup();
    if days.is_empty() {
        return Ok(AggregateSummary {
            days: 0,
            rows: 0,
            as_of: None,
        });
    }
    let done = aggregate(ports.lake, ports.rollups, ports.state, cfg, &days).await?;
    // Detection and forecasts look at the last day with data, whichever days were restated.
    let as_of = ports.rollups.day_range().await?.map(|(_, last)| last);
    if let Some(as_of) = as_of {
        let org = ports.rollups.series(&Scope::Org, as_of, as_of).await?;
        if let Some(cost) = org.get(as_of) {
            emf::daily_cost(&Scope::Org.key(), to_f64(cost.total()));
        }
        ports
            .events
            .publish(&PipelineEvent::AggregatesUpdated {
                days: days.clone(),
                as_of,
            })
            .await?;
    }
    Ok(AggregateSummary {
        days: done.days,
        rows: done.rows,
        as_of,
    })
}
