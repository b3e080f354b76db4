//! Collect: pull records for a day range from a cost source into the lake, one partition a day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_core::CostRecord;
use costwatch_store::{CostSource, LakeWriter};
use serde::Serialize;

use crate::error::Result;
use crate::lake::write_day;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Collected {
    pub days: Vec<NaiveDate>,
    pub records: usize,
    /// Billable API requests made (Cost Explorer: $0.01 each).
    pub requests: u32,
    /// Records are handed on so the caller need not read the lake back.
    #[serde(skip)]
    pub by_day: BTreeMap<NaiveDate, Vec<CostRecord>>,
}

/// Fetches `start..=end`, keeps raw responses under `raw/`, and replaces each day's curated
/// partition: re-running a range never duplicates it.
pub async fn collect(
    source: &dyn CostSource,
    lake: &dyn LakeWriter,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Collected> {
    let fetched = source.fetch(start, end).await?;
    for (name, body) in fetched.raw {
        lake.put(&format!("raw/{name}"), body).await?;
    }
    let total = fetched.records.len();
    let by_day = group_by_day(fetched.records);
    let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= end).collect();
    write_days(lake, &days, &by_day, &BTreeMap::new()).await?;
    Ok(Collected {
        days,
        records: total,
        requests: fetched.requests,
        by_day,
    })
}

pub fn group_by_day(records: Vec<CostRecord>) -> BTreeMap<NaiveDate, Vec<CostRecord>> {
    let mut by_day: BTreeMap<NaiveDate, Vec<CostRecord>> = BTreeMap::new();
    for record in records {
        by_day.entry(record.day()).or_default().push(record);
    }
    by_day
}

/// Replaces the curated partitions of each of `days` with its records and breakdown (a day
/// missing from the maps is written empty): the one write path of every collector.
pub async fn write_days(
    lake: &dyn LakeWriter,
    days: &[NaiveDate],
    records: &BTreeMap<NaiveDate, Vec<CostRecord>>,
    breakdown: &BTreeMap<NaiveDate, Vec<CostRecord>>,
) -> Result<()> {
    fn refs<'a>(
        map: &'a BTreeMap<NaiveDate, Vec<CostRecord>>,
        day: &NaiveDate,
    ) -> Vec<&'a CostRecord> {
        map.get(day).map(|v| v.iter().collect()).unwrap_or_default()
    }
    for day in days {
        write_day(lake, *day, &refs(records, day), &refs(breakdown, day)).await?;
    }
    Ok(())
}
