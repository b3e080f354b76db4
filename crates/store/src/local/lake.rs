use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::error::Result;
use crate::fsutil::{
    blocking, io_error, is_temp_name, read_dir_optional, read_optional, remove_optional,
    write_atomic,
};
use crate::key::{validate_delete_prefix, validate_key, validate_prefix};
use crate::ports::{LakeReader, LakeWriter};

/// The lake as files: key `a/b/c` is `<data dir>/lake/a/b/c`. Unlike S3, a key cannot also be a
/// "folder" of other keys (`a` and `a/b` cannot both exist); the pipeline's layout never does.
#[derive(Debug, Clone)]
pub struct LocalLake {
    root: PathBuf,
}

impl LocalLake {
    /// The lake inside data directory `data_dir`.
    pub fn open(data_dir: impl AsRef<Path>) -> Self {
        Self {
            root: data_dir.as_ref().join("lake"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> PathBuf {
        key_path(&self.root, key)
    }
}

#[async_trait]
impl LakeWriter for LocalLake {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<()> {
        validate_key(key)?;
        let path = self.path_of(key);
        blocking(move || write_atomic(&path, &body)).await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        validate_delete_prefix(prefix)?;
        let (root, prefix) = (self.root.clone(), prefix.to_owned());
        blocking(move || {
            for key in list_keys(&root, &prefix)? {
                remove_optional(&key_path(&root, &key))?;
            }
            prune_empty_dirs(&root, &prefix);
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl LakeReader for LocalLake {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        validate_key(key)?;
        let path = self.path_of(key);
        blocking(move || read_optional(&path)).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        validate_prefix(prefix)?;
        let (root, prefix) = (self.root.clone(), prefix.to_owned());
        blocking(move || list_keys(&root, &prefix)).await
    }
}

/// Keys starting with `prefix`, sorted. Walks only the deepest directory the prefix names in
/// full, so listing one partition does not read the whole lake.
fn list_keys(root: &Path, prefix: &str) -> Result<Vec<String>> {
    let base = match prefix.rfind('/') {
        Some(i) => &prefix[..i],
        None => "",
    };
    let mut keys = Vec::new();
    let mut pending = vec![base.to_owned()];
    while let Some(dir_key) = pending.pop() {
        let dir = key_path(root, &dir_key);
        for entry in read_dir_optional(&dir)? {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue; // not a key this lake could have written
            };
            if is_temp_name(&name) {
                continue;
            }
            let key = if dir_key.is_empty() {
                name
            } else {
                format!("{dir_key}/{name}")
            };
            let file_type = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
            if file_type.is_dir() {
                // Descend only where the prefix can still match.
                if key.starts_with(prefix) || prefix.starts_with(&format!("{key}/")) {
                    pending.push(key);
                }
            } else if key.starts_with(prefix) {
                keys.push(key);
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// Removes directories under `prefix` left empty by the delete, so a deleted partition leaves no
/// trace. Best effort: `remove_dir` fails harmlessly on a directory that is not empty.
fn prune_empty_dirs(root: &Path, prefix: &str) {
    fn prune(root: &Path, dir_key: &str, prefix: &str) {
        let Ok(entries) = std::fs::read_dir(key_path(root, dir_key)) else {
            return;
        };
        for entry in entries.flatten() {
            let (Some(name), true) = (
                entry.file_name().to_str().map(str::to_owned),
                entry.file_type().is_ok_and(|t| t.is_dir()),
            ) else {
                continue;
            };
            let key = if dir_key.is_empty() {
                name
            } else {
                format!("{dir_key}/{name}")
            };
            let folder = format!("{key}/");
            if folder.starts_with(prefix) || prefix.starts_with(&folder) {
                prune(root, &key, prefix);
                if folder.starts_with(prefix) {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
    }
    prune(root, "", prefix);
}

/// The file path of a key (or of a folder key such as `curated/daily`; `""` is the root).
fn key_path(root: &Path, key: &str) -> PathBuf {
    key.split('/')
        .filter(|s| !s.is_empty())
        .fold(root.to_path_buf(), |p, s| p.join(s))
}
