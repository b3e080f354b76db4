//! The shared conformance suite (costwatch-dispatch-kit) on IFTTT's Webhooks service, once per
//! form. IFTTT has no schema; the check is what its documentation page says each trigger takes:
//! the values form `{"value1","value2","value3"}` as strings and nothing else (IFTTT drops
//! other keys), the JSON form one object — ours flat, of scalars, with `headline` and `text`.

use std::sync::Arc;

use costwatch_dispatch::{Body, VendorRequest, entry};
use costwatch_dispatch_ifttt::Ifttt;
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_vendor_fakes::ifttt::{KEY, Maker};
use serde_json::json;

fn suite_of(json_form: bool, validate: fn(&VendorRequest) -> Result<(), String>) -> Conformance {
    let url = Maker::trigger_url("https://maker.ifttt.com", "costwatch_alert", json_form);
    Conformance {
        entry: entry::<Ifttt>(),
        config: json!({"destinations": {"phone": {"webhook_url": url}}}),
        destination: "phone",
        secrets: &[KEY],
        // Ours, not IFTTT's (it publishes none): value2 is fitted to 4,000 characters.
        max_body_bytes: 64 * 1024,
        validate,
        fake: || Arc::new(Maker::new()),
    }
}

fn values_suite() -> Conformance {
    suite_of(false, validate_values)
}

fn json_suite() -> Conformance {
    suite_of(true, validate_json)
}

fn validate_values(request: &VendorRequest) -> Result<(), String> {
    let Body::Json(body) = &request.body else {
        return Err("the trigger gets JSON".into());
    };
    let fields = body.as_object().ok_or("not a JSON object")?;
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["value1", "value2", "value3"] {
        return Err(format!("IFTTT takes value1..value3 only, got {keys:?}"));
    }
    if fields
        .values()
        .any(|v| v.as_str().is_none_or(|s| s.is_empty()))
    {
        return Err("every value is a non-empty string".into());
    }
    Ok(())
}

fn validate_json(request: &VendorRequest) -> Result<(), String> {
    let Body::Json(body) = &request.body else {
        return Err("the trigger gets JSON".into());
    };
    let fields = body.as_object().ok_or("not a JSON object")?;
    if let Some((key, _)) = fields.iter().find(|(_, v)| v.is_object() || v.is_array()) {
        return Err(format!("`{key}` is not flat"));
    }
    for required in ["id", "headline", "text"] {
        if !fields.contains_key(required) {
            return Err(format!("no `{required}`"));
        }
    }
    Ok(())
}

conformance_tests!(values => values_suite, json => json_suite);
