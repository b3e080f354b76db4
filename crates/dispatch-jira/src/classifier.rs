//! What Jira Cloud answers, step by step. 200/201/204 are delivered; the search and transition
//! lookups are turned into the values the next step's URL is made of (see [`crate::encoder`]).
//! 429 (and 503) carry `Retry-After`, or only `X-RateLimit-Reset` (an ISO 8601 time), both
//! honoured; 5xx are retried. 400 is a request Jira refuses, quoted from its
//! `{"errorMessages": […], "errors": {field: message}}`; 401/403/404 are configuration errors
//! that name what to fix. None of those is retried.

use std::time::{Duration, SystemTime};

use costwatch_dispatch::outcome::{MAX_WAIT, classify_http_at, retry_after};
use costwatch_dispatch::{Delivered, Outcome, VendorRequest, VendorResponse};
use serde_json::{Value, json};

use crate::encoder::{CREATE, SEARCH, TRANSITION, TRANSITIONS};

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    classify_at(request, response, SystemTime::now())
}

pub fn classify_at(request: &VendorRequest, response: &VendorResponse, now: SystemTime) -> Outcome {
    let path = url::Url::parse(request.url.expose())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let step = request.step.as_str();
    // The create or the transition sent to the issue's own URL: the step was decided against
    // (found already / no such transition). Jira's answer (405: no POST there) changes nothing.
    if step == CREATE && !path.ends_with("/rest/api/3/issue") {
        let key = path.rsplit('/').next().unwrap_or_default();
        return delivered(response.status, json!({"key": key, "existing": true}));
    }
    if step == TRANSITION && !path.ends_with("/transitions") {
        return delivered(response.status, json!({"skipped": true}));
    }
    let status = response.status;
    if (200..300).contains(&status) {
        let body = response.json();
        if step == SEARCH {
            return delivered(status, search_answer(body.as_ref()));
        }
        if let Some(name) = step.strip_prefix(TRANSITIONS) {
            return delivered(status, transition_answer(body.as_ref(), name));
        }
        return Outcome::Delivered(Delivered { status, body });
    }
    let errors = error_text(response);
    match status {
        400 => Outcome::Fail(format!("Jira refused the {step} (HTTP 400){errors}")),
        401 => Outcome::Fail(format!(
            "Jira refused the credentials (HTTP 401{errors}): check `email` and `api_token` (create one at https://id.atlassian.com/manage-profile/security/api-tokens; it must belong to that email) or renew the OAuth `bearer_token`"
        )),
        403 => Outcome::Fail(format!(
            "the Jira account may not {step} (HTTP 403{errors}): give it the project permissions Browse projects, Create issues, Add comments and Transition issues; a CAPTCHA after failed logins is cleared by logging in once in a browser"
        )),
        404 => Outcome::Fail(format!(
            "Jira found no such {what} (HTTP 404{errors}): check `site`, the project key and `tracking_issue`, and that the account can see them (an issue may have been deleted or moved)",
            what = if step == SEARCH {
                "site or project"
            } else {
                "issue"
            }
        )),
        429 | 503 => Outcome::Retry {
            after: retry_after(response, now).or_else(|| rate_limit_reset(response, now)),
            reason: format!("HTTP {status}: Jira is throttling or unavailable{errors}"),
        },
        _ => classify_http_at(response, now),
    }
}

fn delivered(status: u16, body: Value) -> Outcome {
    Outcome::Delivered(Delivered {
        status,
        body: Some(body),
    })
}

/// Where the create goes: `issue` (nothing found) or the found issue's own URL.
fn search_answer(body: Option<&Value>) -> Value {
    // The key; the id if an answer carries no key (both name the issue in every path).
    let found = body
        .and_then(|b| b["issues"].as_array())
        .and_then(|issues| issues.first())
        .and_then(|i| i["key"].as_str().or_else(|| i["id"].as_str()))
        .filter(|k| crate::config::is_issue_ref(k));
    json!({"costwatch": {
        "found": found,
        "create_path": found.map_or("issue".to_owned(), |k| format!("issue/{k}")),
    }})
}

/// The id of the transition called `name` (exactly, else ignoring case) and the path suffix
/// that runs it; an empty suffix (the issue's own URL, a no-op) when the issue has none by
/// that name from its current status.
fn transition_answer(body: Option<&Value>, name: &str) -> Value {
    let all = body
        .and_then(|b| b["transitions"].as_array())
        .cloned()
        .unwrap_or_default();
    let named = |exact: bool| {
        all.iter().find(|t| {
            t["name"].as_str().is_some_and(|n| {
                if exact {
                    n == name
                } else {
                    n.eq_ignore_ascii_case(name)
                }
            })
        })
    };
    let id = named(true)
        .or_else(|| named(false))
        .and_then(|t| t["id"].as_str());
    let available: Vec<&str> = all.iter().filter_map(|t| t["name"].as_str()).collect();
    json!({"costwatch": {
        "transition_id": id.unwrap_or_default(),
        "then": if id.is_some() { "/transitions" } else { "" },
        "available": available,
    }})
}

/// `X-RateLimit-Reset` (`2026-12-03T12:00:00Z`) as a wait from `now`.
fn rate_limit_reset(response: &VendorResponse, now: SystemTime) -> Option<Duration> {
    let at =
        chrono::DateTime::parse_from_rfc3339(response.header("x-ratelimit-reset")?.trim()).ok()?;
    let at =
        SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at.timestamp_millis()).ok()?);
    Some(at.duration_since(now).unwrap_or_default().min(MAX_WAIT))
}

