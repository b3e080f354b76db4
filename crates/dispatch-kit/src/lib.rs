//! One conformance suite for every costwatch integration (a dev-dependency only; never linked
//! into a Lambda). An integration describes itself in a [`Conformance`] and gets the same checks
//! as every other:
//!
//! 1. every sample envelope, its variants, a hostile copy of each for every
//!    [`HOSTILE`](costwatch_dispatch::escape::HOSTILE) value and digests of them render; each
//!    request is within the vendor's size limit and passes the vendor's own check (`validate`);
//! 2. no credential appears in `render` output, in the dispatcher's logs, in dead-letter reasons
//!    or in the ledger, when the vendor refuses (401, 404) or cannot be reached;
//! 3. a fault drill on a simulated SQS queue ([`sim`]) — 300 envelopes (`make bench-reliability`:
//!    10,000) through 429 + `Retry-After`, 500, hangs, dropped connections, permanent refusals,
//!    SQS's second deliveries and invocations dying mid-batch, ten at once: each accepted exactly
//!    once, the dead-letter queue holding exactly the refused ones — and a crash mid-batch at a
//!    chosen request (exactly once, except the one window no ledger can close — see
//!    [`delivery::crash_mid_batch`]);
//! 4. an alert storm (envelope integrations): the same number of anomalies in one minute reach
//!    the destination as at most five messages a minute, each delivered once ([`drill::storm_drill`]).
//!
//! A new integration adds `costwatch-dispatch-kit.workspace = true` to its `[dev-dependencies]`
//! and a `tests/conformance.rs`:
//!
//! ```ignore
//! use costwatch_dispatch_kit::{Conformance, conformance_tests};
//!
//! fn suite() -> Conformance {
//!     Conformance {
//!         entry: costwatch_dispatch::entry::<MyVendor>(),
//!         config: json!({"destinations": {"ops": {"webhook_url": "https://api.vendor.example/hooks/s3cr3t"}}}),
//!         destination: "ops",
//!         secrets: &["s3cr3t"],
//!         max_body_bytes: 64 * 1024,
//!         validate,                   // fn(&VendorRequest) -> Result<(), String>: the vendor's schema
//!         fake: || Arc::new(MyVendorFake::new()), // accepts the config's credentials
//!     }
//! }
//!
//! conformance_tests!(suite);
//! ```
//!
//! An archive (an integration whose [`objects`](costwatch_dispatch::Integration::objects) it copies
//! from the lake, Azure Blob) runs the same checks with `conformance_tests!(archive: suite)`: see
//! [`Sends::Archive`].
//!
//! The macro expands to `#[test]` functions in a module `conformance` (filter them with
//! `cargo nextest run -E 'test(/conformance/)'`); `conformance_tests!(bot => bot_suite, webhook
//! => webhook_suite)` runs the suite once per config. [`schema`] helps a `validate` check JSON
//! Schema documents from `specs/`.

pub mod delivery;
pub mod drill;
pub mod envelopes;
pub mod render;
pub mod runtime_loop;
pub mod sample_event;
pub mod schema;
pub mod sim;
pub mod vendors;

use std::future::Future;
use std::sync::Arc;

use costwatch_dispatch::{Configured, Entry, VendorRequest};
use costwatch_vendor_fakes::server::Vendor;
use serde_json::Value;

pub use vendors::CrashPoint;

/// What the suite sends an integration, and how it counts what the vendor kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sends {
    /// Every envelope kind is a message for the vendor, one request each: the drills send
    /// numbered anomalies and count the envelope ids in what the vendor accepted.
    Envelopes,
    /// An archive: only envelopes that name lake objects (reports) send anything, and every other
    /// kind must render no request. The suite's dispatcher reads a lake holding each named object
    /// (its text: the envelope id and the key, see [`envelopes::object_text`]); the drills send
    /// numbered reports (each its own day, so its own object names) and count the objects the
    /// vendor wrote. The vendor writes a name once (Azure's `If-None-Match: *`), so even a crash
    /// after it accepted a write repeats nothing.
    Archive,
}

