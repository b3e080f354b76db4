//! A Slack that behaves as documented (api.slack.com: incoming webhooks, chat.postMessage,
//! chat.update, files.getUploadURLExternal / files.completeUploadExternal):
//! - webhooks at `/services/T…/B…/<secret>` answer `200 ok`, or a 4xx with the error as text
//!   (`invalid_payload`, `no_text`, `invalid_blocks`, `no_service` for an unknown hook);
//! - the Web API at `/api/<method>` answers HTTP 200 with `{"ok": false, "error": …}` for
//!   `not_authed`, `invalid_auth`, `channel_not_found`, `message_not_found`, `thread_not_found`,
//!   `invalid_blocks`, `no_text`;
//! - Block Kit limits: at most 50 blocks, section text ≤ 3,000 characters, header ≤ 150,
//!   ≤ 10 fields of ≤ 2,000;
//! - `throttle_first(n)`: the first n posts to each channel get `429` with `Retry-After: 1`
//!   (deterministic, unlike a clock).
//!
//! Every message it accepted is in [`FakeSlack::messages`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

#[derive(Debug, Clone, PartialEq)]
pub struct SlackMessage {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Vec<Value>,
    /// `webhook`, `chat.postMessage`, `chat.update` (the latest content) or `file`.
    pub via: String,
    /// Times chat.update changed it.
    pub updates: u32,
}

#[derive(Default)]
struct Inner {
    messages: Vec<SlackMessage>,
    uploads: HashMap<String, (String, Option<Vec<u8>>)>,
    throttled: HashMap<String, u32>,
    next_ts: u64,
}

pub struct FakeSlack {
    /// webhook path → channel
    hooks: BTreeMap<String, String>,
    token: Option<String>,
    channels: Vec<String>,
    throttle_first: u32,
    inner: Mutex<Inner>,
}

