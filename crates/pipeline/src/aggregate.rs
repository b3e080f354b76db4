//! Aggregate: roll a set of days up into daily cost per scope.

use chrono::NaiveDate;
use costwatch_core::CostRecord;
use costwatch_core::series::rollup;
use costwatch_store::{LakeReader, RollupRow, RollupStore, StateStore};
use serde::Serialize;

use crate::config::PipelineConfig;
use crate::error::Result;
use crate::lake::read_day;
use crate::meta::remember_account_names;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Aggregated {
    pub days: usize,
    pub rows: usize,
}

/// Reads the curated partitions of `days` and replaces their rollups.
pub async fn aggregate(
    lake: &dyn LakeReader,
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    cfg: &PipelineConfig,
    days: &[NaiveDate],
) -> Result<Aggregated> {
    let mut records: Vec<CostRecord> = Vec::new();
    for day in days {
        records.extend(read_day(lake, *day).await?);
    }
    aggregate_records(rollups, state, cfg, days, &records).await
}

/// Same as [`aggregate`] for records already in hand (all on `days`).
pub async fn aggregate_records(
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    cfg: &PipelineConfig,
    days: &[NaiveDate],
    records: &[CostRecord],
) -> Result<Aggregated> {
    let rows: Vec<RollupRow> = rollup(records, cfg.cost_metric, &cfg.rollup_scopes)
        .into_iter()
        .flat_map(|(scope, points)| {
            points.into_iter().map(move |(day, cost)| RollupRow {
                scope: scope.clone(),
                day,
                cost,
            })
        })
        .collect();
    rollups.replace_days(days, &rows).await?;
    remember_account_names(state, records).await?;
    Ok(Aggregated {
        days: days.len(),
        rows: rows.len(),
    })
}
