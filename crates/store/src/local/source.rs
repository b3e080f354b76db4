use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::error::{Result, StoreError};
use crate::fsutil::{blocking, io_error};
use crate::ports::{CostSource, Fetched};

/// Cost files on disk (Cost Explorer JSON, CUR Parquet/CSV(.gz), FOCUS CSV), read with
/// `costwatch-ingest`. `path` is one file or a directory searched recursively; files are read
/// in sorted path order so results do not depend on the filesystem's listing order.
#[derive(Debug, Clone)]
pub struct LocalCostSource {
    path: PathBuf,
}

impl LocalCostSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

/// Every non-hidden file under `path` (or `path` itself), sorted. Hidden files are skipped:
/// editors' and the lake's temporary files are not cost data.
fn cost_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))? {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let entry_path = entry.path();
            // Follows symlinks, so a linked export directory is read like a real one.
            if std::fs::metadata(&entry_path)
                .map_err(|e| io_error(&entry_path, e))?
                .is_dir()
            {
                pending.push(entry_path);
            } else {
                files.push(entry_path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[async_trait]
impl CostSource for LocalCostSource {
    async fn fetch(&self, start: NaiveDate, end: NaiveDate) -> Result<Fetched> {
        let path = self.path.clone();
        let records = blocking(move || {
            let mut records = Vec::new();
            for file in cost_files(&path)? {
                // Ingest errors already name the file, row and column.
                let read = costwatch_ingest::read_path(&file)
                    .map_err(|e| StoreError::Source(e.to_string()))?;
                records.extend(
                    read.into_iter()
                        .filter(|r| (start..=end).contains(&r.day())),
                );
            }
            Ok(records)
        })
        .await?;
        Ok(Fetched {
            records,
            raw: Vec::new(),
            requests: 0,
        })
    }
}
