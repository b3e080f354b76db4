//! A Discord channel webhook as the execute-webhook endpoint behaves
//! (`POST /api/webhooks/{id}/{token}`): an unknown id is 404 `{"code": 10015, "message":
//! "Unknown Webhook"}`, a wrong token 401 `50027 Invalid Webhook Token`; JSON or
//! `multipart/form-data` (`payload_json` + `files[n]`) bodies; embed limits (10 embeds, 6,000
//! characters in total, title 256, description 4,096, 25 fields, name 256 / value 1,024, footer
//! 2,048) enforced with 400 `50035 Invalid Form Body`; `?wait=true` answers 200 with the
//! message, otherwise 204. Every answer carries the bucket headers (`X-RateLimit-Limit`,
//! `-Remaining`, `-Reset-After`, `-Bucket`); a request to an empty bucket gets 429 with
//! `retry_after` in the body and `Retry-After`. The bucket refills `reset_after` after its first
//! request, on the clock, as Discord's does.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

pub const WEBHOOK_ID: &str = "123456789012345678";
pub const TOKEN: &str = "fake-webhook-token";

pub struct DiscordWebhook {
    limit: u32,
    reset_after: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    window_start: Option<Instant>,
    used: u32,
    throttled: u32,
    posted: Vec<Posted>,
    next_id: u64,
}

/// A message the webhook created.
#[derive(Debug, Clone)]
pub struct Posted {
    pub payload: Value,
    /// `(field name, filename, bytes)` of each uploaded file.
    pub files: Vec<(String, String, Vec<u8>)>,
    pub query: String,
}

impl DiscordWebhook {
    /// A bucket of `limit` requests per `reset_after` (Discord's webhooks: 5 per 2 s).
    pub fn new(limit: u32, reset_after: Duration) -> Self {
        Self {
            limit,
            reset_after,
            state: Mutex::default(),
        }
    }

    pub fn webhook_url(base: &str) -> String {
        format!("{base}/api/webhooks/{WEBHOOK_ID}/{TOKEN}")
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.lock().posted.clone()
    }

    /// Requests answered 429 because the bucket was empty.
    pub fn throttled(&self) -> u32 {
        self.lock().throttled
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(status, json!({"code": code, "message": message}))
}

impl Vendor for DiscordWebhook {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (id, token) = match segments.as_slice() {
            ["api", "webhooks", id, token] | ["api", _, "webhooks", id, token] => (*id, *token),
            _ => return error(404, 0, "404: Not Found"),
        };
        if id != WEBHOOK_ID {
            return error(404, 10015, "Unknown Webhook");
        }
        if token != TOKEN {
            return error(401, 50027, "Invalid Webhook Token");
        }
        let mut state = self.lock();
        let now = Instant::now();
        let start = *state.window_start.get_or_insert(now);
        if now.duration_since(start) >= self.reset_after {
            state.window_start = Some(now);
            state.used = 0;
        }
        let left_for = |state: &State| {
            let start = state.window_start.unwrap_or(now);
            self.reset_after
                .saturating_sub(now.duration_since(start))
                .as_secs_f64()
        };
        if state.used >= self.limit {
            state.throttled += 1;
            let wait = left_for(&state);
            return with_bucket(
                Reply::json(429, json!({"message": "You are being rate limited.", "retry_after": wait, "global": false})),
                self.limit,
                0,
                wait,
            )
            .with_header("retry-after", &format!("{}", wait.ceil() as u64));
        }
        state.used += 1;
        let remaining = self.limit - state.used;
        let wait = left_for(&state);
        let bucket = |reply| with_bucket(reply, self.limit, remaining, wait);
        let (payload, files) = match parse_body(request) {
            Ok(parsed) => parsed,
            Err(why) => {
                return bucket(Reply::json(
                    400,
                    json!({"code": 50035, "message": "Invalid Form Body", "errors": why}),
                ));
            }
        };
        if let Err(why) = check_limits(&payload) {
            return bucket(Reply::json(
                400,
                json!({"code": 50035, "message": "Invalid Form Body", "errors": why}),
            ));
        }
        state.next_id += 1;
        let message = json!({
            "id": (1_300_000_000_000_000_000u64 + state.next_id).to_string(),
            "type": 0,
            "channel_id": "111111111111111111",
            "webhook_id": WEBHOOK_ID,
            "content": payload.get("content").cloned().unwrap_or(json!("")),
            "embeds": payload.get("embeds").cloned().unwrap_or(json!([])),
            "attachments": files.iter().enumerate().map(|(i, (_, name, bytes))| json!({"id": i.to_string(), "filename": name, "size": bytes.len()})).collect::<Vec<_>>(),
        });
        state.posted.push(Posted {
            payload,
            files,
            query: query.to_owned(),
        });
        let wait_flag = query.split('&').any(|kv| kv == "wait=true");
        bucket(if wait_flag {
            Reply::json(200, message)
        } else {
            Reply::Respond {
                status: 204,
                headers: Vec::new(),
                body: Vec::new(),
            }
        })
    }
}

