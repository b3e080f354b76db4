//! Pure render: envelope (or digest) → its [`View`] → the Slack requests that deliver it.
//! - webhook destination: one POST of `{text, blocks}` to the webhook URL;
//! - bot destination: `chat.postMessage`; for a later state of a subject already posted
//!   (the memo holds its channel and `ts`), `chat.update` of the original message followed by a
//!   reply in its thread; for a report with a chart, the file upload
//!   (`files.getUploadURLExternal` → upload → `files.completeUploadExternal`) into the message's
//!   thread.

use costwatch_core::{Notification, NotificationBody, State};
use costwatch_dispatch::chart::report_svg;
use costwatch_dispatch::view::View;
use costwatch_dispatch::{
    Body, Message, RenderContext, RenderError, Text, VendorRequest, from_step,
};
use serde_json::{Value, json};

use crate::blocks;
use crate::config::{Destination, SlackConfig};

/// What a bot delivery leaves behind for later states: where the first message is.
pub fn memo(channel: &str, ts: &str) -> Value {
    json!({"channel": channel, "ts": ts})
}

pub fn render(
    config: &SlackConfig,
    destination: &str,
    message: Message<'_>,
    context: &RenderContext,
) -> Result<Vec<VendorRequest>, RenderError> {
    let dest = costwatch_dispatch::destination(&config.destinations, destination)?;
    let view = match message {
        Message::One(n) => View::of(n),
        Message::Digest(all) => View::digest(all),
    };
    let (text, mut blocks) = (blocks::fallback_text(&view), blocks::blocks(&view));
    if let Message::One(n) = message
        && config.interactive
    {
        blocks::add_actions(&mut blocks, n);
    }
    match dest {
        Destination {
            webhook_url: Some(url),
            ..
        } => Ok(vec![VendorRequest::post_json(
            "webhook",
            Text::secret(url.expose()?),
            json!({"text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false}),
        )]),
        Destination {
            channel: Some(channel),
            ..
        } => bot(config, channel, message, context, text, blocks),
        _ => Err(RenderError::Unsupported(format!(
            "destination `{destination}` has neither webhook_url nor channel"
        ))),
    }
}

fn api(config: &SlackConfig, method: &str, body: Body) -> Result<VendorRequest, RenderError> {
    let token = config
        .bot_token
        .as_ref()
        .ok_or_else(|| RenderError::Unsupported("a channel destination needs bot_token".into()))?;
    Ok(VendorRequest {
        step: method.to_owned(),
        method: costwatch_dispatch::Method::Post,
        url: Text::Plain(format!(
            "{}/{method}",
            config.api_base.trim_end_matches('/')
        )),
        headers: vec![(
            "authorization".into(),
            Text::secret(&format!("Bearer {}", token.expose()?)),
        )],
        body,
        repeat: costwatch_dispatch::Repeat::InPlace,
    })
}

fn bot(
    config: &SlackConfig,
    channel: &str,
    message: Message<'_>,
    context: &RenderContext,
    text: String,
    blocks: Vec<Value>,
) -> Result<Vec<VendorRequest>, RenderError> {
    // A later state of something already posted: update the original, then say what changed in
    // its thread (the update alone would notify nobody).
    if let (Message::One(n), Some(memo)) = (message, &context.memo)
        && let (Some(ch), Some(ts)) = (memo["channel"].as_str(), memo["ts"].as_str())
        && n.revision > 0
    {
        let update = api(
            config,
            "chat.update",
            Body::Json(json!({"channel": ch, "ts": ts, "text": text, "blocks": blocks})),
        )?;
        let reply = api(
            config,
            "chat.postMessage",
            Body::Json(json!({
                "channel": ch,
                "thread_ts": ts,
                "text": text,
                "blocks": [blocks::section(&state_line(n), None)],
                // A resolution is news for the whole channel; an ongoing update is not.
                "reply_broadcast": n.state == State::Resolved,
                "unfurl_links": false,
            })),
        )?;
        return Ok(vec![update, reply]);
    }
    let mut requests = vec![api(
        config,
        "chat.postMessage",
        Body::Json(
            json!({"channel": channel, "text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false}),
        ),
    )?];
    if let Message::One(n) = message
        && config.upload_report_chart
        && let NotificationBody::Report(report) = &n.body
        && let Some(svg) = report_svg(report, &n.currency)
    {
        requests.extend(upload(config, n, svg)?);
    }
    Ok(requests)
}

fn state_line(n: &Notification) -> String {
    let state = match n.state {
        State::Open => "Open",
        State::Ongoing => "Still ongoing",
        State::Acknowledged => "Acknowledged",
        State::Resolved => "Resolved",
    };
    format!(
        "*{state}* · {}",
        costwatch_dispatch::escape::slack_mrkdwn(&n.summary)
    )
}

/// The three steps of Slack's external upload, into the thread of step 0's message.
fn upload(
    config: &SlackConfig,
    n: &Notification,
    svg: String,
) -> Result<Vec<VendorRequest>, RenderError> {
    let filename = format!("costwatch-report-{}.svg", n.subject_id);
    let get_url = api(
        config,
        "files.getUploadURLExternal",
        Body::Form(vec![
            ("filename".into(), filename.clone()),
            ("length".into(), svg.len().to_string()),
        ]),
    )?;
    let send = VendorRequest {
        step: "upload".into(),
        method: costwatch_dispatch::Method::Post,
        url: Text::Plain(from_step(1, "/upload_url")),
        headers: Vec::new(),
        body: Body::Bytes {
            content_type: "image/svg+xml".into(),
            data: svg.into_bytes(),
        },
        repeat: costwatch_dispatch::Repeat::InPlace,
    };
    let complete = api(
        config,
        "files.completeUploadExternal",
        Body::Json(json!({
            "files": [{"id": from_step(1, "/file_id"), "title": "Top services"}],
            "channel_id": from_step(0, "/channel"),
            "thread_ts": from_step(0, "/ts"),
        })),
    )?;
    Ok(vec![get_url, send, complete])
}
