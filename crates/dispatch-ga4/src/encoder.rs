//! Envelope → Measurement Protocol requests. A request is one client (`client_id` and `user_id`
//! are the scope's id, so every state of a subject and every subject of an account land on the
//! same GA4 user) with at most [`MAX_EVENTS`] events and under [`MAX_BODY_BYTES`]; a digest's
//! envelopes are grouped by scope. Names and values keep GA4's collection limits: event and
//! parameter names of at most 40 characters (ours are fixed), at most 25 parameters, string
//! values of at most [`MAX_VALUE`] characters (fitted with a visible note). The API secret is in
//! the URL's query, so the URL is a secret. With `validate`, the same payloads go to
//! `/debug/mp/collect` first (all of them, so that nothing is collected when any is refused).

use std::collections::BTreeMap;

use costwatch_dispatch::product_event::{ProductEvent, batches};
use costwatch_dispatch::{Message, Text, VendorRequest};
use serde_json::{Value, json};

use crate::config::Destination;

pub const COLLECT_PATH: &str = "/mp/collect";
pub const DEBUG_PATH: &str = "/debug/mp/collect";
/// Events per request.
pub const MAX_EVENTS: usize = 25;
/// A request body stays under 130 kB.
pub const MAX_BODY_BYTES: usize = 130_000 - 1;
/// A string parameter value, at most (standard properties; 360 properties take 500).
pub const MAX_VALUE: usize = 100;
/// Room for `{"client_id": …, "user_id": …, "events": []}` around the events.
const WRAPPER_BYTES: usize = 256;

pub fn requests(d: &Destination, api_secret: &str, message: Message<'_>) -> Vec<VendorRequest> {
    let url = |path: &str| {
        let mut u =
            url::Url::parse(&format!("{}{path}", d.region.base())).expect("a fixed base URL");
        u.query_pairs_mut()
            .append_pair("measurement_id", &d.measurement_id)
            .append_pair("api_secret", api_secret);
        u.to_string()
    };
    // One client per scope, in the message's order.
    let mut by_user: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for n in message.envelopes() {
        let e = ProductEvent::of(n);
        if !by_user.contains_key(&e.user_id) {
            order.push(e.user_id.clone());
        }
        by_user
            .entry(e.user_id.clone())
            .or_default()
            .push(event(&e));
    }
    let mut bodies: Vec<Value> = Vec::new();
    for user in order {
        let events = by_user.remove(&user).unwrap_or_default();
        for batch in batches(events, MAX_EVENTS, MAX_BODY_BYTES, WRAPPER_BYTES) {
            bodies.push(json!({"client_id": user, "user_id": user, "events": batch}));
        }
    }
    let post = |step: &str, path: &str, body: &Value| {
        VendorRequest::post_json(step, Text::secret(&url(path)), body.clone())
    };
    let mut out = Vec::new();
    if d.validate {
        out.extend(bodies.iter().map(|b| post("validate", DEBUG_PATH, b)));
    }
    out.extend(bodies.iter().map(|b| post("collect", COLLECT_PATH, b)));
    out
}

/// Parameters per event (GA4 refuses an event with more).
pub const MAX_PARAMS: usize = 25;
/// Left out, in this order, from an event with more than [`MAX_PARAMS`]: a budget alert of an
/// account's or an account × service's scope, which has up to 27. What moved the month is the
/// latest addition and the other tools still get it; the dollar figure goes first.
const DROPPED_FIRST: [&str; 2] = ["top_driver_change", "top_driver"];

/// One GA4 event: the name, the parameters, and when costwatch raised it.
fn event(e: &ProductEvent) -> Value {
    let mut params = e.properties_json(MAX_VALUE);
    for name in DROPPED_FIRST {
        if params.len() > MAX_PARAMS {
            params.remove(name);
        }
    }
    json!({
        "name": e.name,
        "params": params,
        "timestamp_micros": e.time.timestamp_micros(),
    })
}
