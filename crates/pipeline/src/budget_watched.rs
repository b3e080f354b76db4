//! The first day each daily budget was checked as defined now, kept in one state item
//! ([`DAILY_WATCHED`]): a daily budget re-checks the days Cost Explorer may still revise, but
//! only those it was checked on, so one added or changed (its scope, amount or thresholds) does
//! not alert on the days before it began.
//!
//! One item for every definition, pruned of those no longer configured, where it used to be
//! one item per definition, never removed: a budget changed every week left a marker a week.
//! A definition the item does not hold yet is looked up once under its old key, so an upgrade
//! keeps the days each budget was already checked on.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use costwatch_analytics::budget::Budget;
use costwatch_store::{StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::budgets::{BudgetStatus, read_all};
use crate::error::Result;
use crate::watched::first_judged;

/// State key of the first day each daily budget definition was checked.
pub const DAILY_WATCHED: &str = "budget-watched";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Watched {
    /// Definition ([`watch_id`]) → the first day it was checked.
    since: BTreeMap<String, NaiveDate>,
}

/// The definition's id: its name, scope, amount and thresholds, so a budget changed is a new
/// one, whose days before were never checked against what it says now.
pub(crate) fn watch_id(budget: &Budget) -> String {
    let definition = serde_json::to_string(budget).unwrap_or_default();
    costwatch_core::ids::stable_id("bw", &[&definition])
}

/// Where a definition's first day was kept before [`DAILY_WATCHED`], one item each.
fn legacy_key(id: &str) -> String {
    format!("{DAILY_WATCHED}/{id}")
}

/// The first day each daily budget checks, by its index in `statuses`: the first day it was
/// checked as defined now, or this run's day (its `period_so_far`'s first). Records this
/// run's day for a definition that has none or a later one (a run for an earlier day, a
/// backfill, checked that day too) and forgets the definitions no longer configured; no daily
/// budget, no read.
pub(crate) async fn watched_since(
    state: &dyn StateStore,
    statuses: &[BudgetStatus],
) -> Result<BTreeMap<usize, NaiveDate>> {
    let daily: Vec<(usize, &String, NaiveDate)> = statuses
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((i, s.watch_id.as_ref()?, s.period_so_far.start)))
        .collect();
    first_days(state, daily).await
}

/// [`watched_since`] for (index, definition, day evaluated).
async fn first_days(
    state: &dyn StateStore,
    daily: Vec<(usize, &String, NaiveDate)>,
) -> Result<BTreeMap<usize, NaiveDate>> {
    if daily.is_empty() {
        return Ok(BTreeMap::new());
    }
    let stored = state.get(DAILY_WATCHED).await?;
    let mut record: Watched = stored
        .as_ref()
        .and_then(|v| serde_json::from_value(v.value.clone()).ok())
        .unwrap_or_default();
    let mut changed = false;
    let configured: BTreeSet<&String> = daily.iter().map(|(_, id, _)| *id).collect();
    let before = record.since.len();
    record.since.retain(|id, _| configured.contains(id));
    changed |= record.since.len() != before;

    let unknown: Vec<&String> = configured
        .iter()
        .copied()
        .filter(|id| !record.since.contains_key(*id))
        .collect();
    let legacy_keys: Vec<String> = unknown.iter().map(|id| legacy_key(id)).collect();
    for (id, legacy) in unknown
        .into_iter()
        .zip(read_all(state, &legacy_keys).await?)
    {
        if let Some(first) = first_judged(legacy.as_ref()) {
            record.since.insert(id.clone(), first);
            changed = true;
        }
    }

    let mut since = BTreeMap::new();
    for (i, id, day) in daily {
        let first = record.since.get(id).copied().filter(|first| *first <= day);
        if first.is_none() {
            record.since.insert(id.clone(), day);
            changed = true;
        }
        since.insert(i, first.unwrap_or(day));
    }
    if changed {
        let value = serde_json::to_value(&record).unwrap_or_default();
        match state
            .put(DAILY_WATCHED, value, stored.map(|v| v.version), None)
            .await
        {
            // A concurrent run recorded its days first: a definition it did not hold is
            // recorded by the next run, with that run's day (it checks fewer days, never more).
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_store::memory::MemoryState;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    async fn first(state: &MemoryState, budgets: &[(&String, NaiveDate)]) -> Vec<NaiveDate> {
        let daily = budgets
            .iter()
            .enumerate()
            .map(|(i, (id, d))| (i, *id, *d))
            .collect();
        first_days(state, daily)
            .await
            .unwrap()
            .into_values()
            .collect()
    }

    async fn held(state: &MemoryState) -> BTreeMap<String, NaiveDate> {
        let stored = state.get(DAILY_WATCHED).await.unwrap().unwrap();
        serde_json::from_value::<Watched>(stored.value)
            .unwrap()
            .since
    }

    #[tokio::test]
    async fn each_definition_keeps_its_first_day_and_one_no_longer_configured_is_forgotten() {
        let state = MemoryState::default();
        let (a, b) = ("bw-a".to_owned(), "bw-b".to_owned());
        assert_eq!(first(&state, &[(&a, day(10))]).await, [day(10)]);
        assert_eq!(
            first(&state, &[(&a, day(11)), (&b, day(11))]).await,
            [day(10), day(11)]
        );
        // A backfill for an earlier day checked that day too.
        assert_eq!(first(&state, &[(&a, day(8))]).await, [day(8)]);
        assert_eq!(held(&state).await, BTreeMap::from([(a.clone(), day(8))]));
        // `b` was changed (a new definition) or removed: its day is gone; back, it starts again.
        assert_eq!(first(&state, &[(&b, day(12))]).await, [day(12)]);
        assert_eq!(held(&state).await, BTreeMap::from([(b, day(12))]));
        assert!(first(&state, &[]).await.is_empty());
    }

    #[tokio::test]
    async fn a_definition_kept_under_its_old_key_keeps_its_first_day() {
        let state = MemoryState::default();
        let a = "bw-a".to_owned();
        crate::watched::remember(&state, &legacy_key(&a), None, day(2))
            .await
            .unwrap();
        assert_eq!(first(&state, &[(&a, day(5))]).await, [day(2)]);
        assert_eq!(held(&state).await, BTreeMap::from([(a, day(2))]));
    }
}
