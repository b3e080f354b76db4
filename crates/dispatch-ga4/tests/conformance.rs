//! The shared conformance suite (costwatch-dispatch-kit) on Google Analytics 4: every sample,
//! variant, hostile copy and digest renders Measurement Protocol requests under 130 kB that the
//! validation server's documented rules accept (there is no official schema: the fake's
//! [`validation_messages`], from Google's documentation); the API secret (in the URL's query)
//! never reaches `render` output, dead letters, the ledger or the logs; a fault drill collects
//! every envelope exactly once; a crash mid-batch repeats at most the one message no ledger can
//! cover — GA4 does not deduplicate, so that message's event is counted twice (see the docs page).
//! `validate = true` adds a request per message, so the suite runs without it; tests/delivery.rs
//! covers it.

use std::sync::Arc;

use costwatch_dispatch::{VendorRequest, entry};
use costwatch_dispatch_ga4::Ga4;
use costwatch_dispatch_ga4::encoder::MAX_BODY_BYTES;
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_vendor_fakes::ga4::{API_SECRET, Ga4Collect, MEASUREMENT_ID, validation_messages};
use serde_json::json;

/// What GA4's validation server would say of one request.
fn validate(request: &VendorRequest) -> Result<(), String> {
    let url = url::Url::parse(request.url.expose()).map_err(|e| e.to_string())?;
    if !matches!(url.path(), "/mp/collect" | "/debug/mp/collect") {
        return Err(format!(
            "{} is not a Measurement Protocol endpoint",
            url.path()
        ));
    }
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for param in ["measurement_id", "api_secret"] {
        if !query.iter().any(|(k, v)| k == param && !v.is_empty()) {
            return Err(format!("{param} is missing from the query"));
        }
    }
    let messages = validation_messages(request.body.json().ok_or("GA4 takes JSON")?);
    if messages.is_empty() {
        Ok(())
    } else {
        Err(format!("{messages:?}"))
    }
}

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Ga4>(),
        config: json!({"destinations": {"web": {"measurement_id": MEASUREMENT_ID, "api_secret": API_SECRET}}}),
        destination: "web",
        secrets: &[API_SECRET],
        max_body_bytes: MAX_BODY_BYTES,
        validate,
        fake: || Arc::new(Ga4Collect::new()),
    }
}

conformance_tests!(suite);
