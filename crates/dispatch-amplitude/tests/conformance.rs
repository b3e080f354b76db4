//! The shared conformance suite (costwatch-dispatch-kit) on Amplitude: every sample, variant,
//! hostile copy and digest renders HTTP V2 requests within 2,000 events and 1 MB that pass
//! Amplitude's documented checks (there is no official schema: the fake's [`problems`], from
//! its documentation); the API key never reaches `render` output, dead letters, the ledger or
//! the logs; a fault drill ingests every envelope exactly once; a crash mid-batch repeats at most
//! the one message no ledger covers (Amplitude's `insert_id` then ignores it, tests/delivery.rs).

use std::sync::Arc;

use costwatch_dispatch::{VendorRequest, entry};
use costwatch_dispatch_amplitude::Amplitude;
use costwatch_dispatch_amplitude::encoder::MAX_BODY_BYTES;
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_vendor_fakes::amplitude::{API_KEY, AmplitudeHttpApi, problems};
use serde_json::json;

/// Amplitude's documented checks of one request (the body as printed: the key is redacted).
fn validate(request: &VendorRequest) -> Result<(), String> {
    let url = url::Url::parse(request.url.expose()).map_err(|e| e.to_string())?;
    if url.path() != "/2/httpapi" {
        return Err(format!("{} is not /2/httpapi", url.path()));
    }
    let naming = problems(request.body.json().ok_or("Amplitude takes JSON")?)?;
    if naming.is_empty() {
        Ok(())
    } else {
        Err(format!("Amplitude would answer 400: {naming:?}"))
    }
}

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Amplitude>(),
        config: json!({"destinations": {"product": {"api_key": API_KEY}}}),
        destination: "product",
        secrets: &[API_KEY],
        max_body_bytes: MAX_BODY_BYTES,
        validate,
        fake: || Arc::new(AmplitudeHttpApi::new()),
    }
}

conformance_tests!(suite);
