//! Lake layout:
//! - `raw/<source>/dt=YYYY-MM-DD/<file>`: responses as received (Cost Explorer: `raw/ce/…`).
//! - `curated/daily/dt=YYYY-MM-DD/records.jsonl`: one cost record (FOCUS names) per line; every
//!   total (organisation, account, service) comes from these.
//! - `curated/breakdown/dt=YYYY-MM-DD/records.jsonl`: Cost Explorer's tag and cost-category
//!   breakdowns of the same spend. A table of its own, not a second file in `curated/daily/`:
//!   a query over `curated/daily/` (Athena reads every file under a partition) must never add a
//!   breakdown to the account × service lines it repeats.
//!
//! JSON Lines: line-oriented (a bad line is named by number), appendable, greppable, read by
//! Athena with the JSON SerDe, and free of a schema migration while the record evolves. Parquet is
//! the choice once volumes need it (columnar scans, compression).

use chrono::NaiveDate;
use costwatch_core::CostRecord;
use costwatch_store::{LakeReader, LakeWriter};

use crate::error::{PipelineError, Result};

// One definition of the curated layout, shared with the archives that copy it.
pub use costwatch_core::archive::{curated_key, curated_prefix};

pub fn breakdown_prefix(day: NaiveDate) -> String {
    format!("curated/breakdown/dt={day}/")
}

pub fn breakdown_key(day: NaiveDate) -> String {
    format!("{}records.jsonl", breakdown_prefix(day))
}

/// Where a source's raw responses for `day` live.
pub fn raw_prefix(source: &str, day: NaiveDate) -> String {
    format!("raw/{source}/dt={day}/")
}

/// Replaces a day's partitions with `records` and `breakdown` (all on `day`), write-new-then-
/// switch: each table's one object is overwritten in place — an S3 PUT (and the local lake's
/// write-then-rename) replaces it whole, so a reader running meanwhile sees the old day or the
/// new one, never a day gone or half written. Only a table with nothing left is cleared, so a
/// day re-imported from a file loses a breakdown it no longer has, and a re-run that finds
/// nothing also forgets what was there.
pub async fn write_day(
    lake: &dyn LakeWriter,
    day: NaiveDate,
    records: &[&CostRecord],
    breakdown: &[&CostRecord],
) -> Result<()> {
    let tables = [
        (curated_prefix(day), curated_key(day), records),
        (breakdown_prefix(day), breakdown_key(day), breakdown),
    ];
    for (prefix, key, lines) in tables {
        match lines.is_empty() {
            true => lake.delete_prefix(&prefix).await?,
            false => lake.put(&key, json_lines(&key, lines)?).await?,
        }
    }
    Ok(())
}

fn json_lines(key: &str, records: &[&CostRecord]) -> Result<Vec<u8>> {
    let mut body = Vec::with_capacity(records.len() * 400);
    for record in records {
        serde_json::to_writer(&mut body, record).map_err(|e| PipelineError::CorruptPartition {
            key: key.to_owned(),
            line: 0,
            reason: e.to_string(),
        })?;
        body.push(b'\n');
    }
    Ok(body)
}

/// A day's curated records (empty when the day has no partition).
pub async fn read_day(lake: &dyn LakeReader, day: NaiveDate) -> Result<Vec<CostRecord>> {
    read_lines(lake, &curated_key(day)).await
}

/// A day's tag and cost-category breakdown (empty when the source had none).
pub async fn read_breakdown(lake: &dyn LakeReader, day: NaiveDate) -> Result<Vec<CostRecord>> {
    read_lines(lake, &breakdown_key(day)).await
}

async fn read_lines(lake: &dyn LakeReader, key: &str) -> Result<Vec<CostRecord>> {
    let Some(body) = lake.get(key).await? else {
        return Ok(Vec::new());
    };
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            serde_json::from_slice(line).map_err(|e| PipelineError::CorruptPartition {
                key: key.to_owned(),
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}
