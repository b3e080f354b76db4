//! The shared conformance suite (costwatch-dispatch-kit) on custom webhooks: every sample and
//! hostile envelope goes as is, valid against `schemas/notification.v1.json`, with Standard
//! Webhooks headers whose signature the receiver fake verifies on its own; the receiver's
//! token never printed or logged; the fault drill delivers each envelope exactly once.

mod support;

use std::sync::{Arc, OnceLock};

use costwatch_dispatch::{Body, VendorRequest, entry};
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_dispatch_webhook::Webhook;
use costwatch_vendor_fakes::standard_webhooks::Receiver;
use serde_json::json;
use support::{SECRET, TOKEN};

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Webhook>(),
        config: json!({"destinations": {"ops": {
            "url": format!("https://hooks.example.com/costwatch/{TOKEN}"),
            "signing_secrets": [SECRET],
        }}}),
        destination: "ops",
        secrets: &[TOKEN],
        // No receiver-imposed limit: the largest envelope stays far below this.
        max_body_bytes: 64 * 1024,
        validate,
        fake: || Arc::new(Receiver::new(SECRET)),
    }
}

/// A JSON envelope the published schema accepts, whose `webhook-id` is its id, signed so that a
/// receiver holding the secret verifies it.
fn validate(request: &VendorRequest) -> Result<(), String> {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    let schema = SCHEMA.get_or_init(support::envelope_schema);
    let Body::Bytes { content_type, .. } = &request.body else {
        return Err("the signed body goes as bytes".into());
    };
    if content_type != "application/json" {
        return Err(format!("content type {content_type}"));
    }
    let body = support::body_json(request);
    let errors: Vec<String> = schema
        .iter_errors(&body)
        .take(3)
        .map(|e| e.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let received = support::received(request);
    if received.header("webhook-id") != body["id"].as_str() {
        return Err("webhook-id is not the envelope id".into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Receiver::new(SECRET).verify(&received, now)
}

conformance_tests!(suite);
