//! Envelope → Datadog requests: the gauges of every envelope through `POST /api/v2/series`, in
//! as many payloads as Datadog's 500 KB limit needs, then — for anomalies, budget breaches and
//! test notifications — one event through `POST /api/v1/events`. The event goes last: when an
//! exchange is retried, the series before it are sent again, which is harmless (a gauge point
//! with the same metric, tags and timestamp overwrites itself), while an event would repeat.
//!
//! Event text is plain text (never opened with `%%%`, so Markdown is not rendered), and every
//! user string is escaped so it can neither notify anyone (`@` followed by a zero-width space:
//! `@here`, `@user@example.com` or `@slack-channel` handles are dead) nor switch Markdown on.

use costwatch_core::Notification;
use costwatch_core::notification::{NotificationBody, Severity, State};
use costwatch_dispatch::escape::plain;
use costwatch_dispatch::fit::{fit_text, more_line};
use costwatch_dispatch::view::{View, is_web_url};
use costwatch_dispatch::{Message, Text, VendorRequest};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Destination;
use crate::series;

/// Datadog takes at most 500 kilobytes (512,000 bytes) per series payload; we do not compress,
/// so every body stays within this (and so within the 5 MB decompressed limit as well).
pub const MAX_PAYLOAD_BYTES: usize = 512_000;
/// An event's text: 4,000 characters (the v1 spec's `maxLength`).
pub const MAX_EVENT_TEXT: usize = 4_000;
/// An event's title: Datadog's documentation limits it to 100 characters.
pub const MAX_EVENT_TITLE: usize = 100;
/// Rows of a table shown in an event before "… and N more".
const MAX_ROWS: usize = 10;

pub const SERIES_PATH: &str = "/api/v2/series";
pub const EVENTS_PATH: &str = "/api/v1/events";
/// The header Datadog reads the API key from.
pub const API_KEY_HEADER: &str = "DD-API-KEY";

/// Every request for `message` to `d`: series payloads first, the event last.
pub fn requests(d: &Destination, api_key: &str, message: Message<'_>) -> Vec<VendorRequest> {
    let base = d.site.api_base();
    let post = |step: &str, path: &str, body: Value| {
        VendorRequest::post_json(step, Text::Plain(format!("{base}{path}")), body)
            .header(API_KEY_HEADER, Text::secret(api_key))
    };
    let all: Vec<Value> = message
        .envelopes()
        .iter()
        .flat_map(|n| series::of(n, &d.tags, d.timestamp))
        .collect();
    let mut out: Vec<VendorRequest> = batches(all, MAX_PAYLOAD_BYTES)
        .into_iter()
        .map(|batch| post("series", SERIES_PATH, json!({ "series": batch })))
        .collect();
    if d.events
        && let Some(event) = event(message, &d.tags)
    {
        out.push(post("event", EVENTS_PATH, event));
    }
    out
}

/// `series` split into payloads of at most `max_bytes` each (`{"series":[…]}` as serialized);
/// a single series larger than that travels alone (ours are a few hundred bytes).
pub fn batches(series: Vec<Value>, max_bytes: usize) -> Vec<Vec<Value>> {
    const WRAPPER: usize = r#"{"series":[]}"#.len();
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut size = WRAPPER;
    for s in series {
        let len = serde_json::to_vec(&s).map_or(0, |b| b.len());
        if !current.is_empty() && size + 1 + len > max_bytes {
            out.push(std::mem::take(&mut current));
            size = WRAPPER;
        }
        size += usize::from(!current.is_empty()) + len;
        current.push(s);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether an envelope is also an event: what someone may have to act on (and a test, so that a
/// test-send shows up somewhere).
fn is_event(n: &Notification) -> bool {
    matches!(
        n.body,
        NotificationBody::Anomaly(_) | NotificationBody::Budget(_) | NotificationBody::Test(_)
    )
}

/// The v1 event for `message`, if it has one: a single anomaly, budget breach or test, or one
/// event for a digest that holds any.
pub fn event(message: Message<'_>, extra: &[String]) -> Option<Value> {
    let (view, key, mut tags) = match message {
        Message::One(n) => {
            if !is_event(n) {
                return None;
            }
            let mut tags = series::common_tags(n, extra);
            tags.extend(crate::tags::tag("severity", severity(n.severity)));
            tags.extend(crate::tags::tag("state", n.state.as_str()));
            (View::of(n), aggregation_key(&[n.subject_id.as_str()]), tags)
        }
        Message::Digest(all) => {
            if !all.iter().any(is_event) {
                return None;
            }
            let mut subjects: Vec<&str> = all.iter().map(|n| n.subject_id.as_str()).collect();
            subjects.sort_unstable();
            let mut tags: Vec<String> = extra.to_vec();
            tags.extend(crate::tags::tag("kind", "digest"));
            (View::digest(all), aggregation_key(&subjects), tags)
        }
    };
    tags.dedup();
    let alert_type = alert_type(view.severity, view.state);
    Some(json!({
        "title": fit_text(&text(&view.title), MAX_EVENT_TITLE, None),
        "text": event_text(&view),
        "alert_type": alert_type,
        "priority": if matches!(alert_type, "error" | "warning") { "normal" } else { "low" },
        "aggregation_key": key,
        "tags": tags,
    }))
}

/// Groups every state of a subject in Datadog's event stream: `costwatch-` and 32 hex digits of
/// the subject id's SHA-256 (Datadog allows 100 characters; subject ids are ours but a hash keeps
/// the key short and free of characters Datadog might treat specially).
pub fn aggregation_key(subjects: &[&str]) -> String {
    let mut hash = Sha256::new();
    for s in subjects {
        hash.update(s.as_bytes());
        hash.update([0]);
    }
    format!("costwatch-{}", &hex::encode(hash.finalize())[..32])
}

/// `error` for what needs someone now, `warning`, `info`; `success` once resolved.
pub fn alert_type(severity: Severity, state: State) -> &'static str {
    if state == State::Resolved {
        return "success";
    }
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

fn severity(s: Severity) -> &'static str {
    costwatch_dispatch::view::severity_word(s)
}

/// User text for an event: control characters removed, mentions defused, and `%%` broken so that
/// no value can open or close a Markdown block.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in plain(s).chars() {
        if c == '%' && out.ends_with('%') {
            out.push('\u{200B}');
        }
        out.push(c);
    }
    out
}

