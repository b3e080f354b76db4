//! Deterministic ids: the same cause always gives the same id, so re-running a day or
//! redelivering a message never creates a second alert.

use sha2::{Digest, Sha256};

/// `prefix` + 20 hex digits of SHA-256 over the parts (unit-separator joined, so ("a|b","c") and
/// ("a","b|c") differ).
pub fn stable_id(prefix: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0x1f]);
        }
        hasher.update(part.as_bytes());
    }
    let digest = hex::encode(hasher.finalize());
    format!("{prefix}_{}", &digest[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_cause_same_id_and_boundaries_matter() {
        assert_eq!(
            stable_id("an", &["org", "2026-01-02"]),
            stable_id("an", &["org", "2026-01-02"])
        );
        assert_ne!(
            stable_id("an", &["a|b", "c"]),
            stable_id("an", &["a", "b|c"])
        );
        assert!(stable_id("bu", &["x"]).starts_with("bu_"));
        assert_eq!(stable_id("bu", &["x"]).len(), 23);
    }
}
