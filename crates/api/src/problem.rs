//! Errors as RFC 9457 problem details (`application/problem+json`), and the layer that turns
//! every other error answer (axum's own rejections, the 404 fallback) into one, so a client
//! parses one error shape.

use axum::body::to_bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use costwatch_pipeline::PipelineError;
use costwatch_store::StoreError;
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } => Self::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::InvalidKey(..) => Self::bad_request(e.to_string()),
            // The store's own detail stays in the log: it names tables and paths.
            other => {
                tracing::error!(error = %other, "store");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store could not be read; retry",
                )
            }
        }
    }
}

impl From<PipelineError> for Problem {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Store(s) => s.into(),
            PipelineError::NotFound(what) => Self::not_found(what),
            PipelineError::Config(what) => Self::bad_request(what),
            other => {
                tracing::error!(error = %other, "pipeline");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request could not be served",
                )
            }
        }
    }
}

/// Rewrites an error answer that is not already a problem (a query that does not parse, an
/// unknown path or method) as one, keeping its status and its text as the detail.
pub async fn problems_everywhere(request: axum::extract::Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let detail = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        t => t.to_owned(),
    };
    let mut rewritten = Problem::new(status, detail).into_response();
    // Keep headers such as Allow (405) and WWW-Authenticate (401).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

/// The fallback for unknown paths.
pub async fn not_found() -> Problem {
    Problem::not_found("no such route; see /openapi.json")
}