/// The view as plain text within [`MAX_EVENT_TEXT`]: summary, facts, tables (first rows, then
/// "… and N more" with the details link), links and the reference.
pub fn event_text(view: &View) -> String {
    let link = view.details_link().map(|l| l.url.as_str());
    let mut lines = vec![text(&view.summary), String::new()];
    for (label, value) in &view.facts {
        lines.push(format!("{}: {}", text(label), text(value)));
    }
    for table in &view.tables {
        lines.push(String::new());
        lines.push(format!("{}:", text(&table.heading)));
        for row in table.rows.iter().take(MAX_ROWS) {
            let cells: Vec<String> = row.iter().map(|c| text(c)).collect();
            lines.push(format!("• {}", cells.join(" · ")));
        }
        if let Some(more) = more_line(table.rows.len().saturating_sub(MAX_ROWS), &table.what, link)
        {
            lines.push(text(&more));
        }
    }
    let links: Vec<String> = view
        .links
        .iter()
        .filter(|l| is_web_url(&l.url))
        .map(|l| format!("{}: {}", text(&l.label), text(&l.url)))
        .collect();
    if !links.is_empty() {
        lines.push(String::new());
        lines.extend(links);
    }
    lines.push(String::new());
    lines.push(format!("Reference: {}", text(&view.reference)));
    let all = lines.join("\n");
    fit_text(&all, MAX_EVENT_TEXT, link.map(text).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_split_within_the_byte_limit_and_none_is_lost() {
        let series: Vec<Value> = (0..1000)
            .map(|i| json!({"metric": "costwatch.cost.daily", "points": [{"timestamp": i, "value": 1.0}]}))
            .collect();
        let one = serde_json::to_vec(&series[0]).unwrap().len();
        let limit = 20 * one;
        let batches = batches(series.clone(), limit);
        assert!(batches.len() >= 1000 / 20, "{}", batches.len());
        for b in &batches {
            let body = serde_json::to_vec(&json!({ "series": b })).unwrap();
            assert!(body.len() <= limit, "{} > {limit}", body.len());
        }
        let flat: Vec<Value> = batches.into_iter().flatten().collect();
        assert_eq!(flat, series);
        assert_eq!(super::batches(Vec::new(), limit).len(), 0);
    }

    #[test]
    fn markdown_blocks_and_mentions_cannot_be_opened_from_user_text() {
        let t = text("%%% \n[x](https://evil.example) @oncall @user@example.com\n %%%");
        assert!(!t.contains("%%"), "{t:?}");
        assert!(
            !t.contains("@o") && !t.contains("@u") && !t.contains("@e"),
            "{t:?}"
        );
        assert_eq!(t.replace('\u{200B}', "").matches('%').count(), 6);
    }

    #[test]
    fn alert_types_follow_severity_and_resolution() {
        assert_eq!(alert_type(Severity::Critical, State::Open), "error");
        assert_eq!(alert_type(Severity::Medium, State::Ongoing), "warning");
        assert_eq!(alert_type(Severity::Low, State::Open), "info");
        assert_eq!(alert_type(Severity::Critical, State::Resolved), "success");
        let key = aggregation_key(&["an_1"]);
        assert!(key.len() <= 100 && key == aggregation_key(&["an_1"]));
        assert_ne!(key, aggregation_key(&["an_2"]));
    }
}