fn with_bucket(reply: Reply, limit: u32, remaining: u32, reset_after: f64) -> Reply {
    reply
        .with_header("x-ratelimit-limit", &limit.to_string())
        .with_header("x-ratelimit-remaining", &remaining.to_string())
        .with_header("x-ratelimit-reset-after", &format!("{reset_after:.3}"))
        .with_header("x-ratelimit-bucket", "fake-webhook-bucket")
}

type Files = Vec<(String, String, Vec<u8>)>;

fn parse_body(request: &Received) -> Result<(Value, Files), Value> {
    let content_type = request.header("content-type").unwrap_or_default();
    if content_type.starts_with("application/json") {
        let payload = request
            .json()
            .ok_or_else(|| json!({"_errors": [{"code": "JSON_INVALID"}]}))?;
        return Ok((payload, Vec::new()));
    }
    let Some(boundary) = content_type.strip_prefix("multipart/form-data; boundary=") else {
        return Err(
            json!({"_errors": [{"code": "CONTENT_TYPE_INVALID", "message": content_type}]}),
        );
    };
    let mut payload = None;
    let mut files = Vec::new();
    for part in multipart(&request.body, boundary.trim_matches('"')) {
        let (headers, data) = part;
        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or_default();
        let name = attribute(disposition, "name").unwrap_or_default();
        if name == "payload_json" {
            payload = serde_json::from_slice(&data).ok();
        } else if name.starts_with("files[") {
            files.push((
                name,
                attribute(disposition, "filename").unwrap_or_default(),
                data,
            ));
        }
    }
    let payload: Value =
        payload.ok_or_else(|| json!({"payload_json": {"_errors": [{"code": "JSON_INVALID"}]}}))?;
    // Every attachment the payload declares must be uploaded as files[id].
    for a in payload["attachments"].as_array().into_iter().flatten() {
        let id = a["id"].as_str().unwrap_or_default();
        if !files.iter().any(|(n, _, _)| *n == format!("files[{id}]")) {
            return Err(
                json!({"attachments": {"_errors": [{"code": "ATTACHMENT_NOT_FOUND", "id": id}]}}),
            );
        }
    }
    Ok((payload, files))
}

/// `(part headers, part body)` of a multipart body.
fn multipart(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let Some(end) = find(rest, format!("\r\n{delimiter}").as_bytes()) else {
            break;
        };
        let part = &rest[..end];
        if let Some(split) = find(part, b"\r\n\r\n") {
            parts.push((
                String::from_utf8_lossy(&part[..split]).into_owned(),
                part[split + 4..].to_vec(),
            ));
        }
        rest = &rest[end + 2..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn attribute(header: &str, name: &str) -> Option<String> {
    header.split(';').map(str::trim).find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.trim_matches('"').to_owned())
    })
}

/// Discord's documented message limits; the first one broken, as Discord names it.
fn check_limits(payload: &Value) -> Result<(), Value> {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let too_long = |path: String, max: usize| {
        Err(
            json!({path: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": format!("Must be {max} or fewer in length.")}]}}),
        )
    };
    if len(&payload["content"]) > 2_000 {
        return too_long("content".into(), 2_000);
    }
    let embeds = payload["embeds"].as_array().cloned().unwrap_or_default();
    if embeds.len() > 10 {
        return too_long("embeds".into(), 10);
    }
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        for (key, max) in [("title", 256), ("description", 4_096)] {
            if len(&e[key]) > max {
                return too_long(format!("embeds.{i}.{key}"), max);
            }
            total += len(&e[key]);
        }
        if len(&e["footer"]["text"]) > 2_048 {
            return too_long(format!("embeds.{i}.footer.text"), 2_048);
        }
        total += len(&e["footer"]["text"]) + len(&e["author"]["name"]);
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            return too_long(format!("embeds.{i}.fields"), 25);
        }
        for (j, f) in fields.iter().enumerate() {
            for (key, max) in [("name", 256), ("value", 1_024)] {
                if len(&f[key]) > max || len(&f[key]) == 0 {
                    return too_long(format!("embeds.{i}.fields.{j}.{key}"), max);
                }
                total += len(&f[key]);
            }
        }
    }
    if total > 6_000 {
        return Err(
            json!({"embeds": {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]}}),
        );
    }
    Ok(())
}
