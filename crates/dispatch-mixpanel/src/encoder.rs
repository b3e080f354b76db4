//! Envelope → `POST /import?strict=1&project_id=…` requests: one Mixpanel event per envelope
//! (a digest's envelopes are one batch), at most [`MAX_EVENTS`] events and [`MAX_BATCH_BYTES`]
//! per request. Each event carries `time` (when costwatch raised it, in milliseconds),
//! `distinct_id` (one per scope, see [`costwatch_dispatch::product_event::user_id`]) and
//! `$insert_id` (from the envelope id): Mixpanel treats events with the same event, time,
//! distinct_id and `$insert_id` as one, so a repeated batch counts once.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use costwatch_dispatch::product_event::{ProductEvent, batches, insert_id};
use costwatch_dispatch::{Message, Text, VendorRequest};
use serde_json::{Value, json};

use crate::config::Destination;

pub const IMPORT_PATH: &str = "/import";
/// Events per `/import` request.
pub const MAX_EVENTS: usize = 2_000;
/// Uncompressed bytes per `/import` request (10 MB).
pub const MAX_BATCH_BYTES: usize = 10 * 1024 * 1024;
/// String property values are fitted to this many characters (Mixpanel shows 255).
pub const MAX_STRING: usize = 255;

/// Every `/import` request for `message` to `d`.
pub fn requests(d: &Destination, secret: &str, message: Message<'_>) -> Vec<VendorRequest> {
    let url = format!(
        "{}{IMPORT_PATH}?strict=1&project_id={}",
        d.region.base(),
        d.project_id
    );
    let auth = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{secret}", d.service_account))
    );
    let events: Vec<Value> = message.envelopes().iter().map(event).collect();
    batches(events, MAX_EVENTS, MAX_BATCH_BYTES, 2)
        .into_iter()
        .map(|batch| {
            VendorRequest::post_json("import", Text::Plain(url.clone()), Value::Array(batch))
                .header("Authorization", Text::secret(&auth))
        })
        .collect()
}

/// One envelope as a Mixpanel event.
pub fn event(n: &costwatch_core::Notification) -> Value {
    let e = ProductEvent::of(n);
    let mut properties = e.properties_json(MAX_STRING);
    properties.insert("time".into(), json!(e.time.timestamp_millis()));
    properties.insert("distinct_id".into(), json!(e.user_id));
    properties.insert("$insert_id".into(), json!(insert_id(&e.envelope_id)));
    json!({ "event": e.name, "properties": properties })
}
