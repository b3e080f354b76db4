//! Who may call the API. Service clients send `Authorization: Bearer <token>`, compared with a
//! secret from the [`SecretStore`](costwatch_store::SecretStore) port (Secrets Manager on AWS,
//! `COSTWATCH_SECRET_<NAME>` or the data directory locally), read per request through the
//! store's cache so a rotated token takes effect without a restart. [`Auth::Trusted`] is for
//! a front that already authenticated the caller: IAM on the Function URL, or a loopback-only
//! `costwatch serve`.
//!
//! The dashboard page, its assets and `/openapi.json` hold no data and are always served; the
//! data under `/v1/` and `/reports/` is what the token guards.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::{Api, Problem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Every request is let through: the caller was authenticated before the request got here.
    Trusted,
    /// A bearer token equal to the secret of this name.
    Bearer { secret: String },
}

/// Paths served without a token.
fn is_public(path: &str) -> bool {
    path == "/" || path == "/openapi.json" || path.starts_with("/assets/")
}

/// Equal-length digests compared without an early exit: the time taken says nothing about how
/// much of a guessed token was right.
fn same(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

pub async fn require(
    State(api): State<Arc<Api>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let Auth::Bearer { secret } = &api.auth else {
        return next.run(request).await;
    };
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let expected = match api.secrets.get(secret).await {
        Ok(value) => value,
        Err(e) => {
            tracing::error!(error = %e, "the API token secret could not be read");
            return Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "authentication is unavailable",
            )
            .into_response();
        }
    };
    if presented.is_empty() || !same(&presented, expected.expose_secret()) {
        let mut response =
            Problem::new(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
                .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("s3cret-token", "s3cret-token"));
        assert!(!same("s3cret-token", "s3cret-tokeN"));
        assert!(!same("s3cret", "s3cret-token"));
        assert!(is_public("/assets/app.js") && !is_public("/v1/costs"));
    }
}
