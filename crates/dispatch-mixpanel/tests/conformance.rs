//! The shared conformance suite (costwatch-dispatch-kit) on Mixpanel: every sample, variant,
//! hostile copy and digest renders `/import` requests that Mixpanel's OpenAPI document accepts
//! (body schema, `strict` and `project_id`) within 10 MB; the service account's credentials
//! never reach `render` output, dead letters, the ledger or the logs; a fault drill imports
//! every envelope's event exactly once; a crash mid-batch repeats at most the one message no
//! ledger can cover (and Mixpanel's `$insert_id` then merges it, see tests/delivery.rs).

mod support;

use std::sync::Arc;

use costwatch_dispatch::entry;
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_dispatch_mixpanel::Mixpanel;
use costwatch_dispatch_mixpanel::encoder::MAX_BATCH_BYTES;
use costwatch_vendor_fakes::mixpanel::{
    BASIC, MixpanelImport, PROJECT_ID, SECRET, SERVICE_ACCOUNT,
};
use serde_json::json;

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Mixpanel>(),
        config: json!({"destinations": {"product": {
            "project_id": PROJECT_ID,
            "service_account": SERVICE_ACCOUNT,
            "secret": SECRET,
        }}}),
        destination: "product",
        // The header carries the secret inside base64 of `account:secret`.
        secrets: &[BASIC],
        max_body_bytes: MAX_BATCH_BYTES,
        validate: support::check,
        fake: || Arc::new(MixpanelImport::new()),
    }
}

conformance_tests!(suite);
