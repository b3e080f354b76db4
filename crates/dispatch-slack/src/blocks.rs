//! Block Kit from the shared [`View`], as Teams and Discord lay it out in theirs: a header (the
//! title), the summary, the facts as section fields, each table as a section (its heading, its
//! column headers, a line per row and "… and N more" for the rest), the links and a context line
//! (severity, state, kind, reference). User-controlled strings go into `plain_text` objects where
//! Block Kit allows them (header, context) and through `escape::slack_mrkdwn` everywhere else;
//! every text is fitted to Slack's limits with a visible note, and a message never has more than
//! 50 blocks.

use costwatch_dispatch::escape::{plain, slack_mrkdwn as md, slack_plain};
use costwatch_dispatch::fit::{fit_text, more_line};
use costwatch_dispatch::view::{Table, View, severity_word};
use serde_json::{Value, json};

/// Slack's documented limits.
pub const MAX_BLOCKS: usize = 50;
pub const SECTION_TEXT: usize = 3000;
pub const HEADER_TEXT: usize = 150;
pub const FIELD_TEXT: usize = 2000;
pub const MAX_FIELDS: usize = 10;
/// The top-level `text` (the notification and accessibility fallback); Slack truncates at 40,000.
pub const FALLBACK_TEXT: usize = 4000;
/// Rows of a table shown in one message's section; the rest are "… and N more".
pub const TABLE_ROWS: usize = 10;
/// Longest table cell shown before it is shortened (characters).
const MAX_CELL: usize = 300;
/// Room kept in a table's section for its "… and N more" line.
const MORE_ROOM: usize = 200;

pub fn header(text: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": fit_text(&slack_plain(text), HEADER_TEXT, None), "emoji": false}})
}

/// A mrkdwn section; `text` is already escaped mrkdwn.
pub fn section(text: &str, more: Option<&str>) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": fit_text(text, SECTION_TEXT, more)}})
}

/// Label/value facts as section fields, ten to a section (Slack's limit), none left out.
fn facts(view: &View) -> Vec<Value> {
    view.facts
        .chunks(MAX_FIELDS)
        .map(|chunk| {
            let fields: Vec<Value> = chunk
                .iter()
                .map(|(k, v)| {
                    json!({"type": "mrkdwn", "text": fit_text(&format!("*{}*\n{}", md(k), md(v)), FIELD_TEXT, None)})
                })
                .collect();
            json!({"type": "section", "fields": fields})
        })
        .collect()
}

/// A table as sections of at most [`SECTION_TEXT`] characters: the heading in bold, the column
/// headers in italics, then a line per row while `max_rows` rows and `max_sections` sections
/// allow, then "… and N more" (with the details link when there is one).
fn table(table: &Table, max_rows: usize, max_sections: usize, link: Option<&str>) -> Vec<Value> {
    let mut sections: Vec<String> = Vec::new();
    let mut text = format!("*{}*", md(&table.heading));
    if !table.headers.is_empty() {
        let headers: Vec<String> = table.headers.iter().map(|h| md(h)).collect();
        text.push_str(&format!("\n_{}_", headers.join(" · ")));
    }
    let mut shown = 0;
    for row in table.rows.iter().take(max_rows) {
        let cells: Vec<String> = row
            .iter()
            .map(|c| md(&fit_text(c, MAX_CELL, None)))
            .collect();
        let line = format!("\n• {}", cells.join(" · "));
        if text.chars().count() + line.chars().count() + MORE_ROOM > SECTION_TEXT {
            if sections.len() + 1 >= max_sections {
                break;
            }
            sections.push(std::mem::take(&mut text));
            text = line.trim_start().to_owned();
        } else {
            text.push_str(&line);
        }
        shown += 1;
    }
    if let Some(more) = more_line(table.rows.len() - shown, &table.what, link) {
        text.push('\n');
        text.push_str(&md(&more));
    }
    sections.push(text);
    sections.iter().map(|t| section(t, link)).collect()
}

/// `<url|label>` links (at most ten): the URL cannot contain `|` or `>` unescaped; labels are
/// escaped mrkdwn.
fn links(view: &View) -> Option<Value> {
    if view.links.is_empty() {
        return None;
    }
    let text = view
        .links
        .iter()
        .take(10)
        .map(|l| format!("<{}|{}>", link_target(&l.url), md(&l.label)))
        .collect::<Vec<_>>()
        .join("  ·  ");
    Some(section(&text, None))
}

fn link_target(url: &str) -> String {
    url.replace('|', "%7C").replace('>', "%3E")
}

