//! In-memory adapters: tests and the `demo` command. Everything is lost when dropped.

mod bus;
mod lake;
mod metrics;
mod recommendations;
mod rollups;
mod secrets;
mod source;
mod state;

pub use bus::MemoryBus;
pub use lake::MemoryLake;
pub use metrics::MemoryMetricSource;
pub use recommendations::MemoryRecommendations;
pub use rollups::MemoryRollups;
pub use secrets::MemorySecrets;
pub use source::MemoryCostSource;
pub use state::MemoryState;

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks ignoring poisoning: every critical section below leaves the data consistent before it
/// can panic, so a panic elsewhere is no reason to fail every later call.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
