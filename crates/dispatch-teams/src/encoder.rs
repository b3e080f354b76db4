//! Envelope → the Workflows webhook request: an Adaptive Card 1.5 in the message wrapper the
//! "When a Teams webhook request is received" trigger expects. Cards above Teams' 28 KB message
//! limit are adapted: tables shrink to their first rows with a visible "… and N more" line and a
//! link to the details, long texts are shortened with a note; nothing is cut silently.

use costwatch_core::notification::{Severity, State};
use costwatch_dispatch::escape::plain;
use costwatch_dispatch::fit::{fit_text, more_line};
use costwatch_dispatch::view::{Table, View, is_web_url};
use costwatch_dispatch::{Message, RenderError, Text, VendorRequest};
use serde_json::{Value, json};

use crate::card;

/// Teams refuses messages above 28 KB (the whole request body).
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
const CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// Longest title, summary and cell we show before shortening (characters).
const MAX_TITLE: usize = 300;
const MAX_SUMMARY: usize = 2_000;
const MAX_CELL: usize = 300;
/// Row budgets tried in turn until the message fits.
const ROW_STEPS: [usize; 7] = [usize::MAX, 50, 20, 10, 5, 2, 0];

pub fn view_of(message: Message<'_>) -> View {
    match message {
        Message::One(n) => View::of(n),
        Message::Digest(all) => View::digest(all),
    }
}

/// The request for `view` to the webhook `url`.
pub fn request(url: Text, view: &View) -> Result<VendorRequest, RenderError> {
    let body = message_body(view)?;
    Ok(VendorRequest::post_json("webhook", url, body))
}

/// The wrapper with the largest card that fits in [`MAX_MESSAGE_BYTES`].
pub fn message_body(view: &View) -> Result<Value, RenderError> {
    for rows in ROW_STEPS {
        let body = wrap(adaptive_card(view, rows));
        if serde_json::to_vec(&body).map_or(usize::MAX, |b| b.len()) <= MAX_MESSAGE_BYTES {
            return Ok(body);
        }
    }
    Err(RenderError::Unsupported(format!(
        "the Teams card for {} does not fit in {MAX_MESSAGE_BYTES} bytes even without tables",
        view.reference
    )))
}

pub fn wrap(card: Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": null, "content": card}],
    })
}

/// The card, each table cut to `max_rows` rows.
pub fn adaptive_card(view: &View, max_rows: usize) -> Value {
    let link = view.details_link().map(|l| l.url.as_str());
    let mut body = vec![json!({
        "type": "Container",
        "style": style(view.severity, view.state),
        "bleed": true,
        "items": [
            card::heading(&plain(&fit_text(&view.title, MAX_TITLE, None))),
            card::subtle(&format!("costwatch · {} · severity {}", view.kind, severity_word(view.severity))),
        ],
    })];
    body.push(card::plain(&plain(&fit_text(
        &view.summary,
        MAX_SUMMARY,
        link,
    ))));
    if !view.facts.is_empty() {
        let rows: Vec<Vec<String>> = view
            .facts
            .iter()
            .map(|(k, v)| vec![plain(k), plain(&fit_text(v, MAX_CELL, None))])
            .collect();
        body.push(card::facts(&rows));
    }
    for table in &view.tables {
        body.extend(table_elements(table, max_rows, link));
    }
    body.push(card::subtle(&format!(
        "Reference: {}",
        plain(&view.reference)
    )));
    let actions: Vec<Value> = view
        .links
        .iter()
        .filter(|l| is_web_url(&l.url))
        .take(5)
        .map(|l| json!({"type": "Action.OpenUrl", "title": plain(&fit_text(&l.label, 60, None)), "url": l.url}))
        .collect();
    let mut card = json!({
        "type": "AdaptiveCard",
        "$schema": card::SCHEMA_URL,
        "version": card::VERSION,
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    card
}

fn table_elements(table: &Table, max_rows: usize, link: Option<&str>) -> Vec<Value> {
    let shown = table.rows.len().min(max_rows);
    let mut out = vec![card::section_heading(&table.heading)];
    if shown > 0 {
        let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = table.rows[..shown]
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| plain(&fit_text(c, MAX_CELL, None)))
                    .collect()
            })
            .collect();
        out.push(card::table(&headers, &rows));
    }
    if let Some(line) = more_line(table.rows.len() - shown, &table.what, link) {
        out.push(card::plain(&line));
    }
    out
}

fn style(severity: Severity, state: State) -> &'static str {
    if state == State::Resolved {
        return "good";
    }
    match severity {
        Severity::Critical | Severity::High => "attention",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "emphasis",
    }
}

fn severity_word(s: Severity) -> &'static str {
    costwatch_dispatch::view::severity_word(s)
}
