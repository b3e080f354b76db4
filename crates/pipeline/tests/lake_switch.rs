//! Replacing a curated day is write-new-then-switch: a reader looking at the lake between any
//! two of the writer's operations sees the day whole — the old records or the new — never an
//! empty or missing day (the old way cleared the partition first, then wrote).

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_core::{CostRecord, synth};
use costwatch_pipeline::lake::{read_day, write_day};
use costwatch_store::LakeWriter;
use costwatch_store::error::Result;
use costwatch_store::memory::MemoryLake;

/// A lake whose every write is surrounded by a reader's look at `day`.
struct Watched {
    lake: MemoryLake,
    day: NaiveDate,
    seen: Mutex<Vec<usize>>,
}

impl Watched {
    async fn look(&self) {
        let n = read_day(&self.lake, self.day).await.unwrap().len();
        self.seen.lock().unwrap().push(n);
    }
}

#[async_trait]
impl LakeWriter for Watched {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<()> {
        self.look().await;
        self.lake.put(key, body).await?;
        self.look().await;
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        self.look().await;
        self.lake.delete_prefix(prefix).await?;
        self.look().await;
        Ok(())
    }
}

#[tokio::test]
async fn a_reader_never_sees_a_replaced_day_missing() {
    let org = synth::generate(
        synth::DEFAULT_SEED,
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        30,
    );
    let day = org.end;
    let records: Vec<&CostRecord> = org.records.iter().filter(|r| r.day() == day).collect();
    assert!(records.len() > 10);
    let lake = Watched {
        lake: MemoryLake::default(),
        day,
        seen: Mutex::new(Vec::new()),
    };
    write_day(&lake, day, &records, &[]).await.unwrap();
    lake.seen.lock().unwrap().clear();

    // The day collected again, revised: fewer lines.
    let revised = &records[..records.len() - 3];
    write_day(&lake, day, revised, &[]).await.unwrap();
    let seen = lake.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|n| *n == records.len() || *n == revised.len()),
        "a reader saw the day with {seen:?} lines (whole: {} or {})",
        records.len(),
        revised.len()
    );
    assert_eq!(
        read_day(&lake.lake, day).await.unwrap().len(),
        revised.len()
    );

    // A re-run that finds nothing for the day forgets it.
    write_day(&lake, day, &[], &[]).await.unwrap();
    assert!(read_day(&lake.lake, day).await.unwrap().is_empty());
}