/// What an integration tells the suite about itself.
pub struct Conformance {
    /// `costwatch_dispatch::entry::<TheIntegration>()`.
    pub entry: Box<dyn Entry>,
    /// The integration's config table with one destination and inline credentials in the
    /// vendor's own format, pointing at the vendor's real hosts (the suite sends to its fakes
    /// through the dispatcher's endpoint override).
    pub config: Value,
    /// That destination's name.
    pub destination: &'static str,
    /// Substrings of the credentials that must never be printed or logged. Each must be part of
    /// the requests' URL or headers (the suite checks, so the check means something).
    pub secrets: &'static [&'static str],
    /// The largest request body the vendor takes, in bytes.
    pub max_body_bytes: usize,
    /// The vendor's own check of one request (its official schema or OpenAPI document, or its
    /// documented limits): `Err` says what is wrong.
    pub validate: fn(&VendorRequest) -> Result<(), String>,
    /// A fresh fake of the vendor that accepts the config's credentials.
    pub fake: fn() -> Arc<dyn Vendor>,
}

impl Conformance {
    /// The config loaded and validated as the dispatcher loads it.
    pub fn configured(&self) -> Box<dyn Configured> {
        self.entry
            .load(self.config.clone())
            .unwrap_or_else(|e| panic!("the suite's config does not load: {e}"))
    }
}

/// Runs `future` on a multi-threaded runtime, as the Lambda's (the generated tests use it, so an
/// integration needs no tokio attributes).
pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// The conformance tests of one integration, in a module `conformance`: `conformance_tests!(suite)`
/// with `fn suite() -> Conformance`, or `conformance_tests!(mode => suite_fn, …)` for one
/// submodule per config.
#[macro_export]
macro_rules! conformance_tests {
    (archive: $suite:path) => {
        mod conformance {
            use super::*;
            $crate::__conformance_test_fns!($suite, $crate::Sends::Archive);
        }
    };
    ($($mode:ident => $suite:path),+ $(,)?) => {
        mod conformance {
            $(
                mod $mode {
                    use super::super::*;
                    $crate::__conformance_test_fns!($suite);
                }
            )+
        }
    };
    ($suite:path) => {
        mod conformance {
            use super::*;
            $crate::__conformance_test_fns!($suite);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ($suite:path) => {
        $crate::__conformance_test_fns!($suite, $crate::Sends::Envelopes);

        #[test]
        fn alert_storm_reaches_the_destination_as_a_bounded_number_of_digests() {
            $crate::run($crate::drill::storm_drill(&$suite()));
        }
    };
    ($suite:path, $sends:expr) => {
        #[test]
        fn every_sample_and_hostile_copy_renders_valid_within_the_size_limit() {
            $crate::render::renders_valid_within_limits_of($sends, &$suite());
        }

        #[test]
        fn render_output_prints_no_secret() {
            $crate::render::prints_no_secret_of($sends, &$suite());
        }

        #[test]
        fn validate_rejects_an_empty_message() {
            $crate::render::validate_rejects_an_empty_message_of($sends, &$suite());
        }

        #[test]
        fn refusals_and_an_unreachable_vendor_dead_letter_without_secrets() {
            $crate::run($crate::delivery::refusals_keep_secrets_of(
                $sends,
                &$suite(),
            ));
        }

        #[test]
        fn fault_drill_accepts_every_envelope_exactly_once() {
            $crate::run($crate::delivery::fault_drill_of($sends, &$suite()));
        }

        #[test]
        fn crash_before_the_vendor_saw_a_request_repeats_nothing() {
            $crate::run($crate::delivery::crash_mid_batch_of(
                $sends,
                &$suite(),
                $crate::CrashPoint::BeforeVendor,
            ));
        }

        #[test]
        fn crash_after_the_vendor_accepted_repeats_that_one_message_after_the_lease() {
            $crate::run($crate::delivery::crash_mid_batch_of(
                $sends,
                &$suite(),
                $crate::CrashPoint::AfterVendor,
            ));
        }
    };
}
