//! The shared conformance suite (costwatch-dispatch-kit) on Zapier catch hooks. Zapier has no
//! schema for what a catch hook takes; the check is what makes a Zap map it without code: one
//! JSON object of scalars (no nested object or array), keys of `[A-Za-z0-9_-]`, the envelope's id
//! and the ready-made `headline`, `text` and `link`.

use std::sync::Arc;

use costwatch_dispatch::{Body, VendorRequest, entry};
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_dispatch_zapier::Zapier;
use costwatch_vendor_fakes::zapier::{CatchHook, HOOK};
use serde_json::json;

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Zapier>(),
        config: json!({"destinations": {"tickets": {"webhook_url": CatchHook::hook_url("https://hooks.zapier.com")}}}),
        destination: "tickets",
        secrets: &[HOOK],
        // Ours, not Zapier's: an envelope's flat form stays far below it.
        max_body_bytes: 64 * 1024,
        validate,
        fake: || Arc::new(CatchHook::new()),
    }
}

pub fn validate(request: &VendorRequest) -> Result<(), String> {
    let Body::Json(body) = &request.body else {
        return Err("a catch hook gets JSON".into());
    };
    let fields = body.as_object().ok_or("not a JSON object")?;
    for (key, value) in fields {
        if value.is_object() || value.is_array() {
            return Err(format!(
                "`{key}` is not a scalar: a Zap cannot map it without code"
            ));
        }
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("key {key:?} is not a plain field name"));
        }
    }
    for required in ["id", "headline", "text", "link", "severity", "title"] {
        if !fields.contains_key(required) {
            return Err(format!("no `{required}` field"));
        }
    }
    Ok(())
}

conformance_tests!(suite);
