//! Lake key rules, shared by every lake adapter so a key accepted in memory is also accepted on
//! disk (and, later, on S3): relative, `/`-separated, no empty, `.` or `..` segments.

use crate::error::{Result, StoreError};

/// Checks an object key such as `curated/daily/dt=2026-01-02/part-0.json`.
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(StoreError::InvalidKey(key.to_owned(), "empty key"));
    }
    check_segments(key, key)
}

/// Checks a listing prefix: `""` (everything), a folder ending in `/`, or a partial key such as
/// `curated/daily/dt=2026-01` (prefixes match on characters, like S3).
pub fn validate_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() {
        return Ok(());
    }
    let body = prefix.strip_suffix('/').unwrap_or(prefix);
    check_segments(prefix, body)
}

/// Checks a prefix to delete: as [`validate_prefix`], but an empty prefix would wipe the whole
/// lake, which no re-run needs, so it is refused.
pub fn validate_delete_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() {
        return Err(StoreError::InvalidKey(
            String::new(),
            "refusing to delete the whole lake",
        ));
    }
    validate_prefix(prefix)
}

fn check_segments(original: &str, path: &str) -> Result<()> {
    let invalid = |reason| Err(StoreError::InvalidKey(original.to_owned(), reason));
    if path.starts_with('/') || path.is_empty() {
        return invalid("absolute key");
    }
    if path.contains(['\\', '\0']) {
        return invalid("backslash or NUL in key");
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return invalid("empty segment");
        }
        if segment == ".." {
            return invalid("`..` segment");
        }
        // `.` and hidden names are refused so the local lake can keep its temporary files
        // (dot-prefixed) beside the real ones without listing them.
        if segment.starts_with('.') {
            return invalid("segment starts with `.`");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_partitioned_keys_and_prefixes() {
        assert!(validate_key("curated/daily/dt=2026-01-02/part-0.json").is_ok());
        assert!(validate_prefix("").is_ok());
        assert!(validate_prefix("curated/daily/dt=2026-01-02/").is_ok());
        assert!(validate_prefix("curated/daily/dt=2026-01").is_ok());
    }

    #[test]
    fn rejects_escapes_absolute_and_empty_segments() {
        for key in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "a/.tmp",
        ] {
            assert!(
                matches!(validate_key(key), Err(StoreError::InvalidKey(..))),
                "{key:?} should be rejected"
            );
        }
        for prefix in ["/", "/a", "a//", "../", "a/../"] {
            assert!(
                validate_prefix(prefix).is_err(),
                "{prefix:?} should be rejected"
            );
        }
    }
}
