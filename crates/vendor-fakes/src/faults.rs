//! Random failures in front of any vendor, from a seed (every run fails the same way): a share
//! of requests is answered 429 (with `Retry-After`), 500, dropped or left hanging *before* the
//! vendor sees them — the failures a client may safely retry. The vendor behind sees only what
//! got through, so its log is what was delivered.

use std::sync::{Arc, Mutex, PoisonError};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::server::{Received, Reply, Vendor};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub throttled: u32,
    pub server_errors: u32,
    pub dropped: u32,
    pub hung: u32,
    pub passed: u32,
}

pub struct Faults {
    inner: Arc<dyn Vendor>,
    /// Probability that a request fails, split evenly over the four kinds.
    rate: f64,
    rng: Mutex<ChaCha8Rng>,
    counts: Mutex<FaultCounts>,
}

impl Faults {
    pub fn new(inner: Arc<dyn Vendor>, rate: f64, seed: u64) -> Self {
        Self {
            inner,
            rate,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            counts: Mutex::new(FaultCounts::default()),
        }
    }

    pub fn counts(&self) -> FaultCounts {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Vendor for Faults {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        let roll: f64 = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .random();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let share = self.rate / 4.0;
        if roll < share {
            counts.throttled += 1;
            Reply::json(
                429,
                serde_json::json!({"ok": false, "error": "ratelimited"}),
            )
            .with_header("retry-after", "0")
        } else if roll < 2.0 * share {
            counts.server_errors += 1;
            Reply::text(500, "internal error")
        } else if roll < 3.0 * share {
            counts.dropped += 1;
            Reply::Drop
        } else if roll < 4.0 * share {
            counts.hung += 1;
            Reply::Hang
        } else {
            counts.passed += 1;
            drop(counts);
            self.inner.handle(request, base)
        }
    }
}
