use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_core::CostRecord;

use crate::error::Result;
use crate::ports::{CostSource, Fetched};

/// Serves a fixed set of records (synthetic data, fixtures).
#[derive(Debug, Clone, Default)]
pub struct MemoryCostSource {
    records: Vec<CostRecord>,
}

impl MemoryCostSource {
    pub fn new(records: Vec<CostRecord>) -> Self {
        Self { records }
    }
}

#[async_trait]
impl CostSource for MemoryCostSource {
    async fn fetch(&self, start: NaiveDate, end: NaiveDate) -> Result<Fetched> {
        let records = self
            .records
            .iter()
            .filter(|r| (start..=end).contains(&r.day()))
            .cloned()
            .collect();
        Ok(Fetched {
            records,
            raw: Vec::new(),
            requests: 0,
        })
    }
}
