//! What the PagerDuty tests share: the vendor's own check of a request (the Events API v2
//! OpenAPI document in `specs/pagerduty/`, made strict, plus the limits it states in prose) and
//! a config against the vendor fake.

#![allow(dead_code)]

use std::sync::OnceLock;

use costwatch_core::shared::shared_path;
use costwatch_dispatch::view::is_web_url;
use costwatch_dispatch::{Body, VendorRequest};
use costwatch_dispatch_pagerduty::encoder::{MAX_DEDUP_KEY, MAX_EVENT_BYTES, MAX_SUMMARY};
use costwatch_vendor_fakes::pagerduty::ROUTING_KEY;
use serde_json::{Value, json};

/// One destination, `oncall`, with the fake's routing key, as the Lambda would load it.
pub fn config() -> Value {
    json!({"destinations": {"oncall": {"routing_key": ROUTING_KEY}}})
}

/// The request body schema of `POST {path}` (`/enqueue`, `/change/enqueue`) in PagerDuty's
/// document, as a root holding the document's components so every `#/components/…` $ref
/// resolves. Made strict: an object schema that lists its properties takes no others (the
/// document leaves that open; a misspelt `sevrity` must fail here, not be dropped by PagerDuty).
/// `format: url` (PagerDuty's own) is checked as an absolute http(s) URL, `date-time` as
/// RFC 3339.
fn validator(path: &str) -> jsonschema::Validator {
    let file = shared_path("specs/pagerduty/events-v2.openapiv3.json");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (set COSTWATCH_SHARED)", file.display()));
    let spec: Value = serde_json::from_str(&text).expect("the spec is JSON");
    let op = &spec["paths"][path]["post"];
    assert!(op.is_object(), "no POST {path} in the spec");
    let mut schema = strict(op["requestBody"]["content"]["application/json"]["schema"].clone());
    schema["components"] = strict(spec["components"].clone());
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format("url", is_web_url)
        .build(&schema)
        .expect("the request schema compiles")
}

fn strict(mut schema: Value) -> Value {
    match &mut schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in map.values_mut() {
                *v = strict(v.take());
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = strict(v.take());
            }
        }
        _ => {}
    }
    schema
}

/// What goes on the wire: the JSON with the routing key in it.
pub fn wire(request: &VendorRequest) -> Value {
    serde_json::from_slice(&request.body.encode()).expect("a JSON body")
}

/// PagerDuty's check of one request: the body the spec describes for the URL's path, and the
/// limits the documentation states (summary 1,024 characters, dedup_key 255, 512 KB).
pub fn check(request: &VendorRequest) -> Result<(), String> {
    static ENQUEUE: OnceLock<jsonschema::Validator> = OnceLock::new();
    static CHANGE: OnceLock<jsonschema::Validator> = OnceLock::new();
    if !matches!(request.body, Body::SecretJson { .. }) {
        return Err("the routing key must travel as a secret JSON member".into());
    }
    let url = url::Url::parse(request.url.expose()).map_err(|e| e.to_string())?;
    let validator = match url.path() {
        "/v2/enqueue" => ENQUEUE.get_or_init(|| validator("/enqueue")),
        "/v2/change/enqueue" => CHANGE.get_or_init(|| validator("/change/enqueue")),
        other => return Err(format!("no such endpoint: {other}")),
    };
    let size = request.body.encode().len();
    let body = wire(request);
    let mut errors: Vec<String> = validator
        .iter_errors(&body)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    let chars = |p: &str| {
        body.pointer(p)
            .and_then(Value::as_str)
            .map_or(0, |s| s.chars().count())
    };
    if chars("/payload/summary") > MAX_SUMMARY {
        errors.push(format!(
            "summary of {} characters",
            chars("/payload/summary")
        ));
    }
    if chars("/dedup_key") > MAX_DEDUP_KEY {
        errors.push(format!("dedup_key of {} characters", chars("/dedup_key")));
    }
    if size > MAX_EVENT_BYTES {
        errors.push(format!("{size} bytes"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
