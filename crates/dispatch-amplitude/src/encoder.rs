//! Envelope → `POST /2/httpapi` requests: `{"api_key": …, "events": […]}` with one Amplitude
//! event per envelope (a digest's envelopes in one request), at most [`MAX_EVENTS`] events and
//! under [`MAX_BODY_BYTES`] per request. The API key goes in with
//! [`Body::json_with_secret`]: printed and checked as `[REDACTED]`, only the wire holds it.

use costwatch_dispatch::product_event::{ProductEvent, batches};
use costwatch_dispatch::{Body, Message, Text, VendorRequest};
use serde_json::{Value, json};

use crate::config::Destination;

pub const HTTPAPI_PATH: &str = "/2/httpapi";
/// Events per request.
pub const MAX_EVENTS: usize = 2_000;
/// Amplitude wants requests under 1 MB.
pub const MAX_BODY_BYTES: usize = 1_000_000 - 1;
/// Amplitude keeps string property values up to 1,024 characters.
pub const MAX_STRING: usize = 1_024;
/// Room for `{"api_key":"<32 hex>","events":[]}` around the events.
const WRAPPER_BYTES: usize = 64;

pub fn requests(d: &Destination, api_key: &str, message: Message<'_>) -> Vec<VendorRequest> {
    let url = format!("{}{HTTPAPI_PATH}", d.region.base());
    let events: Vec<Value> = message.envelopes().iter().map(event).collect();
    batches(events, MAX_EVENTS, MAX_BODY_BYTES, WRAPPER_BYTES)
        .into_iter()
        .map(|batch| request(&url, api_key, batch))
        .collect()
}

/// One request carrying `events`, with the key as a secret member.
pub fn request(url: &str, api_key: &str, events: Vec<Value>) -> VendorRequest {
    VendorRequest {
        body: Body::json_with_secret(json!({ "events": events }), "/api_key", api_key),
        ..VendorRequest::post_json("httpapi", Text::Plain(url.to_owned()), Value::Null)
    }
}

/// One envelope as an Amplitude event: the scope is the user, so a chart split by `account_name`
/// or a funnel from detected to resolved works per account.
pub fn event(n: &costwatch_core::Notification) -> Value {
    let e = ProductEvent::of(n);
    json!({
        "user_id": e.user_id,
        "event_type": e.name,
        "time": e.time.timestamp_millis(),
        "insert_id": e.envelope_id,
        "platform": "costwatch",
        "event_properties": e.properties_json(MAX_STRING),
    })
}
