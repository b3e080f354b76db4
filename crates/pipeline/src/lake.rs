//! Lake layout: `raw/<source>/dt=YYYY-MM-DD/<file>` as received and
//! `curated/daily/dt=YYYY-MM-DD/records.jsonl` — one cost record (FOCUS names) per line.
//! JSON Lines for now: readable, appendable to Athena via the JSON SerDe, and free of a schema
//! migration while the record evolves; Parquet is the planned curated format on AWS.

use chrono::NaiveDate;
use costwatch_core::CostRecord;
use costwatch_store::{LakeReader, LakeWriter};

use crate::error::{PipelineError, Result};

pub fn curated_prefix(day: NaiveDate) -> String {
    format!("curated/daily/dt={day}/")
}

pub fn curated_key(day: NaiveDate) -> String {
    format!("{}records.jsonl", curated_prefix(day))
}

/// Replaces a day's partition with `records` (which must all be on `day`); an empty day
/// leaves no partition, so a re-run that finds nothing also forgets what was there.
pub async fn write_day(
    lake: &dyn LakeWriter,
    day: NaiveDate,
    records: &[&CostRecord],
) -> Result<()> {
    lake.delete_prefix(&curated_prefix(day)).await?;
    if records.is_empty() {
        return Ok(());
    }
    let mut body = Vec::with_capacity(records.len() * 400);
    for record in records {
        serde_json::to_writer(&mut body, record).map_err(|e| PipelineError::CorruptPartition {
            key: curated_key(day),
            line: 0,
            reason: e.to_string(),
        })?;
        body.push(b'\n');
    }
    lake.put(&curated_key(day), body).await?;
    Ok(())
}

/// A day's curated records (empty when the day has no partition).
pub async fn read_day(lake: &dyn LakeReader, day: NaiveDate) -> Result<Vec<CostRecord>> {
    let key = curated_key(day);
    let Some(body) = lake.get(&key).await? else {
        return Ok(Vec::new());
    };
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            serde_json::from_slice(line).map_err(|e| PipelineError::CorruptPartition {
                key: key.clone(),
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}
