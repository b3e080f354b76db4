//! Vendors the suite puts in front of (or instead of) an integration's fake: one that refuses
//! every request, one that stops answering at a chosen request so a dispatch can "crash" there.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use costwatch_vendor_fakes::server::{Received, Reply, Vendor};
use serde_json::json;
use tokio::sync::Notify;

/// Answers every request with `status` and a vendor-like error body (which, as real vendors',
/// does not echo the request).
pub struct Refuse(pub u16);

impl Vendor for Refuse {
    fn handle(&self, _request: &Received, _base: &str) -> Reply {
        let message = match self.0 {
            401 => "invalid credentials",
            403 => "forbidden",
            404 => "unknown webhook or channel",
            _ => "refused",
        };
        Reply::json(self.0, json!({"error": message, "code": self.0}))
    }
}

/// Refuses for good (HTTP 400, as a vendor refuses a payload it cannot take) every request that
/// names one of `ids` (numbered `{prefix}-NNNNN`, see [`crate::envelopes::ids_in`]); passes the
/// rest to `inner`.
pub struct Reject {
    pub inner: Arc<dyn Vendor>,
    pub prefix: &'static str,
    pub ids: std::collections::BTreeSet<String>,
}

impl Vendor for Reject {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        let named = crate::envelopes::ids_in(&request.text(), self.prefix);
        if named.iter().any(|id| self.ids.contains(id)) {
            return Reply::json(400, json!({"error": "invalid payload", "code": 400}));
        }
        self.inner.handle(request, base)
    }
}

/// Where [`Crash`] stops the dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The request reached the server but not the vendor (it was never processed).
    BeforeVendor,
    /// The vendor accepted the request; its answer never leaves (the invocation died waiting).
    AfterVendor,
}

/// Passes every request to `inner` and keeps those it accepted (answered 2xx) — what the vendor
/// did, whether or not its answer then reached the client.
pub struct Recorder {
    inner: Arc<dyn Vendor>,
    accepted: Mutex<Vec<Received>>,
}

impl Recorder {
    pub fn new(inner: Arc<dyn Vendor>) -> Self {
        Self {
            inner,
            accepted: Mutex::default(),
        }
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Vendor for Recorder {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        let reply = self.inner.handle(request, base);
        if reply.status().is_some_and(|s| (200..300).contains(&s)) {
            self.accepted
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(request.clone());
        }
        reply
    }
}

/// Passes requests to `inner`, except request number `at` (1-based), which it leaves hanging —
/// after or before `inner` handled it — and signals `crashed`. Every later request goes through.
pub struct Crash {
    inner: Arc<dyn Vendor>,
    at: usize,
    point: CrashPoint,
    seen: AtomicUsize,
    pub crashed: Arc<Notify>,
}

impl Crash {
    pub fn new(inner: Arc<dyn Vendor>, at: usize, point: CrashPoint) -> Self {
        Self {
            inner,
            at,
            point,
            seen: AtomicUsize::new(0),
            crashed: Arc::new(Notify::new()),
        }
    }
}

impl Vendor for Crash {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.at {
            return self.inner.handle(request, base);
        }
        if self.point == CrashPoint::AfterVendor {
            // The vendor acts on it; the answer is lost.
            let _ = self.inner.handle(request, base);
        }
        self.crashed.notify_one();
        Reply::Hang
    }
}
