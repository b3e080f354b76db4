//! What Mixpanel's `/import` answers (with `strict=1`): 200 `{"code": 200,
//! "num_records_imported": n, "status": "OK"}`; 400 when some events failed validation — the
//! others are imported and counted in `num_records_imported` — with `failed_records` naming each
//! (index, `$insert_id`, field, message); 401 for credentials it does not know, 403 for a service
//! account without a role on the project; 413 over 10 MB; 429 over the project's rate limit
//! (retried with backoff, as Mixpanel asks: it sends no `Retry-After`). None of 400, 401, 403 or
//! 413 is retried as it is.
//!
//! A 400 naming some of the batch's events drops only those (logged with Mixpanel's reasons)
//! and [`remainder`] sends again the rest Mixpanel did not say it imported, as Amplitude's 400 is
//! handled (one shared piece: [`without_refused`]); a 400 naming every event, or none, is
//! dead-lettered with its reason.

use std::collections::BTreeSet;

use costwatch_dispatch::product_event::without_refused;
use costwatch_dispatch::{Delivered, Outcome, VendorRequest, VendorResponse, classify_http};
use serde_json::Value;

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    let status = response.status;
    match status {
        400 => {
            let named = response
                .json()
                .map(|b| named_records(&b))
                .unwrap_or_default();
            let total = events_of(request).map_or(0, Vec::len);
            if !named.is_empty() && named.len() < total {
                // Refused in part: the named events are dropped, `remainder` sends the rest.
                Outcome::Delivered(Delivered {
                    status,
                    body: response.json(),
                })
            } else {
                Outcome::Fail(format!(
                    "Mixpanel refused {} (HTTP 400{})",
                    refused_count(response),
                    failed_records(response)
                ))
            }
        }
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

/// After a 400 that named some of the batch's events: the batch without them, when Mixpanel did
/// not count all of the others as imported (`$insert_id` makes a repeat of any it did import
/// harmless); `None` otherwise. The named events are logged as dropped either way.
pub fn remainder(request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest> {
    if answer.status != 400 {
        return None;
    }
    let body = answer.body.as_ref()?;
    let response = VendorResponse::new(400, &[], body.to_string());
    let why = format!(
        "Mixpanel refused {}{}",
        refused_count(&response),
        failed_records(&response)
    );
    let rest = without_refused(request, "", &named_records(body), &why)?;
    let left = events_of(&rest).map_or(0, Vec::len);
    let imported = body
        .get("num_records_imported")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok());
    match imported {
        Some(n) if n >= left => None,
        _ => Some(rest),
    }
}

/// The batch's events (the body is the array).
fn events_of(request: &VendorRequest) -> Option<&Vec<Value>> {
    request.body.json()?.as_array()
}

/// The indexes `failed_records` names.
pub fn named_records(body: &Value) -> BTreeSet<usize> {
    body.get("failed_records")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("index")?.as_u64())
        .filter_map(|i| usize::try_from(i).ok())
        .collect()
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
            serde_json::json!([{"event": "a"}, {"event": "b"}]),
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
        let one_bad = |imported: u32| {
            format!(
                r#"{{"code":400,"num_records_imported":{imported},"status":"Bad Request","failed_records":[{{"index":1,"insert_id":"x","field":"properties.time","message":"'properties.time' is invalid"}}]}}"#
            )
        };
        // One of two refused: delivered in part; the other was imported, nothing to resend.
        let Outcome::Delivered(answer) = at(400, &one_bad(1)) else {
            panic!()
        };
        assert!(remainder(&import(), &answer).is_none());
        // Mixpanel did not count the other as imported: it is sent again, alone.
        let Outcome::Delivered(answer) = at(400, &one_bad(0)) else {
            panic!()
        };
        let rest = remainder(&import(), &answer).unwrap();
        assert_eq!(rest.body.json(), Some(&serde_json::json!([{"event": "a"}])));
        let every = r#"{"code":400,"num_records_imported":0,"status":"Bad Request","failed_records":[{"index":0,"field":"event","message":"bad"},{"index":1,"insert_id":"x","field":"properties.time","message":"'properties.time' is invalid"}]}"#;
        let Outcome::Fail(reason) = at(400, every) else {
            panic!()
        };
        assert!(
            reason.contains("2 events") && reason.contains("event 1 properties.time"),
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
