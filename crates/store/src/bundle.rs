//! One adapter per port, opened together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{Result, StoreError};
use crate::local::{LocalLake, LocalRollups, LocalSecrets, LocalState};
use crate::memory::{MemoryBus, MemoryLake, MemoryRollups, MemorySecrets, MemoryState};

/// The local adapters over one data directory. No bus: where notifications go is the caller's
/// choice (see [`crate::local::LocalBus`]).
#[derive(Debug)]
pub struct LocalStore {
    pub dir: PathBuf,
    pub lake: LocalLake,
    pub rollups: LocalRollups,
    pub state: LocalState,
    pub secrets: LocalSecrets,
}

impl LocalStore {
    /// Creates `dir` if needed (so a bad path fails here, not mid-run) and opens every adapter
    /// in it. Single-process: see [`crate::local`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            lake: LocalLake::open(dir),
            rollups: LocalRollups::open(dir),
            state: LocalState::open(dir),
            secrets: LocalSecrets::open(dir),
        })
    }
}

/// The in-memory adapters, empty.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub lake: MemoryLake,
    pub rollups: MemoryRollups,
    pub state: MemoryState,
    pub bus: MemoryBus,
    pub secrets: MemorySecrets,
}

impl MemoryStore {
    /// Empty, with the state's expiry judged on `clock`. Tests that run on fixed dates pass one
    /// at those dates: on the system clock their items would expire for real once it passed
    /// their time to live, and the tests would fail from that day on.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: MemoryState::with_clock(clock),
            ..Self::default()
        }
    }
}
