//! A `/v1` route refuses query parameters that `openapi.json` does not declare for it, with a
//! 400 naming the ones it takes. Ignored, a guessed or misspelt name answered for the default
//! instead: `/v1/costs?from=2018-11-20&to=2018-11-30` returned the last 30 days, and a script
//! reading it had no way to tell. The document is the list, so a new parameter needs no edit
//! here, and the test that holds routes and document together covers this too.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::Problem;

/// Only the API's own paths: the dashboard, its assets and the HTML report pages are opened by
/// browsers and links, which add parameters of their own (`?utm_source=…`).
const CHECKED_PREFIX: &str = "/v1/";

/// Longest name echoed back in the error.
const ECHOED_CHARS: usize = 64;

/// (method in lower case, path) → the query parameters the document declares for it.
static DECLARED: LazyLock<HashMap<(String, String), BTreeSet<String>>> =
    LazyLock::new(|| declared_in(crate::OPENAPI));

fn declared_in(document: &str) -> HashMap<(String, String), BTreeSet<String>> {
    let doc: Value = serde_json::from_str(document).unwrap_or(Value::Null);
    let mut out = HashMap::new();
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        let Some(operations) = item.as_object() else {
            continue;
        };
        for (method, operation) in operations {
            // Path-level `parameters` (an array), `summary`, `servers` are not operations.
            if !operation.is_object() {
                continue;
            }
            let names = [&item["parameters"], &operation["parameters"]]
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            out.insert((method.to_ascii_lowercase(), path.clone()), names);
        }
    }
    out
}

/// The route layer: the request goes on unless its query names a parameter the route does not
/// take. A query that does not parse is left to the handler's own extractor, which says why.
pub async fn only_declared(matched: MatchedPath, request: Request, next: Next) -> Response {
    if let Some(problem) = unknown_parameter(
        request.method().as_str(),
        matched.as_str(),
        request.uri().query(),
    ) {
        return problem.into_response();
    }
    next.run(request).await
}

fn unknown_parameter(method: &str, path: &str, query: Option<&str>) -> Option<Problem> {
    if !path.starts_with(CHECKED_PREFIX) {
        return None;
    }
    let declared = DECLARED.get(&(method.to_ascii_lowercase(), path.to_owned()))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    let unknown = pairs
        .iter()
        .map(|(name, _)| name)
        .find(|name| !declared.contains(*name))?;
    let shown: String = unknown.chars().take(ECHOED_CHARS).collect();
    let takes = if declared.is_empty() {
        "it takes none".to_owned()
    } else {
        let names: Vec<&str> = declared.iter().map(String::as_str).collect();
        format!("it takes {}", names.join(", "))
    };
    Some(Problem::bad_request(format!(
        "unknown query parameter `{shown}` for {method} {path}; {takes}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_document_declares_the_range_of_the_daily_costs() {
        let costs = &DECLARED[&("get".to_owned(), "/v1/costs".to_owned())];
        assert!(
            costs.contains("start") && costs.contains("end"),
            "{costs:?}"
        );
    }

    #[test]
    fn an_undeclared_name_is_refused_and_the_declared_ones_are_listed() {
        let p = unknown_parameter("GET", "/v1/costs", Some("from=2018-11-20&to=2018-11-30"))
            .expect("refused");
        assert_eq!(p.status, 400);
        assert!(p.detail.contains("`from`"), "{}", p.detail);
        assert!(
            p.detail.contains("cursor, end, limit, scope, start"),
            "{}",
            p.detail
        );
    }

    #[test]
    fn declared_names_missing_queries_and_pages_outside_the_api_pass() {
        assert!(unknown_parameter("GET", "/v1/costs", Some("start=2018-11-20&limit=5")).is_none());
        assert!(unknown_parameter("GET", "/v1/costs", None).is_none());
        assert!(unknown_parameter("GET", "/reports/{date}", Some("utm_source=mail")).is_none());
        assert!(unknown_parameter("GET", "/", Some("v=2")).is_none());
    }

    #[test]
    fn a_route_without_query_parameters_says_it_takes_none() {
        let p = unknown_parameter("GET", "/v1/anomalies/{id}", Some("verbose=1")).expect("refused");
        assert!(p.detail.ends_with("it takes none"), "{}", p.detail);
    }
}
