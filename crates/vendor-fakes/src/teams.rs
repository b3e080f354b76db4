//! A Teams Workflows webhook ("When a Teams webhook request is received" trigger) as Power
//! Automate behaves: the trigger URL carries the flow's id in the path and its signature in
//! `sig=`; a wrong signature is 401 `DirectApiAuthorizationRequired`, an unknown flow 404
//! `WorkflowNotFound`, a body that is not JSON 400 `InvalidRequestContent`; otherwise the
//! trigger answers 202 Accepted with an empty body, and the flow then posts the card — or fails
//! in its run history, which the sender never sees: a message that is not the
//! `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
//! "content":{…}}]}` wrapper, or over Teams' 28 KB, is recorded as a failed run, not a post.
//! `throttle(n, secs)` answers the next `n` requests 429 with `Retry-After`, as a throttled flow.

use std::sync::{Mutex, PoisonError};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

pub const FLOW_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const SIGNATURE: &str = "fake-workflow-signature";
/// Teams' message size limit.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;

#[derive(Default)]
pub struct TeamsWorkflow {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    throttle: Vec<u32>,
    posted: Vec<Value>,
    failed_runs: Vec<String>,
}

impl TeamsWorkflow {
    pub fn new() -> Self {
        Self::default()
    }

    /// The trigger URL of the fake flow, on `base` (the server's URL).
    pub fn webhook_url(base: &str) -> String {
        format!(
            "{base}/workflows/{FLOW_ID}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIGNATURE}"
        )
    }

    /// The next `n` requests get 429 with `Retry-After: secs`.
    pub fn throttle(&self, n: usize, secs: u32) {
        self.lock().throttle.extend(std::iter::repeat_n(secs, n));
    }

    /// The cards the flow posted, in order.
    pub fn posted(&self) -> Vec<Value> {
        self.lock().posted.clone()
    }

    /// Runs that were triggered but could not post, with the reason.
    pub fn failed_runs(&self) -> Vec<String> {
        self.lock().failed_runs.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, json!({"error": {"code": code, "message": message}}))
}

impl Vendor for TeamsWorkflow {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let url = match url::Url::parse(&format!("http://fake{}", request.path)) {
            Ok(u) => u,
            Err(_) => return error(400, "InvalidRequestPath", "The request path is invalid."),
        };
        let segments: Vec<&str> = url
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        let ["workflows", flow, "triggers", "manual", "paths", "invoke"] = segments.as_slice()
        else {
            return error(404, "WorkflowNotFound", "The workflow could not be found.");
        };
        if *flow != FLOW_ID {
            return error(404, "WorkflowNotFound", "The workflow could not be found.");
        }
        let sig = url
            .query_pairs()
            .find(|(k, _)| k == "sig")
            .map(|(_, v)| v.into_owned());
        if sig.as_deref() != Some(SIGNATURE) {
            return error(
                401,
                "DirectApiAuthorizationRequired",
                "The request must be authenticated only by Shared Access scheme.",
            );
        }
        if request.method != "POST" {
            return error(405, "UnsupportedHttpMethod", "The trigger accepts POST.");
        }
        let mut state = self.lock();
        if !state.throttle.is_empty() {
            let secs = state.throttle.remove(0);
            return error(429, "WorkflowRequestsThrottled", "Rate limit is exceeded.")
                .with_header("retry-after", &secs.to_string());
        }
        let Some(body) = request.json() else {
            return error(
                400,
                "InvalidRequestContent",
                "The request content is not valid JSON.",
            );
        };
        match card_of(&body, request.body.len()) {
            Ok(card) => state.posted.push(card),
            Err(why) => state.failed_runs.push(why),
        }
        Reply::Respond {
            status: 202,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// The Adaptive Card the flow's "Post card" action would post, or why its run fails.
fn card_of(body: &Value, size: usize) -> Result<Value, String> {
    if size > MAX_MESSAGE_BYTES {
        return Err(format!(
            "message is {size} bytes, over Teams' {MAX_MESSAGE_BYTES}"
        ));
    }
    if body["type"] != "message" {
        return Err("body is not a message (type must be \"message\")".into());
    }
    let attachments = body["attachments"].as_array().ok_or("no attachments")?;
    let [attachment] = attachments.as_slice() else {
        return Err(format!(
            "{} attachments; the flow posts one card",
            attachments.len()
        ));
    };
    if attachment["contentType"] != "application/vnd.microsoft.card.adaptive" {
        return Err("attachment is not an Adaptive Card".into());
    }
    let card = &attachment["content"];
    if card["type"] != "AdaptiveCard" {
        return Err("content is not an AdaptiveCard".into());
    }
    Ok(card.clone())
}
