//! Random failures in front of any vendor, from a seed (every run fails the same way): a share
//! of requests is answered 429 (with `Retry-After`), 500, dropped or left hanging *before* the
//! vendor sees them — the failures a client may safely retry. The vendor behind sees only what
//! got through, so its log is what was delivered.

use std::collections::BTreeMap;
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

impl FaultCounts {
    /// Whether every kind of fault happened more than `n` times: a drill that never dropped a
    /// connection proves nothing about dropped connections.
    pub fn each_over(&self, n: u32) -> bool {
        [self.throttled, self.server_errors, self.dropped, self.hung]
            .iter()
            .all(|c| *c > n)
    }
}

/// The end check of a drill: every key in `expected` delivered once, nothing else delivered.
/// `delivered` holds one key per message the vendor kept (an envelope's id or title).
pub fn exactly_once(
    delivered: impl IntoIterator<Item = String>,
    expected: impl IntoIterator<Item = String>,
) -> Result<(), String> {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for key in delivered {
        *seen.entry(key).or_default() += 1;
    }
    let mut wrong = Vec::new();
    for key in expected {
        match seen.remove(&key) {
            Some(1) => {}
            n => wrong.push(format!("{key} delivered {} times", n.unwrap_or(0))),
        }
    }
    wrong.extend(
        seen.keys()
            .map(|k| format!("{k} was delivered but not expected")),
    );
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join(", "))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drill_fails_on_a_duplicate_a_loss_or_a_stranger() {
        let keys = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(exactly_once(keys(&["a", "b"]), keys(&["a", "b"])), Ok(()));
        let err = exactly_once(keys(&["a", "a", "c"]), keys(&["a", "b"])).unwrap_err();
        assert_eq!(
            err,
            "a delivered 2 times, b delivered 0 times, c was delivered but not expected"
        );
    }
}
