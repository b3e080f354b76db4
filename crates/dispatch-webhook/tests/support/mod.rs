//! What the webhook tests share: the test secrets, the envelope schema, a request as the
//! receiver sees it, and a dispatcher that sends straight to the configured URL.

#![allow(dead_code)]

use std::time::Duration;

use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Body, VendorRequest, entry};
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_dispatch_webhook::Webhook;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::Received;
use serde_json::Value;

/// Placeholder secrets in the spec's format (24 random bytes, base64, `whsec_`).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const OLD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
/// The token a receiver put in its URL path.
pub const TOKEN: &str = "rcv-token-8d1f0c";

/// `schemas/notification.v1.json`, the envelope's published schema.
pub fn envelope_schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/notification.v1.json"
    );
    let text = std::fs::read_to_string(path).expect("the envelope schema");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("schema JSON"))
        .expect("the schema compiles")
}

/// `request` as a receiver gets it (for the receiver fake's own verification).
pub fn received(request: &VendorRequest) -> Received {
    Received {
        method: "POST".into(),
        path: "/".into(),
        headers: request
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.expose().to_owned()))
            .collect(),
        body: request.body.encode(),
    }
}

pub fn body_json(request: &VendorRequest) -> Value {
    let Body::Bytes { data, .. } = &request.body else {
        panic!("a signed webhook body is bytes, got {:?}", request.body);
    };
    serde_json::from_slice(data).expect("the body is JSON")
}

/// A dispatcher over `config`, sending to the URLs as configured (no endpoint override).
pub async fn dispatcher<'a>(config: Value, state: &'a MemoryState) -> Dispatcher<'a> {
    let configured = entry::<Webhook>().load(config).expect("the config loads");
    Dispatcher::builder(configured, state)
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .await
        .expect("the dispatcher builds")
}

/// One envelope through `d`: its verdict.
pub async fn dispatch_one(d: &Dispatcher<'_>, n: &costwatch_core::Notification) -> Verdict {
    verdicts(d, std::slice::from_ref(n)).await.remove(0)
}
