//! What a Workflows webhook answers. The "When a Teams webhook request is received" trigger
//! accepts a message with 202 Accepted (the flow then posts the card; a flow's own failure
//! shows in its run history, not here). 429 means the flow is throttled and carries
//! `Retry-After`; 408 and 5xx are worth retrying. 400 is a body the trigger refuses, 401/403 a
//! URL whose signature (`sig=`) is wrong or was regenerated, 404 a flow that was deleted or
//! turned off: configuration errors, never retried. Error bodies are
//! `{"error": {"code": "…", "message": "…"}}`.

use std::time::SystemTime;

use costwatch_dispatch::outcome::classify_http_at;
use costwatch_dispatch::{Outcome, VendorResponse};

pub fn classify(response: &VendorResponse) -> Outcome {
    classify_at(response, SystemTime::now())
}

pub fn classify_at(response: &VendorResponse, now: SystemTime) -> Outcome {
    let status = response.status;
    match status {
        400 => Outcome::Fail(format!(
            "Teams refused the card (HTTP 400{})",
            error_code(response)
        )),
        401 | 403 => Outcome::Fail(format!(
            "the Teams webhook URL was refused (HTTP {status}{}): its signature is wrong or was regenerated; copy the URL from the workflow's trigger again",
            error_code(response)
        )),
        404 => Outcome::Fail(format!(
            "the Teams workflow was not found (HTTP 404{}): it was deleted or turned off",
            error_code(response)
        )),
        _ => classify_http_at(response, now),
    }
}

/// `: CODE message` from the Logic Apps error JSON, or the body's start.
fn error_code(response: &VendorResponse) -> String {
    let Some(error) = response.json().and_then(|v| v.get("error").cloned()) else {
        let snippet = response.snippet();
        return if snippet.is_empty() {
            String::new()
        } else {
            format!(": {snippet}")
        };
    };
    let code = error
        .get("code")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    let message = error
        .get("message")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    format!(": {code} {message}").trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> VendorResponse {
        VendorResponse::new(status, headers, body)
    }

    #[test]
    fn accepted_throttled_and_configuration_errors() {
        let now = SystemTime::UNIX_EPOCH;
        assert!(matches!(
            classify_at(&response(202, &[], ""), now),
            Outcome::Delivered(_)
        ));
        let Outcome::Retry { after, .. } =
            classify_at(&response(429, &[("Retry-After", "7")], ""), now)
        else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_secs(7)));
        assert!(matches!(
            classify_at(&response(503, &[], ""), now),
            Outcome::Retry { .. }
        ));
        let body = r#"{"error": {"code": "DirectApiAuthorizationRequired", "message": "no"}}"#;
        let Outcome::Fail(reason) = classify_at(&response(401, &[], body), now) else {
            panic!()
        };
        assert!(
            reason.contains("DirectApiAuthorizationRequired") && reason.contains("signature"),
            "{reason}"
        );
        let Outcome::Fail(reason) = classify_at(&response(404, &[], ""), now) else {
            panic!()
        };
        assert!(reason.contains("deleted or turned off"), "{reason}");
        assert!(matches!(
            classify_at(&response(400, &[], "bad"), now),
            Outcome::Fail(_)
        ));
    }
}
