//! The in-memory shape both rollup adapters serve reads from: day → scope → cost. Keyed by day
//! first because writes replace whole days.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_core::{DailyCost, DailySeries, Scope};

use crate::error::{Result, StoreError};
use crate::ports::RollupRow;

/// Everything one day holds; an empty map means the day has no rows (and no file).
pub(crate) type DayRows = BTreeMap<Scope, DailyCost>;

#[derive(Debug, Default)]
pub(crate) struct RollupIndex {
    by_day: BTreeMap<NaiveDate, DayRows>,
}

impl RollupIndex {
    /// The new content of each of `days`. A row on a day not being replaced is refused: storing
    /// it would either merge into a day the caller did not mean to touch or wipe that day's
    /// other scopes. Two rows for the same scope and day: the later one wins.
    pub(crate) fn plan(
        days: &[NaiveDate],
        rows: &[RollupRow],
    ) -> Result<BTreeMap<NaiveDate, DayRows>> {
        let mut plan: BTreeMap<NaiveDate, DayRows> =
            days.iter().map(|d| (*d, DayRows::new())).collect();
        for row in rows {
            let day = plan.get_mut(&row.day).ok_or_else(|| {
                StoreError::InvalidKey(
                    format!("{}@{}", row.scope.key(), row.day),
                    "rollup row on a day not listed in `days`",
                )
            })?;
            day.insert(row.scope.clone(), row.cost);
        }
        Ok(plan)
    }

    pub(crate) fn set_day(&mut self, day: NaiveDate, rows: DayRows) {
        if rows.is_empty() {
            self.by_day.remove(&day);
        } else {
            self.by_day.insert(day, rows);
        }
    }

    pub(crate) fn series(&self, scope: &Scope, start: NaiveDate, end: NaiveDate) -> DailySeries {
        // BTreeMap::range panics on an inverted range; an inverted request is simply empty.
        let points = if start <= end {
            self.by_day
                .range(start..=end)
                .filter_map(|(day, rows)| rows.get(scope).map(|cost| (*day, *cost)))
                .collect()
        } else {
            BTreeMap::new()
        };
        DailySeries::from_points(scope.clone(), start, end, &points)
    }

    pub(crate) fn scopes(&self) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = self
            .by_day
            .values()
            .flat_map(|rows| rows.keys().cloned())
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    pub(crate) fn day_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.by_day.keys().next()?;
        let last = self.by_day.keys().next_back()?;
        Some((*first, *last))
    }
}
