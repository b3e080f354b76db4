//! Envelope → Discord execute-webhook request (`POST /api/webhooks/{id}/{token}?wait=true`):
//! embeds within every Discord limit (10 embeds, 6,000 characters in total, title 256,
//! description 4,096, 25 fields, field name 256 / value 1,024, footer 2,048), mentions parsed
//! from nothing, and a report's chart as a multipart attachment shown as the embed's image.
//! What does not fit is summarised with "… and N more" and a link, never cut silently.

use costwatch_core::notification::{Severity, State};
use costwatch_dispatch::escape::{discord_markdown as md, plain};
use costwatch_dispatch::fit::{fit_text, more_line};
use costwatch_dispatch::view::{Table, View};
use serde_json::{Value, json};

pub mod limits {
    pub const EMBEDS: usize = 10;
    pub const TOTAL: usize = 6_000;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4_096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1_024;
    pub const FOOTER: usize = 2_048;
}

/// Row budgets tried in turn until an embed fits the 6,000-character total.
const ROW_STEPS: [usize; 6] = [usize::MAX, 10, 5, 3, 1, 0];

/// One embed for `view`, with tables cut to `max_rows` and the description to `max_description`.
pub fn embed(view: &View, max_rows: usize, max_description: usize, created_at: &str) -> Value {
    let link = view.details_link().map(|l| l.url.as_str());
    let mut fields = Vec::new();
    for (name, value) in &view.facts {
        fields.push(field(name, &md(value), true));
    }
    for table in &view.tables {
        fields.push(table_field(table, max_rows, link));
    }
    fields.truncate(limits::FIELDS);
    let mut embed = json!({
        "title": fit_escaped(&view.title, limits::TITLE),
        "description": fit_escaped_linked(&view.summary, max_description, link),
        "color": color(view.severity, view.state),
        "fields": fields,
        "footer": {"text": fit_text(&plain(&format!("costwatch · {} · {}", view.kind, view.reference)), limits::FOOTER, None)},
        "timestamp": created_at,
    });
    if let Some(url) = link {
        embed["url"] = json!(url);
    }
    embed
}

/// The largest version of [`embed`] within the 6,000-character total.
pub fn fitted_embed(view: &View, created_at: &str, budget: usize) -> Value {
    for rows in ROW_STEPS {
        let e = embed(view, rows, limits::DESCRIPTION, created_at);
        if embed_chars(&e) <= budget {
            return e;
        }
    }
    // Still too long (a huge summary): shorten the description to what is left.
    let bare = embed(view, 0, 0, created_at);
    let room = budget.saturating_sub(embed_chars(&bare));
    embed(view, 0, room.min(limits::DESCRIPTION), created_at)
}

/// Characters Discord counts towards the 6,000 total of a message's embeds.
pub fn embed_chars(embed: &Value) -> usize {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let mut n = len(&embed["title"])
        + len(&embed["description"])
        + len(&embed["footer"]["text"])
        + len(&embed["author"]["name"]);
    if let Some(fields) = embed["fields"].as_array() {
        n += fields
            .iter()
            .map(|f| len(&f["name"]) + len(&f["value"]))
            .sum::<usize>();
    }
    n
}

fn field(name: &str, escaped_value: &str, inline: bool) -> Value {
    json!({
        "name": fit_escaped(name, limits::FIELD_NAME),
        "value": if escaped_value.is_empty() { "\u{200B}".to_owned() } else { cut_escaped(escaped_value, limits::FIELD_VALUE) },
        "inline": inline,
    })
}

/// A table as one field: a line per row, as many rows as fit in a field value, then "… and N
/// more".
fn table_field(table: &Table, max_rows: usize, link: Option<&str>) -> Value {
    let mut lines: Vec<String> = Vec::new();
    let mut used = 0;
    for row in table.rows.iter().take(max_rows) {
        let line = row.iter().map(|c| md(c)).collect::<Vec<_>>().join(" · ");
        let reserve = 120; // room for the "and N more" line
        if used + line.chars().count() + 1 + reserve > limits::FIELD_VALUE {
            break;
        }
        used += line.chars().count() + 1;
        lines.push(line);
    }
    if let Some(more) = more_line(table.rows.len() - lines.len(), &table.what, link) {
        lines.push(md(&more));
    }
    field(&table.heading, &lines.join("\n"), false)
}

/// Escaped `text` within `max` characters, shortened visibly if needed; never ends inside an
/// escape.
fn fit_escaped(text: &str, max: usize) -> String {
    cut_escaped(&md(&fit_text(text, max, None)), max)
}

fn fit_escaped_linked(text: &str, max: usize, link: Option<&str>) -> String {
    if max == 0 {
        return String::new();
    }
    let escaped = md(text);
    if escaped.chars().count() <= max {
        return escaped;
    }
    // Escapes lengthen the text: fit the raw text to a share that leaves room for them.
    let mut room = max;
    loop {
        let candidate = md(&fit_text(text, room, link));
        if candidate.chars().count() <= max || room < 16 {
            return cut_escaped(&candidate, max);
        }
        room = room * 9 / 10;
    }
}

/// Last resort when escaping pushed a string over `max`: drop whole characters (an escape pair
/// together) and mark the cut with `…`.
fn cut_escaped(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    let trailing = out.chars().rev().take_while(|c| *c == '\\').count();
    if trailing % 2 == 1 {
        out.pop();
    }
    out.push('…');
    out
}

fn color(severity: Severity, state: State) -> u32 {
    if state == State::Resolved {
        return 0x2E_B8_86;
    }
    match severity {
        Severity::Critical => 0x99_1B_1B,
        Severity::High => 0xE0_1E_5A,
        Severity::Medium => 0xEC_B2_2E,
        Severity::Low => 0x36_C5_F0,
        Severity::Info => 0x8A_8F_98,
    }
}