/// `: message; field: message` from Jira's error collection, or the body's start.
fn error_text(response: &VendorResponse) -> String {
    let Some(body) = response.json() else {
        let snippet = response.snippet();
        return if snippet.is_empty() {
            String::new()
        } else {
            format!(": {snippet}")
        };
    };
    let mut parts: Vec<String> = body["errorMessages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(errors) = body["errors"].as_object() {
        parts.extend(
            errors
                .iter()
                .map(|(field, m)| format!("{field}: {}", m.as_str().unwrap_or_default())),
        );
    }
    if parts.is_empty() {
        format!(": {}", response.snippet())
    } else {
        format!(": {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use costwatch_dispatch::Text;

    use super::*;

    fn request(step: &str, path: &str) -> VendorRequest {
        VendorRequest::post_json(
            step,
            Text::Plain(format!("https://acme.atlassian.net/rest/api/3/{path}")),
            json!({}),
        )
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> VendorResponse {
        VendorResponse::new(status, headers, body)
    }

    fn body(outcome: Outcome) -> Value {
        let Outcome::Delivered(Delivered { body: Some(b), .. }) = outcome else {
            panic!("{outcome:?}")
        };
        b
    }

    const NOW: SystemTime = SystemTime::UNIX_EPOCH;

    #[test]
    fn the_search_decides_where_the_create_goes() {
        let search = request(SEARCH, "search/jql");
        let none = body(classify_at(
            &search,
            &answer(200, &[], r#"{"issues":[]}"#),
            NOW,
        ));
        assert_eq!(none["costwatch"]["create_path"], "issue");
        let found = body(classify_at(
            &search,
            &answer(200, &[], r#"{"issues":[{"id":"10001","key":"FIN-7"}]}"#),
            NOW,
        ));
        assert_eq!(found["costwatch"]["create_path"], "issue/FIN-7");
        let by_id = body(classify_at(
            &search,
            &answer(200, &[], r#"{"issues":[{"id":"10001"}]}"#),
            NOW,
        ));
        assert_eq!(by_id["costwatch"]["create_path"], "issue/10001");
        // The create sent to FIN-7's own URL: already there, whatever Jira says to a POST there.
        let skipped = body(classify_at(
            &request(CREATE, "issue/FIN-7"),
            &answer(405, &[], ""),
            NOW,
        ));
        assert_eq!(skipped["key"], "FIN-7");
        let created = body(classify_at(
            &request(CREATE, "issue"),
            &answer(201, &[], r#"{"id":"10002","key":"FIN-8","self":"x"}"#),
            NOW,
        ));
        assert_eq!(created["key"], "FIN-8");
    }

    #[test]
    fn the_transition_is_found_by_name() {
        let lookup = request(&format!("{TRANSITIONS}Done"), "issue/FIN-7/transitions");
        let list =
            r#"{"transitions":[{"id":"21","name":"In Progress"},{"id":"31","name":"done"}]}"#;
        let found = body(classify_at(&lookup, &answer(200, &[], list), NOW));
        assert_eq!(found["costwatch"]["transition_id"], "31");
        assert_eq!(found["costwatch"]["then"], "/transitions");
        let closed = body(classify_at(
            &lookup,
            &answer(200, &[], r#"{"transitions":[{"id":"11","name":"Reopen"}]}"#),
            NOW,
        ));
        assert_eq!(closed["costwatch"]["then"], "");
        assert!(matches!(
            classify_at(
                &request(TRANSITION, "issue/FIN-7"),
                &answer(405, &[], ""),
                NOW
            ),
            Outcome::Delivered(_)
        ));
    }

    #[test]
    fn errors_name_what_to_fix() {
        let create = request(CREATE, "issue");
        let refused = r#"{"errorMessages":[],"errors":{"issuetype":"Specify a valid issue type"}}"#;
        let Outcome::Fail(reason) = classify_at(&create, &answer(400, &[], refused), NOW) else {
            panic!()
        };
        assert!(
            reason.contains("issuetype: Specify a valid issue type"),
            "{reason}"
        );
        let Outcome::Fail(reason) = classify_at(&create, &answer(401, &[], ""), NOW) else {
            panic!()
        };
        assert!(reason.contains("api_token"), "{reason}");
        let Outcome::Fail(reason) = classify_at(&create, &answer(403, &[], ""), NOW) else {
            panic!()
        };
        assert!(reason.contains("Create issues"), "{reason}");
        assert!(matches!(
            classify_at(&create, &answer(404, &[], ""), NOW),
            Outcome::Fail(_)
        ));
    }

    #[test]
    fn throttling_waits_for_retry_after_or_the_reset_time() {
        let create = request(CREATE, "issue");
        let Outcome::Retry { after, .. } =
            classify_at(&create, &answer(429, &[("Retry-After", "7")], ""), NOW)
        else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_secs(7)));
        let Outcome::Retry { after, .. } = classify_at(
            &create,
            &answer(429, &[("X-RateLimit-Reset", "1970-01-01T00:01:30Z")], ""),
            NOW,
        ) else {
            panic!()
        };
        assert_eq!(after, Some(Duration::from_secs(90)));
        assert!(matches!(
            classify_at(&create, &answer(502, &[], ""), NOW),
            Outcome::Retry { .. }
        ));
    }
}
