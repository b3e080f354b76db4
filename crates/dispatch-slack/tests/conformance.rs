//! The shared conformance suite (costwatch-dispatch-kit) on Slack, once per mode: an incoming
//! webhook, and a bot token posting with chat.postMessage. Slack publishes no usable schema, so
//! `validate` checks what api.slack.com documents: a message has text or blocks; at most 50
//! blocks of known types; a header's plain_text ≤ 150 characters; a section's text ≤ 3,000,
//! ≤ 10 fields of ≤ 2,000 and text or fields; a context's 1–10 elements; text objects of 1–3,000
//! characters (`emoji` only on plain_text); `block_id` ≤ 255; the top-level text ≤ 40,000; and
//! each Web API method's required arguments.

use std::sync::Arc;

use costwatch_dispatch::{Body, Method, VendorRequest, entry};
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_dispatch_slack::Slack;
use costwatch_vendor_fakes::slack::FakeSlack;
use serde_json::{Value, json};

const HOOK: &str = "/services/T0CONFORM/B0CONFORM/c0nformanceH00kSecret";
const TOKEN: &str = "xoxb-2048-4096-c0nformanceB0tSecret";

fn webhook() -> Conformance {
    Conformance {
        entry: entry::<Slack>(),
        config: json!({"destinations": {"finops": {"webhook_url": format!("https://hooks.slack.com{HOOK}")}}}),
        destination: "finops",
        secrets: &["c0nformanceH00kSecret"],
        max_body_bytes: MAX_BODY,
        validate,
        fake: || Arc::new(FakeSlack::new().with_webhook(HOOK, "C0FINOPS")),
    }
}

fn bot() -> Conformance {
    Conformance {
        entry: entry::<Slack>(),
        config: json!({"bot_token": TOKEN, "destinations": {"ops": {"channel": "C0OPS"}}}),
        destination: "ops",
        secrets: &["c0nformanceB0tSecret"],
        max_body_bytes: MAX_BODY,
        validate,
        fake: || Arc::new(FakeSlack::new().with_bot(TOKEN, &["C0OPS"])),
    }
}

/// Slack documents no request size limit for messages (its block limits bound them far below
/// this); 1 MiB catches a runaway body, the report chart's SVG upload included.
const MAX_BODY: usize = 1024 * 1024;

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn text_object(t: &Value, at: &str) -> Result<(), String> {
    match t["type"].as_str() {
        Some("plain_text") => {}
        Some("mrkdwn") if t.get("emoji").is_none() => {}
        _ => {
            return Err(format!(
                "{at}: not a plain_text or mrkdwn text object (emoji only on plain_text)"
            ));
        }
    }
    match chars(&t["text"]) {
        1..=3000 => Ok(()),
        n => Err(format!("{at}: text of {n} characters, not 1–3,000")),
    }
}

fn block(b: &Value, at: &str) -> Result<(), String> {
    if chars(&b["block_id"]) > 255 {
        return Err(format!("{at}: block_id over 255 characters"));
    }
    match b["type"].as_str().unwrap_or_default() {
        "header" => {
            if b["text"]["type"] != "plain_text" || chars(&b["text"]["text"]) > 150 {
                return Err(format!("{at}: a header is plain_text of ≤ 150 characters"));
            }
            text_object(&b["text"], at)
        }
        "section" => {
            let fields = b["fields"].as_array();
            if b.get("text").is_none() && fields.is_none() {
                return Err(format!("{at}: a section needs text or fields"));
            }
            if b.get("text").is_some() {
                text_object(&b["text"], at)?;
            }
            let fields = fields.map_or(&[][..], Vec::as_slice);
            if fields.len() > 10 {
                return Err(format!("{at}: {} fields, over 10", fields.len()));
            }
            for (i, f) in fields.iter().enumerate() {
                text_object(f, &format!("{at}.fields[{i}]"))?;
                if chars(&f["text"]) > 2000 {
                    return Err(format!("{at}.fields[{i}]: over 2,000 characters"));
                }
            }
            Ok(())
        }
        "context" => {
            let elements = b["elements"].as_array().map_or(&[][..], Vec::as_slice);
            if elements.is_empty() || elements.len() > 10 {
                return Err(format!("{at}: a context has 1–10 elements"));
            }
            for (i, e) in elements.iter().enumerate() {
                if e["type"] != "image" {
                    text_object(e, &format!("{at}.elements[{i}]"))?;
                }
            }
            Ok(())
        }
        "divider" => Ok(()),
        "image"
            if chars(&b["image_url"]) <= 3000 && (1..=2000).contains(&chars(&b["alt_text"])) =>
        {
            Ok(())
        }
        "actions"
            if b["elements"]
                .as_array()
                .is_some_and(|e| (1..=25).contains(&e.len())) =>
        {
            Ok(())
        }
        other => Err(format!("{at}: block type {other:?} or its contents")),
    }
}

/// A message (webhook, chat.postMessage, chat.update): text or blocks, within Block Kit.
fn message(body: &Value) -> Result<(), String> {
    let blocks = body["blocks"].as_array();
    if chars(&body["text"]) == 0 && blocks.is_none_or(Vec::is_empty) {
        return Err("no_text: a message needs text or blocks".into());
    }
    if chars(&body["text"]) > 40_000 {
        return Err("text over 40,000 characters".into());
    }
    let blocks = blocks.map_or(&[][..], Vec::as_slice);
    if blocks.len() > 50 {
        return Err(format!("{} blocks, over 50", blocks.len()));
    }
    for (i, b) in blocks.iter().enumerate() {
        block(b, &format!("blocks[{i}]"))?;
    }
    Ok(())
}

fn validate(request: &VendorRequest) -> Result<(), String> {
    if request.method != Method::Post {
        return Err("Slack takes POSTs".into());
    }
    let url = request.url.expose();
    let is_api = |method: &str| url.ends_with(&format!("/api/{method}"));
    let required = |body: &Value, keys: &[&str]| match keys.iter().find(|k| chars(&body[**k]) == 0)
    {
        Some(k) => Err(format!("{}: `{k}` is required", request.step)),
        None => Ok(()),
    };
    match (request.step.as_str(), &request.body) {
        ("webhook", Body::Json(body)) if url.contains("/services/") => message(body),
        ("chat.postMessage", Body::Json(body)) if is_api("chat.postMessage") => {
            required(body, &["channel"])?;
            message(body)
        }
        ("chat.update", Body::Json(body)) if is_api("chat.update") => {
            required(body, &["channel", "ts"])?;
            message(body)
        }
        ("files.getUploadURLExternal", Body::Form(pairs))
            if is_api("files.getUploadURLExternal") =>
        {
            let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            match (
                get("filename"),
                get("length").and_then(|l| l.parse::<u64>().ok()),
            ) {
                (Some(name), Some(_)) if !name.is_empty() => Ok(()),
                _ => Err("files.getUploadURLExternal needs filename and a numeric length".into()),
            }
        }
        ("upload", Body::Bytes { data, .. }) if !data.is_empty() => Ok(()),
        ("files.completeUploadExternal", Body::Json(body))
            if is_api("files.completeUploadExternal") =>
        {
            match body["files"].as_array() {
                Some(files) if !files.is_empty() && files.iter().all(|f| chars(&f["id"]) > 0) => {
                    Ok(())
                }
                _ => Err("files.completeUploadExternal needs files with ids".into()),
            }
        }
        (step, _) => Err(format!(
            "step `{step}` is not a Slack call this URL and body make"
        )),
    }
}

conformance_tests!(webhook => webhook, bot => bot);
