use std::sync::Mutex;

use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_core::{DailySeries, Scope};

use super::lock;
use crate::error::Result;
use crate::ports::{RollupRow, RollupStore};
use crate::rollup_index::RollupIndex;

#[derive(Debug, Default)]
pub struct MemoryRollups {
    index: Mutex<RollupIndex>,
}

impl MemoryRollups {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RollupStore for MemoryRollups {
    async fn replace_days(&self, days: &[NaiveDate], rows: &[RollupRow]) -> Result<()> {
        let plan = RollupIndex::plan(days, rows)?;
        let mut index = lock(&self.index);
        for (day, rows) in plan {
            index.set_day(day, rows);
        }
        Ok(())
    }

    async fn stored_series(
        &self,
        scope: &Scope,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<DailySeries> {
        Ok(lock(&self.index).series(scope, start, end))
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        Ok(lock(&self.index).scopes())
    }

    async fn day_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        Ok(lock(&self.index).day_range())
    }
}
