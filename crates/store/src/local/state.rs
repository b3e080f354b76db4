use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::clock::{Clock, SystemClock};
use crate::error::{Result, StoreError};
use crate::fsutil::{blocking, read_dir_optional, read_optional, write_atomic};
use crate::ports::{StateStore, Versioned};
use crate::state_rules::{StoredItem, next_version, validate_state_key};

/// State as one file per key, `<data dir>/state/<percent-encoded key>.json`, holding
/// `{value, version, expires_at}`.
///
/// Single-process only: a conditional write reads the version and writes the file under an
/// in-process lock, which another process does not see. Two processes sharing a data
/// directory can both win the same conditional write.
#[derive(Debug)]
pub struct LocalState {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// Serialises read-check-write of `put`; reads need no lock since files are replaced
    /// atomically.
    write_lock: Mutex<()>,
}

impl LocalState {
    /// The state inside data directory `data_dir`, judging expiry by the wall clock.
    pub fn open(data_dir: impl AsRef<Path>) -> Self {
        Self::with_clock(data_dir, Arc::new(SystemClock))
    }

    pub fn with_clock(data_dir: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Self {
        Self {
            dir: data_dir.as_ref().join("state"),
            clock,
            write_lock: Mutex::new(()),
        }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", encode(key)))
    }
}

/// Keeps ASCII letters, digits, `-` and `_`; everything else (including `/` and `.`) becomes
/// `%XX` per UTF-8 byte, so any key is one safe file name and decodes back exactly.
fn encode(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn decode(name: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

fn read_item(path: &Path) -> Result<Option<StoredItem>> {
    let Some(bytes) = read_optional(path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

#[async_trait]
impl StateStore for LocalState {
    async fn get(&self, key: &str) -> Result<Option<Versioned>> {
        validate_state_key(key)?;
        let path = self.path_of(key);
        let item = blocking(move || read_item(&path)).await?;
        Ok(item.and_then(|item| item.live(self.clock.now())))
    }

    async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64> {
        validate_state_key(key)?;
        let path = self.path_of(key);
        let _guard = self.write_lock.lock().await;
        let current = {
            let path = path.clone();
            blocking(move || read_item(&path)).await?
        };
        let version = next_version(key, current.as_ref(), expected, self.clock.now())?;
        let item = StoredItem {
            value,
            version,
            expires_at,
        };
        let bytes = serde_json::to_vec_pretty(&item).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        blocking(move || write_atomic(&path, &bytes)).await?;
        Ok(version)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>> {
        let (dir, prefix) = (self.dir.clone(), prefix.to_owned());
        let items = blocking(move || {
            let mut items = Vec::new();
            for entry in read_dir_optional(&dir)? {
                // Temporary files start with `.`, which `encode` never produces, so they fail
                // to decode here like any other stray file.
                let Some(key) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .filter(|n| !n.starts_with('.'))
                    .and_then(decode)
                else {
                    continue;
                };
                if key.starts_with(&prefix)
                    && let Some(item) = read_item(&entry.path())?
                {
                    items.push((key, item));
                }
            }
            Ok(items)
        })
        .await?;
        let now = self.clock.now();
        let mut live: Vec<(String, Versioned)> = items
            .into_iter()
            .filter_map(|(key, item)| item.live(now).map(|v| (key, v)))
            .collect();
        live.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_encode_to_flat_file_names_and_back() {
        for key in [
            "anomaly/org/2026-01-02",
            "a.b",
            "..",
            "dé|x=1 %",
            "plain_key-1",
        ] {
            let encoded = encode(key);
            assert!(!encoded.contains(['/', '.']), "{encoded}");
            assert_eq!(decode(&encoded).as_deref(), Some(key));
        }
        assert_eq!(encode("ledger/ntf_1"), "ledger%2Fntf_1");
        assert_eq!(decode("%4"), None);
    }
}
