//! Aggregate: roll a set of days up into daily cost per scope.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use costwatch_core::series::rollup;
use costwatch_core::{CostRecord, ScopeKind};
use costwatch_store::{LakeReader, RollupRow, RollupStore, StateStore};
use serde::Serialize;

use crate::config::PipelineConfig;
use crate::error::Result;
use crate::lake::{read_breakdown, read_day};
use crate::meta::remember_account_names;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Aggregated {
    pub days: usize,
    pub rows: usize,
}

/// Reads the curated partitions of `days` (records and any breakdown) and replaces their rollups.
pub async fn aggregate(
    lake: &dyn LakeReader,
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    cfg: &PipelineConfig,
    days: &[NaiveDate],
) -> Result<Aggregated> {
    let mut records: Vec<CostRecord> = Vec::new();
    let mut breakdown: Vec<CostRecord> = Vec::new();
    for day in days {
        records.extend(read_day(lake, *day).await?);
        breakdown.extend(read_breakdown(lake, *day).await?);
    }
    aggregate_parts(rollups, state, cfg, days, &records, &breakdown).await
}

/// Same as [`aggregate`] for records already in hand (all on `days`), without breakdowns.
pub async fn aggregate_records(
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    cfg: &PipelineConfig,
    days: &[NaiveDate],
    records: &[CostRecord],
) -> Result<Aggregated> {
    aggregate_parts(rollups, state, cfg, days, records, &[]).await
}

async fn aggregate_parts(
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    cfg: &PipelineConfig,
    days: &[NaiveDate],
    records: &[CostRecord],
    breakdown: &[CostRecord],
) -> Result<Aggregated> {
    let rows = rollup_rows(cfg, records, breakdown);
    rollups.replace_days(days, &rows).await?;
    remember_account_names(state, records).await?;
    Ok(Aggregated {
        days: days.len(),
        rows: rows.len(),
    })
}

fn is_label(kind: &ScopeKind) -> bool {
    matches!(kind, ScopeKind::Tag | ScopeKind::CostCategory)
}

/// Daily rows per scope. On a day with a breakdown (Cost Explorer's tag and cost-category
/// requests), totals come only from `records` and tag / cost-category scopes only from the
/// breakdown, so no spend is counted twice; on other days (CUR, FOCUS) the records carry their
/// own tags and give every scope.
pub fn rollup_rows(
    cfg: &PipelineConfig,
    records: &[CostRecord],
    breakdown: &[CostRecord],
) -> Vec<RollupRow> {
    let metric = cfg.cost_metric;
    let scopes = if breakdown.is_empty() {
        rollup(records, metric, &cfg.rollup_scopes)
    } else {
        let (totals, labels): (Vec<ScopeKind>, Vec<ScopeKind>) =
            cfg.rollup_scopes.iter().partition(|k| !is_label(k));
        let broken_down: BTreeSet<NaiveDate> = breakdown.iter().map(CostRecord::day).collect();
        let (with, without): (Vec<CostRecord>, Vec<CostRecord>) = records
            .iter()
            .cloned()
            .partition(|r| broken_down.contains(&r.day()));
        // The three parts never share a (scope, day): `without` is on other days than the
        // rest, and on broken-down days `with` gives only totals and `breakdown` only labels.
        let mut scopes = rollup(&without, metric, &cfg.rollup_scopes);
        for part in [
            rollup(&with, metric, &totals),
            rollup(breakdown, metric, &labels),
        ] {
            for (scope, points) in part {
                scopes.entry(scope).or_default().extend(points);
            }
        }
        scopes
    };
    scopes
        .into_iter()
        .flat_map(|(scope, points)| {
            points.into_iter().map(move |(day, cost)| RollupRow {
                scope: scope.clone(),
                day,
                cost,
            })
        })
        .collect()
}
