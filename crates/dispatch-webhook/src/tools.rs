//! The payload for no-code tools (Zapier, IFTTT): the envelope's flat form ([`crate::flat`])
//! with every string escaped as plain text — a Zap or an Applet posts these fields into chats
//! and tickets — plus three fields made for mapping without code: `text` (the message as plain
//! lines: what a ticket description or a chat message shows), `link` (the first web link) and
//! `headline` (severity, state and title in one line).

use costwatch_core::Notification;
use costwatch_dispatch::RenderError;
use costwatch_dispatch::escape::plain;
use costwatch_dispatch::fit::{fit_items, fit_text, more_line};
use costwatch_dispatch::view::{View, is_web_url};
use serde_json::{Map, Value};

use crate::flat::flatten;

/// Rows of each table shown in `text`; the rest are counted.
const TEXT_ROWS: usize = 10;
/// Longest `text`, in characters.
pub const MAX_TEXT: usize = 4_000;

/// The flat, escaped fields of `n` for a no-code tool.
pub fn fields(n: &Notification) -> Result<Map<String, Value>, RenderError> {
    let envelope = serde_json::to_value(n)
        .map_err(|e| RenderError::Unsupported(format!("envelope JSON: {e}")))?;
    let mut out = flatten(&envelope, &plain);
    let view = View::of(n);
    out.insert("headline".into(), Value::String(headline(&view)));
    out.insert("text".into(), Value::String(text(&view)));
    out.insert(
        "link".into(),
        Value::String(first_link(&view).unwrap_or_default()),
    );
    Ok(out)
}

/// `[HIGH] open: Spend on EC2 is 210 % above normal`.
pub fn headline(view: &View) -> String {
    plain(&format!(
        "[{}] {}: {}",
        format!("{:?}", view.severity).to_uppercase(),
        format!("{:?}", view.state).to_lowercase(),
        view.title
    ))
}

/// The message as plain lines, within [`MAX_TEXT`] characters (shortened visibly).
pub fn text(view: &View) -> String {
    let mut lines = vec![view.title.clone(), view.summary.clone(), String::new()];
    lines.extend(view.facts.iter().map(|(k, v)| format!("{k}: {v}")));
    for table in &view.tables {
        lines.push(String::new());
        lines.push(format!("{} ({})", table.heading, table.headers.join(" | ")));
        let (shown, hidden) = fit_items(&table.rows, TEXT_ROWS);
        lines.extend(shown.iter().map(|row| format!("- {}", row.join(" | "))));
        lines.extend(more_line(hidden, &table.what, None));
    }
    if !view.links.is_empty() {
        lines.push(String::new());
        lines.extend(view.links.iter().map(|l| format!("{}: {}", l.label, l.url)));
    }
    lines.push(format!("Reference: {}", view.reference));
    fit_text(
        &plain(&lines.join("\n")),
        MAX_TEXT,
        first_link(view).as_deref(),
    )
}

pub fn first_link(view: &View) -> Option<String> {
    view.links
        .iter()
        .find(|l| is_web_url(&l.url))
        .map(|l| l.url.clone())
}
