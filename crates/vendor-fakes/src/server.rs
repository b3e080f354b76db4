//! The HTTP server every fake runs on. A [`Vendor`] decides each request's [`Reply`]; the server
//! records every request that reached the vendor logic in order, so tests can assert exactly what
//! a vendor received.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the fake does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Closes the connection without an answer (the client sees a transport error).
    Drop,
    /// Never answers (the client's timeout fires).
    Hang,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::Respond {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Respond { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A vendor's behaviour. `base` is the server's own URL (for upload URLs it hands out).
pub trait Vendor: Send + Sync + 'static {
    fn handle(&self, request: &Received, base: &str) -> Reply;
}

/// Every request that reached the vendor, with the status it was answered.
type Log = Mutex<Vec<(Received, Option<u16>)>>;

/// A running fake; stops when dropped (its tasks end with the test's runtime).
pub struct FakeServer {
    addr: SocketAddr,
    log: Arc<Log>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Serves `vendor` on a free loopback port; call inside a tokio runtime.
    pub async fn start(vendor: Arc<dyn Vendor>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a fake");
        let addr = listener.local_addr().expect("local addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = format!("http://{addr}");
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let vendor = vendor.clone();
                let log = task_log.clone();
                let base = base.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let vendor = vendor.clone();
                        let log = log.clone();
                        let base = base.clone();
                        async move { serve_one(req, vendor.as_ref(), &log, &base).await }
                    });
                    // Errors are the point for dropped connections; nothing to report.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeServer { addr, log, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request that reached the vendor, with the status it was answered (`None`: dropped
    /// or hung), in arrival order.
    pub fn log(&self) -> Vec<(Received, Option<u16>)> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests the vendor answered with a 2xx status.
    pub fn accepted(&self) -> Vec<Received> {
        self.log()
            .into_iter()
            .filter(|(_, s)| s.is_some_and(|s| (200..300).contains(&s)))
            .map(|(r, _)| r)
            .collect()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Hyper closes the connection without a response when the service fails: that is a drop.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fake")
    }
}

impl std::error::Error for Dropped {}

async fn serve_one(
    req: Request<hyper::body::Incoming>,
    vendor: &dyn Vendor,
    log: &Log,
    base: &str,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Err(Dropped),
    };
    let received = Received {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let reply = vendor.handle(&received, base);
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((received, reply.status()));
    match reply {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder().status(status);
            for (n, v) in headers {
                response = response.header(n, v);
            }
            Ok(response
                .body(Full::new(Bytes::from(body)))
                .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
        }
        Reply::Drop => Err(Dropped),
        Reply::Hang => {
            let never: Infallible = std::future::pending().await;
            match never {}
        }
    }
}
