//! The execute-webhook body: one embed for an envelope, one per envelope for a digest (up to
//! Discord's 10 and 6,000 characters, the rest summarised in a last embed), `allowed_mentions`
//! that parses nothing, and for a report with a chart the multipart form Discord documents:
//! `payload_json` plus `files[0]`, shown through `attachment://chart.png`.

use costwatch_core::Notification;
use costwatch_dispatch::escape::discord_markdown as md;
use costwatch_dispatch::fit::more_line;
use costwatch_dispatch::view::View;
use costwatch_dispatch::{Body, Message, Part, PartData};
use serde_json::{Value, json};

use crate::encoder::{embed_chars, fitted_embed, limits};

/// What the webhook posts as: a name people recognise in the channel.
pub const USERNAME: &str = "costwatch";

pub fn payload(message: Message<'_>) -> Value {
    let embeds = match message {
        Message::One(n) => vec![fitted_embed(&View::of(n), &created(n), limits::TOTAL)],
        Message::Digest(all) => digest_embeds(all),
    };
    json!({
        "username": USERNAME,
        "allowed_mentions": {"parse": []},
        "embeds": embeds,
    })
}

/// One compact embed per envelope while they fit; then one embed listing the rest.
fn digest_embeds(all: &[Notification]) -> Vec<Value> {
    // Room kept for the closing summary embed.
    const SUMMARY_ROOM: usize = 1_200;
    let mut embeds = Vec::new();
    let mut used = 0;
    let mut shown = 0;
    for n in all {
        if embeds.len() == limits::EMBEDS - 1 && shown + 1 < all.len() {
            break;
        }
        let mut view = View::of(n);
        view.tables.truncate(0);
        view.facts.truncate(3);
        let budget = (limits::TOTAL - SUMMARY_ROOM).saturating_sub(used).min(900);
        let e = fitted_embed(&view, &created(n), budget);
        let size = embed_chars(&e);
        if used + size > limits::TOTAL - SUMMARY_ROOM {
            break;
        }
        used += size;
        embeds.push(e);
        shown += 1;
    }
    let rest = &all[shown..];
    if !rest.is_empty() {
        let link = all
            .iter()
            .flat_map(|n| &n.links)
            .find(|l| costwatch_dispatch::view::is_web_url(&l.url));
        let mut lines = Vec::new();
        let mut len = 0;
        for n in rest {
            let line = format!("• {}", md(&n.title));
            if len + line.chars().count() + 200 > SUMMARY_ROOM {
                break;
            }
            len += line.chars().count() + 1;
            lines.push(line);
        }
        if let Some(more) = more_line(
            rest.len() - lines.len(),
            "notifications",
            link.map(|l| l.url.as_str()),
        ) {
            lines.push(md(&more));
        }
        embeds.push(json!({
            "title": format!("… and {} more", rest.len()),
            "description": lines.join("\n"),
            "color": 0x8A_8F_98,
        }));
    }
    embeds
}

/// The action row of an active anomaly (Acknowledge unless already, Snooze 24 h, Expected) or
/// of a budget alert not yet acknowledged (Acknowledge), each `custom_id`
/// `<action>:<subject id>` as the chat endpoint (crates/api `chat::discord`) reads it. `None`
/// for anything else, or once resolved.
pub fn buttons(n: &Notification) -> Option<Value> {
    use costwatch_core::chat_actions::{ACKNOWLEDGE, EXPECTED, SNOOZE_DAY, custom_id};
    use costwatch_core::{NotificationBody, State};
    let anomaly = matches!(n.body, NotificationBody::Anomaly(_));
    let budget = matches!(n.body, NotificationBody::Budget(_));
    if !(anomaly || budget) || n.state == State::Resolved {
        return None;
    }
    // Discord's button styles: 1 primary, 2 secondary.
    let button = |action: &str, label: &str, style: u8| {
        json!({"type": 2, "style": style, "label": label,
            "custom_id": custom_id(action, &n.subject_id)})
    };
    let mut row = Vec::new();
    if n.state != State::Acknowledged {
        row.push(button(ACKNOWLEDGE, "Acknowledge", 1));
    }
    if anomaly {
        row.push(button(SNOOZE_DAY, "Snooze 24 h", 2));
        row.push(button(EXPECTED, "Expected", 2));
    }
    (!row.is_empty()).then(|| json!({"type": 1, "components": row}))
}

/// A file to attach: name, content type, bytes.
pub type File = (&'static str, &'static str, Vec<u8>);

/// The body: JSON, or multipart (`payload_json`, then `files[0]`, `files[1]` …) when there are
/// files; the first file is shown as the first embed's image.
pub fn body(mut payload: Value, files: Vec<File>) -> Body {
    if files.is_empty() {
        return Body::Json(payload);
    }
    payload["attachments"] = Value::Array(
        files
            .iter()
            .enumerate()
            .map(|(i, (name, _, _))| json!({"id": i.to_string(), "filename": name}))
            .collect(),
    );
    if let Some(first) = payload["embeds"].get_mut(0) {
        first["image"] = json!({"url": format!("attachment://{}", files[0].0)});
    }
    let mut parts = vec![Part {
        name: "payload_json".into(),
        filename: None,
        content_type: "application/json".into(),
        data: PartData::Json(payload),
    }];
    parts.extend(
        files
            .into_iter()
            .enumerate()
            .map(|(i, (name, content_type, data))| Part {
                name: format!("files[{i}]"),
                filename: Some(name.into()),
                content_type: content_type.into(),
                data: PartData::Bytes(data),
            }),
    );
    Body::Multipart(parts)
}

fn created(n: &Notification) -> String {
    n.created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
