//! The AWS SDK's HTTP client: the suite's one reqwest (rustls on ring, HTTP/1.1 only, see
//! crate::outbound) behind the SDK's `HttpClient` port, instead of the SDK's own hyper client.
//!
//! Why not `aws-smithy-http-client` (the SDK's client, used until issue 17's last size step):
//! its TLS features turn on HTTP/2 in hyper and hyper-util for the whole binary, so h2's
//! connection code was compiled three times over (the SDK's client, reqwest's, the Lambda
//! runtime's) although no service we call speaks HTTP/2 to us; with one HTTP/1.1 stack every
//! binary is about 0.5 MB smaller. `aws-smithy-http-client-reqwest` (0.1) does the same job but
//! turns reqwest's `http2`, `charset` and `system-proxy` features back on.
//!
//! What the SDK expects of a connector, kept here: it never follows redirects (S3 answers a
//! wrong region with a 301 the SDK reads), honours the connect and read timeouts the client's
//! `TimeoutConfig` asks for (operation and attempt timeouts stay the orchestrator's), and sorts
//! transport failures into timeout / I/O / user errors, which decide what the SDK retries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// The SDK's client for every `SdkConfig` the suite builds.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestSdkClient::default())
}

/// Connect and read timeouts: the part of [`HttpConnectorSettings`] a reqwest client is built for.
type Timeouts = (Option<Duration>, Option<Duration>);

/// One reqwest client (one connection pool) per distinct connector settings; every client of a
/// process asks for the same settings ([`super::timeouts`]), so in practice there is one.
#[derive(Debug, Default)]
struct ReqwestSdkClient {
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for ReqwestSdkClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(|p| p.into_inner());
        connectors
            .entry(key)
            .or_insert_with(|| SharedHttpConnector::new(ReqwestConnector::new(key)))
            .clone()
    }
}

#[derive(Debug, Clone)]
struct ReqwestConnector {
    /// `Err` when the client could not be built (no TLS roots): every call then fails with it.
    client: Result<reqwest::Client, Arc<reqwest::Error>>,
}

impl ReqwestConnector {
    fn new((connect, read): Timeouts) -> Self {
        let mut builder = crate::outbound::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .http1_only();
        if let Some(connect) = connect {
            builder = builder.connect_timeout(connect);
        }
        if let Some(read) = read {
            builder = builder.read_timeout(read);
        }
        Self {
            client: builder.build().map_err(Arc::new),
        }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|e| ConnectorError::other(e.into(), None))?;
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?
                .map(|body: SdkBody| match body.bytes() {
                    // In-memory bodies (nearly all of ours) stay reusable and sized.
                    Some(bytes) => reqwest::Body::from(bytes.to_vec()),
                    None => reqwest::Body::wrap(body),
                });
            let request =
                reqwest::Request::try_from(request).map_err(|e| ConnectorError::user(e.into()))?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let response: http::Response<reqwest::Body> = response.into();
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// How the SDK should treat a failed exchange: timeouts (reqwest's own, or an I/O timeout
/// anywhere in the chain) and connection-level failures are transient (retried); a request
/// reqwest refuses to build is the caller's error.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_builder() {
        ConnectorError::user(error.into())
    } else {
        // Connect, request and body errors: refused, reset or closed connections, DNS, TLS
        // handshakes, a response cut short. The SDK retries these as I/O, as it does hyper's.
        ConnectorError::io(error.into())
    }
}
