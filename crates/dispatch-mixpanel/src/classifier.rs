//! What Mixpanel's `/import` answers (with `strict=1`): 200 `{"code": 200,
//! "num_records_imported": n, "status": "OK"}`; 400 when some events failed validation — the
//! others are imported — with `failed_records` naming each (index, `$insert_id`, field, message);
//! 401 for credentials it does not know, 403 for a service account without a role on the
//! project; 413 over 10 MB; 429 over the project's rate limit (retried with backoff, as Mixpanel
//! asks: it sends no `Retry-After`). None of 400, 401, 403 or 413 is retried.

use costwatch_dispatch::{Outcome, VendorRequest, VendorResponse, classify_http};

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    let status = response.status;
    match status {
        400 => Outcome::Fail(format!(
            "Mixpanel refused {} (HTTP 400{}); the other events of the batch were imported",
            refused_count(response),
            failed_records(response)
        )),
        401 | 403 => Outcome::CredentialRefused(format!(
            "Mixpanel refused the service account (HTTP {status}{}): check `service_account`, `secret` and `project_id` of {}; the account needs the Owner or Admin role on that project",
            error(response),
            host(request)
        )),
        413 => Outcome::Fail(format!(
            "Mixpanel refused the batch as too large (HTTP 413{})",
            error(response)
        )),
        _ => classify_http(response),
    }
}

fn refused_count(response: &VendorResponse) -> String {
    let n = response.json().and_then(|v| {
        v.get("failed_records")
            .and_then(|f| f.as_array().map(Vec::len))
    });
    match n {
        Some(1) => "1 event".into(),
        Some(n) => format!("{n} events"),
        None => "the batch".into(),
    }
}

/// `: event 0 properties.time: must be …; …` from `failed_records`, or the body's start.
fn failed_records(response: &VendorResponse) -> String {
    let listed: Vec<String> = response
        .json()
        .and_then(|v| v.get("failed_records").and_then(|f| f.as_array().cloned()))
        .unwrap_or_default()
        .iter()
        .take(5)
        .map(|r| {
            format!(
                "event {} {}: {}",
                r["index"],
                r["field"].as_str().unwrap_or("?"),
                r["message"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if listed.is_empty() {
        error(response)
    } else {
        format!(": {}", listed.join("; "))
    }
}

/// `: <error>` from Mixpanel's JSON, or the body's start.
fn error(response: &VendorResponse) -> String {
    let text = response
        .json()
        .and_then(|v| v.get("error").and_then(|e| e.as_str().map(str::to_owned)))
        .unwrap_or_else(|| response.snippet());
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

fn host(request: &VendorRequest) -> String {
    url::Url::parse(request.url.expose())
        .ok()
        .and_then(|u| u.host_str().map(|h| format!("`{h}`")))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import() -> VendorRequest {
        VendorRequest::post_json(
            "import",
            "https://api-eu.mixpanel.com/import?strict=1&project_id=1".into(),
            serde_json::json!([]),
        )
    }

    fn at(status: u16, body: &str) -> Outcome {
        classify(&import(), &VendorResponse::new(status, &[], body))
    }

    #[test]
    fn imported_refused_throttled() {
        assert!(matches!(
            at(
                200,
                r#"{"code":200,"num_records_imported":2,"status":"OK"}"#
            ),
            Outcome::Delivered(_)
        ));
        let Outcome::Fail(reason) = at(
            400,
            r#"{"code":400,"num_records_imported":1,"status":"Bad Request","failed_records":[{"index":1,"insert_id":"x","field":"properties.time","message":"'properties.time' is invalid"}]}"#,
        ) else {
            panic!()
        };
        assert!(
            reason.contains("1 event") && reason.contains("event 1 properties.time"),
            "{reason}"
        );
        let Outcome::CredentialRefused(reason) = at(401, r#"{"error":"Invalid credentials"}"#)
        else {
            panic!()
        };
        assert!(reason.contains("api-eu.mixpanel.com") && reason.contains("service_account"));
        assert!(matches!(at(413, "{}"), Outcome::Fail(_)));
        assert!(matches!(at(429, "{}"), Outcome::Retry { .. }));
        assert!(matches!(at(502, ""), Outcome::Retry { .. }));
    }
}
