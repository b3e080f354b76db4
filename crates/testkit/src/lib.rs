//! What the integration tests of several crates share: a real moto server per test
//! ([`moto::Moto`]) and an HTTP endpoint that records what SNS delivers ([`http_sink::HttpSink`]).
//! A dev-dependency only; never linked into a Lambda.

pub mod aws_json_fake;
pub mod azurite;
pub mod ce_responses;
pub mod deployed;
pub mod fuzz;
pub mod http_sink;
pub mod moto;
pub mod moto_athena;
pub mod moto_ce;
#[cfg(feature = "cloudwatch")]
pub mod moto_cw;
pub mod real_cur;
/// The Lambda Runtime API emulator, shared with `costwatch invoke` (one emulator).
pub use costwatch_local::runtime_api;
pub mod stack;
pub mod template;

/// A file of the repository (e.g. `events/collect/scheduled.json`), read as text; panics with the
/// path when it is missing.
pub fn repo_file(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
