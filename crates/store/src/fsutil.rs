//! Blocking file helpers for the local adapters, run on tokio's blocking pool.

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, StoreError};

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Runs blocking file work off the async executor. A panic in the closure resurfaces here rather
/// than turning into an error, since it is a bug, not an I/O condition.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(StoreError::Io {
            path: String::from("<blocking task>"),
            source: std::io::Error::other(err),
        }),
    }
}

/// Temporary files start with `.`, which no valid key segment, state file or day file does, so
/// listings skip them without further bookkeeping.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.')
}

/// Writes `bytes` to `path` so readers see either the old file or the complete new one: write a
/// temporary sibling (same filesystem), flush it to disk, then rename over the target.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let parent = path
        .parent()
        .ok_or_else(|| io_error(path, std::io::Error::other("path has no parent directory")))?;
    std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp).map_err(|e| io_error(&temp, e))?;
        file.write_all(bytes).map_err(|e| io_error(&temp, e))?;
        file.sync_all().map_err(|e| io_error(&temp, e))?;
        std::fs::rename(&temp, path).map_err(|e| io_error(path, e))
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is hidden from listings anyway.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// The file's bytes, or `None` when there is no file at `path` (including when a path component
/// is a file, or the path is a directory: no object lives there either).
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Removes a file; an already absent file is fine.
pub(crate) fn remove_optional(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Directory entries, or none when the directory does not exist yet.
pub(crate) fn read_dir_optional(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| io_error(dir, e)),
        Err(e) if is_absent(&e) => Ok(Vec::new()),
        Err(e) => Err(io_error(dir, e)),
    }
}

fn is_absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory
    )
}