/// Severity, state, kind and the reference support asks for, as plain text.
fn context(view: &View) -> Value {
    let state = view.state.as_str();
    let line = format!(
        "{} · {state} · costwatch {}",
        severity_word(view.severity),
        view.kind
    );
    let element = |text: String| json!({"type": "plain_text", "text": fit_text(&text, SECTION_TEXT, None), "emoji": false});
    // Envelope ids are ours (`ntf_…`): kept copyable, without the zero-width space `slack_plain`
    // puts before `_`.
    let reference = plain(&format!("Reference: {}", view.reference));
    json!({"type": "context", "elements": [element(slack_plain(&line)), element(reference)]})
}

/// The blocks of `view`: one envelope's tables show their first [`TABLE_ROWS`] rows each; a
/// digest's table (one row per envelope) gets every block left over, a section per ~3,000
/// characters of rows.
pub fn blocks(view: &View) -> Vec<Value> {
    let link = view.details_link().map(|l| l.url.as_str());
    let mut blocks = vec![header(&view.title), section(&md(&view.summary), link)];
    blocks.extend(facts(view));
    let links = links(view);
    // What must still come after the tables: the links and the context.
    let tail = 1 + usize::from(links.is_some());
    for (i, t) in view.tables.iter().enumerate() {
        let later_tables = view.tables.len() - i - 1;
        let room = MAX_BLOCKS.saturating_sub(blocks.len() + tail + later_tables);
        let (rows, sections) = if view.kind == "digest" {
            (usize::MAX, room.max(1))
        } else {
            (TABLE_ROWS, 1)
        };
        blocks.extend(table(t, rows, sections, link));
    }
    blocks.extend(links);
    blocks.push(context(view));
    blocks.truncate(MAX_BLOCKS);
    blocks
}

/// The button `action_id`s the chat endpoint acts on (`costwatch_core::chat_actions`).
pub use costwatch_core::chat_actions::{
    ACKNOWLEDGE as ACTION_ACKNOWLEDGE, EXPECTED as ACTION_EXPECTED, SNOOZE_DAY as ACTION_SNOOZE_DAY,
};

/// Acknowledge, Snooze 24 h and Expected on an active anomaly's message, Acknowledge on a
/// budget alert's, before the context line (and within [`MAX_BLOCKS`]). A resolved one has
/// nothing left to act on.
pub fn add_actions(blocks: &mut Vec<Value>, n: &costwatch_core::Notification) {
    use costwatch_core::NotificationBody;
    use costwatch_core::notification::State;
    let anomaly = matches!(n.body, NotificationBody::Anomaly(_));
    let budget = matches!(n.body, NotificationBody::Budget(_));
    if !(anomaly || budget) || n.state == State::Resolved {
        return;
    }
    let button = |id: &str, label: &str, style: Option<&str>| {
        let mut b = json!({"type": "button", "action_id": id, "value": n.subject_id,
            "text": {"type": "plain_text", "text": label, "emoji": false}});
        if let Some(style) = style {
            b["style"] = style.into();
        }
        b
    };
    let mut elements = Vec::new();
    if n.state != State::Acknowledged {
        elements.push(button(ACTION_ACKNOWLEDGE, "Acknowledge", Some("primary")));
    }
    if anomaly {
        elements.push(button(ACTION_SNOOZE_DAY, "Snooze 24 h", None));
        elements.push(button(ACTION_EXPECTED, "Expected", None));
    }
    if elements.is_empty() {
        return; // an acknowledged budget alert: nothing left to click
    }
    let actions = json!({"type": "actions", "block_id": "costwatch_actions", "elements": elements});
    // The context line stays last; at the limit the block before it gives way.
    while blocks.len() >= MAX_BLOCKS && blocks.len() >= 2 {
        blocks.remove(blocks.len() - 2);
    }
    let at = blocks.len().saturating_sub(1);
    blocks.insert(at, actions);
}

/// The top-level `text`: what notifications and screen readers show. A digest's lists the
/// titles of its rows after its own.
pub fn fallback_text(view: &View) -> String {
    let mut text = md(&view.title);
    if view.kind == "digest"
        && let Some(t) = view.tables.first()
    {
        let titles: Vec<String> = t
            .rows
            .iter()
            .filter_map(|r| r.get(1))
            .map(|s| md(s))
            .collect();
        text = format!("{text}: {}", titles.join("; "));
    }
    fit_text(
        &text,
        FALLBACK_TEXT,
        view.details_link().map(|l| l.url.as_str()),
    )
}
