use std::path::{Path, PathBuf};

use async_trait::async_trait;
use costwatch_core::Notification;

use crate::error::{Result, StoreError};
use crate::fsutil::{blocking, write_atomic};
use crate::ports::NotificationBus;

/// Publishes each envelope as pretty JSON to `<dir>/<kind>-<id>.json`. Envelope ids are
/// deterministic, so publishing the same envelope again overwrites its file: idempotent.
#[derive(Debug, Clone)]
pub struct LocalBus {
    dir: PathBuf,
}

impl LocalBus {
    /// Envelopes go straight into `dir` (e.g. `costwatch-out/notifications`), created on first
    /// publish.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where an envelope is (or would be) written.
    pub fn path_of(&self, notification: &Notification) -> Result<PathBuf> {
        // The id comes from the envelope; refuse anything that could leave the directory.
        let id = &notification.id;
        if id.is_empty() || id.starts_with('.') || id.contains(['/', '\\', '\0']) {
            return Err(StoreError::InvalidKey(
                id.clone(),
                "notification id is not a safe file name",
            ));
        }
        Ok(self.dir.join(format!("{}-{id}.json", notification.kind())))
    }
}

#[async_trait]
impl NotificationBus for LocalBus {
    async fn publish(&self, notification: &Notification) -> Result<()> {
        let path = self.path_of(notification)?;
        let bytes = serde_json::to_vec_pretty(notification).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        blocking(move || write_atomic(&path, &bytes)).await
    }
}
