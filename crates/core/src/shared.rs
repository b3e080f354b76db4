//! Where the real data and vendor specs live (`../shared` beside the project). Tests and
//! benchmarks find them through this one setting: `COSTWATCH_SHARED`, default `<repo>/../shared`.

use std::path::PathBuf;

/// The shared directory, or a panic that says exactly what is missing and how to point at it:
/// tests that need real data must fail loudly, never skip, when it is absent.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("COSTWATCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.join("data").is_dir(),
        "shared data not found at {} (set COSTWATCH_SHARED to the folder holding data/ and specs/)",
        dir.display()
    );
    dir
}

/// A path under the shared directory, e.g. `shared_path("data/cost/cur/Step1CUR.gz")`.
pub fn shared_path(relative: &str) -> PathBuf {
    shared_dir().join(relative)
}
