use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_core::{DailyCost, DailySeries, Scope};
use tokio::sync::{OnceCell, RwLock};

use crate::error::{Result, StoreError};
use crate::fsutil::{blocking, read_dir_optional, read_optional, remove_optional, write_atomic};
use crate::ports::{RollupRow, RollupStore};
use crate::rollup_index::{DayRows, RollupIndex};

/// Rollups as one JSON file per day, `<data dir>/rollups/dt=YYYY-MM-DD.json`, mapping scope key
/// to [`DailyCost`]. Files are read once, on first use, into an index that serves every read;
/// writes go to the files first and then to the index, so the two never disagree.
#[derive(Debug)]
pub struct LocalRollups {
    dir: PathBuf,
    index: OnceCell<RwLock<RollupIndex>>,
}

impl LocalRollups {
    /// The rollups inside data directory `data_dir`; nothing is read until first use.
    pub fn open(data_dir: impl AsRef<Path>) -> Self {
        Self {
            dir: data_dir.as_ref().join("rollups"),
            index: OnceCell::new(),
        }
    }

    async fn index(&self) -> Result<&RwLock<RollupIndex>> {
        self.index
            .get_or_try_init(|| {
                let dir = self.dir.clone();
                async move { blocking(move || load(&dir)).await.map(RwLock::new) }
            })
            .await
    }
}

fn day_file(dir: &Path, day: NaiveDate) -> PathBuf {
    dir.join(format!("dt={}.json", day.format("%Y-%m-%d")))
}

/// The day a file name stands for; other names (temporary files, strays) are not day files.
fn day_of(file_name: &str) -> Option<NaiveDate> {
    let date = file_name.strip_prefix("dt=")?.strip_suffix(".json")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

fn load(dir: &Path) -> Result<RollupIndex> {
    let mut index = RollupIndex::default();
    for entry in read_dir_optional(dir)? {
        let Some(day) = entry.file_name().to_str().and_then(day_of) else {
            continue;
        };
        let path = entry.path();
        // A file removed between listing and reading just means an empty day.
        let Some(bytes) = read_optional(&path)? else {
            continue;
        };
        index.set_day(day, parse_day(&path, &bytes)?);
    }
    Ok(index)
}

fn parse_day(path: &Path, bytes: &[u8]) -> Result<DayRows> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.display().to_string(),
        reason,
    };
    let by_key: BTreeMap<String, DailyCost> =
        serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    by_key
        .into_iter()
        .map(|(key, cost)| {
            Ok((
                key.parse::<Scope>().map_err(|e| corrupt(e.to_string()))?,
                cost,
            ))
        })
        .collect()
}

fn write_day(dir: &Path, day: NaiveDate, rows: &DayRows) -> Result<()> {
    let path = day_file(dir, day);
    if rows.is_empty() {
        return remove_optional(&path);
    }
    let by_key: BTreeMap<String, &DailyCost> = rows.iter().map(|(s, c)| (s.key(), c)).collect();
    let bytes = serde_json::to_vec_pretty(&by_key).map_err(|e| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    write_atomic(&path, &bytes)
}

#[async_trait]
impl RollupStore for LocalRollups {
    async fn replace_days(&self, days: &[NaiveDate], rows: &[RollupRow]) -> Result<()> {
        let plan = RollupIndex::plan(days, rows)?;
        // The write lock is held across the file writes so no reader sees the index ahead of, or
        // behind, the files; each day reaches the index only once its file is written.
        let mut index = self.index().await?.write().await;
        for (day, rows) in plan {
            let dir = self.dir.clone();
            let rows = blocking(move || write_day(&dir, day, &rows).map(|()| rows)).await?;
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
        Ok(self.index().await?.read().await.series(scope, start, end))
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        Ok(self.index().await?.read().await.scopes())
    }

    async fn day_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        Ok(self.index().await?.read().await.day_range())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_files_round_trip_their_names() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        let path = day_file(Path::new("/x"), day);
        assert_eq!(path, Path::new("/x/dt=2026-01-02.json"));
        assert_eq!(day_of("dt=2026-01-02.json"), Some(day));
        assert_eq!(day_of(".dt=2026-01-02.json.1.0.tmp"), None);
        assert_eq!(day_of("dt=2026-13-02.json"), None);
    }

    #[test]
    fn a_corrupt_day_file_names_its_path() {
        let err = parse_day(Path::new("/x/dt=2026-01-02.json"), b"{\"nope\": 1}").unwrap_err();
        assert!(err.to_string().contains("dt=2026-01-02.json"), "{err}");
    }
}