impl Default for FakeSlack {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSlack {
    pub fn new() -> Self {
        Self {
            hooks: BTreeMap::new(),
            token: None,
            channels: Vec::new(),
            throttle_first: 0,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// An incoming webhook at `path` (`/services/T…/B…/…`) posting to `channel`.
    pub fn with_webhook(mut self, path: &str, channel: &str) -> Self {
        self.hooks.insert(path.to_owned(), channel.to_owned());
        self
    }

    pub fn with_bot(mut self, token: &str, channels: &[&str]) -> Self {
        self.token = Some(token.to_owned());
        self.channels = channels.iter().map(|c| c.to_string()).collect();
        self
    }

    pub fn throttle_first(mut self, n: u32) -> Self {
        self.throttle_first = n;
        self
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn messages(&self) -> Vec<SlackMessage> {
        self.inner().messages.clone()
    }

    /// Bytes of every completed upload, by file id.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.inner()
            .uploads
            .iter()
            .filter_map(|(id, (_, b))| b.clone().map(|b| (id.clone(), b)))
            .collect()
    }

    fn throttled(&self, channel: &str) -> bool {
        let mut inner = self.inner();
        let seen = inner.throttled.entry(channel.to_owned()).or_default();
        if *seen < self.throttle_first {
            *seen += 1;
            return true;
        }
        false
    }

    fn post(&self, channel: &str, thread_ts: Option<String>, body: &Value, via: &str) -> String {
        let mut inner = self.inner();
        inner.next_ts += 1;
        let ts = format!("1764300000.{:06}", inner.next_ts);
        inner.messages.push(SlackMessage {
            channel: channel.to_owned(),
            ts: ts.clone(),
            thread_ts,
            text: body["text"].as_str().unwrap_or_default().to_owned(),
            blocks: body["blocks"].as_array().cloned().unwrap_or_default(),
            via: via.to_owned(),
            updates: 0,
        });
        ts
    }

    fn webhook(&self, request: &Received, channel: &str) -> Reply {
        let Some(body) = request.json() else {
            return Reply::text(400, "invalid_payload");
        };
        if let Err(e) = check_content(&body) {
            return Reply::text(400, e);
        }
        if self.throttled(channel) {
            return Reply::text(429, "rate_limited").with_header("retry-after", "1");
        }
        self.post(channel, None, &body, "webhook");
        Reply::text(200, "ok")
    }

    fn api(&self, method: &str, request: &Received, base: &str) -> Reply {
        let ok = |v: Value| {
            let mut v = v;
            v["ok"] = json!(true);
            Reply::json(200, v)
        };
        let err = |e: &str| Reply::json(200, json!({"ok": false, "error": e}));
        match request.header("authorization") {
            None => return err("not_authed"),
            Some(auth) if Some(auth.trim_start_matches("Bearer ")) != self.token.as_deref() => {
                return err("invalid_auth");
            }
            Some(_) => {}
        }
        let body = if request
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&request.body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Value::Object(pairs)
        } else {
            match request.json() {
                Some(v) => v,
                None => return err("invalid_json"),
            }
        };
        match method {
            "chat.postMessage" => {
                let channel = body["channel"].as_str().unwrap_or_default();
                if !self.channels.iter().any(|c| c == channel) {
                    return err("channel_not_found");
                }
                if let Err(e) = check_content(&body) {
                    return err(e);
                }
                let thread = body["thread_ts"].as_str().map(str::to_owned);
                if let Some(t) = &thread
                    && !self
                        .inner()
                        .messages
                        .iter()
                        .any(|m| &m.ts == t && m.channel == channel)
                {
                    return err("thread_not_found");
                }
                if self.throttled(channel) {
                    return Reply::json(429, json!({"ok": false, "error": "ratelimited"}))
                        .with_header("retry-after", "1");
                }
                let ts = self.post(channel, thread, &body, "chat.postMessage");
                ok(json!({"channel": channel, "ts": ts, "message": {"text": body["text"]}}))
            }
            "chat.update" => {
                let (channel, ts) = (
                    body["channel"].as_str().unwrap_or_default(),
                    body["ts"].as_str().unwrap_or_default(),
                );
                if let Err(e) = check_content(&body) {
                    return err(e);
                }
                let mut inner = self.inner();
                let Some(m) = inner
                    .messages
                    .iter_mut()
                    .find(|m| m.channel == channel && m.ts == ts)
                else {
                    return err("message_not_found");
                };
                m.text = body["text"].as_str().unwrap_or_default().to_owned();
                m.blocks = body["blocks"].as_array().cloned().unwrap_or_default();
                m.updates += 1;
                ok(json!({"channel": channel, "ts": ts}))
            }
            "files.getUploadURLExternal" => {
                let (Some(name), Some(_)) = (body["filename"].as_str(), body["length"].as_str())
                else {
                    return err("invalid_arguments");
                };
                let mut inner = self.inner();
                let id = format!("F{:08}", inner.uploads.len() + 1);
                inner.uploads.insert(id.clone(), (name.to_owned(), None));
                ok(json!({"upload_url": format!("{base}/upload/v1/{id}"), "file_id": id}))
            }
            "files.completeUploadExternal" => {
                let Some(files) = body["files"].as_array() else {
                    return err("invalid_arguments");
                };
                let channel = body["channel_id"].as_str();
                if channel.is_some_and(|c| !self.channels.iter().any(|x| x == c)) {
                    return err("channel_not_found");
                }
                let mut inner = self.inner();
                for f in files {
                    let id = f["id"].as_str().unwrap_or_default();
                    if !inner.uploads.get(id).is_some_and(|(_, b)| b.is_some()) {
                        return err("file_not_found");
                    }
                }
                if let Some(channel) = channel {
                    inner.next_ts += 1;
                    let ts = format!("1764300000.{:06}", inner.next_ts);
                    inner.messages.push(SlackMessage {
                        channel: channel.to_owned(),
                        ts,
                        thread_ts: body["thread_ts"].as_str().map(str::to_owned),
                        text: String::new(),
                        blocks: Vec::new(),
                        via: "file".into(),
                        updates: 0,
                    });
                }
                ok(json!({"files": files}))
            }
            _ => err("unknown_method"),
        }
    }

    fn upload(&self, id: &str, request: &Received) -> Reply {
        let mut inner = self.inner();
        match inner.uploads.get_mut(id) {
            Some((_, bytes)) => {
                *bytes = Some(request.body.clone());
                Reply::text(200, &format!("OK - {}", request.body.len()))
            }
            None => Reply::text(404, "not found"),
        }
    }
}

/// Slack's payload rules: some text or blocks, and the Block Kit limits.
fn check_content(body: &Value) -> Result<(), &'static str> {
    let text = body["text"].as_str().unwrap_or_default();
    let blocks = body["blocks"].as_array();
    if text.trim().is_empty() && blocks.is_none_or(Vec::is_empty) {
        return Err("no_text");
    }
    let Some(blocks) = blocks else { return Ok(()) };
    if blocks.len() > 50 {
        return Err("invalid_blocks");
    }
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    for b in blocks {
        match b["type"].as_str() {
            Some("header") => {
                if b["text"]["type"] != "plain_text" || chars(&b["text"]["text"]) > 150 {
                    return Err("invalid_blocks");
                }
            }
            Some("section") => {
                if chars(&b["text"]["text"]) > 3000 {
                    return Err("invalid_blocks");
                }
                if let Some(fields) = b["fields"].as_array()
                    && (fields.len() > 10 || fields.iter().any(|f| chars(&f["text"]) > 2000))
                {
                    return Err("invalid_blocks");
                }
                if b.get("text").is_none() && b.get("fields").is_none() {
                    return Err("invalid_blocks");
                }
            }
            Some("context") => {
                if b["elements"]
                    .as_array()
                    .is_none_or(|e| e.is_empty() || e.len() > 10)
                {
                    return Err("invalid_blocks");
                }
            }
            Some("divider" | "actions" | "image") => {}
            _ => return Err("invalid_blocks"),
        }
    }
    Ok(())
}

impl Vendor for FakeSlack {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        if request.method != "POST" {
            return Reply::text(405, "method_not_allowed");
        }
        let path = request.path.split('?').next().unwrap_or_default();
        if let Some(channel) = self.hooks.get(path) {
            return self.webhook(request, channel);
        }
        if let Some(method) = path.strip_prefix("/api/") {
            return self.api(method, request, base);
        }
        if let Some(id) = path.strip_prefix("/upload/v1/") {
            return self.upload(id, request);
        }
        if path.starts_with("/services/") {
            return Reply::text(404, "no_service");
        }
        Reply::text(404, "not found")
    }
}
