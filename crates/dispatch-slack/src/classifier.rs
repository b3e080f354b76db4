//! Slack's answers. The Web API answers HTTP 200 with `{"ok": false, "error": "…"}` for most
//! failures — that is an error, never a delivery. Incoming webhooks answer `ok` as text, or a
//! 4xx with the error as text (`invalid_payload`, `no_text`, `channel_not_found`,
//! `channel_is_archived`, `action_prohibited`, `no_service`). 429 carries `Retry-After`.

use costwatch_dispatch::{Outcome, VendorRequest, VendorResponse, classify_http};

/// Web API errors worth retrying (Slack's own transient failures).
const TRANSIENT: [&str; 5] = [
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    let shared = classify_http(response);
    let Outcome::Delivered(delivered) = &shared else {
        return shared;
    };
    // The upload step answers plain text; webhooks answer `ok`.
    if request.step == "upload" || request.step == "webhook" {
        return shared;
    }
    let Some(body) = &delivered.body else {
        return Outcome::Fail(format!(
            "{}: answer is not JSON: {}",
            request.step,
            response.snippet()
        ));
    };
    if body["ok"].as_bool() == Some(true) {
        return shared;
    }
    let error = body["error"].as_str().unwrap_or("unknown_error");
    if TRANSIENT.contains(&error) {
        Outcome::Retry {
            after: costwatch_dispatch::outcome::retry_after(response, std::time::SystemTime::now()),
            reason: format!("ok:false {error}"),
        }
    } else {
        Outcome::Fail(format!("ok:false {error}"))
    }
}
