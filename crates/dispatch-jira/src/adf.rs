//! Atlassian Document Format (the JSON rich text of Jira Cloud's REST v3 descriptions and
//! comments) built node by node. User text only ever becomes the `text` of a `text` node: ADF
//! has no markup inside a text node, so a tag value cannot become a link, a mention, a macro or
//! a heading, whatever it contains. Only our own words carry marks (bold, links to http(s) URLs
//! from the envelope's links).

use serde_json::{Value, json};

/// Text as a text node's content: control characters removed, mentions defused
/// ([`costwatch_dispatch::escape::plain`]), and `{{` broken by a zero-width space so that a
/// value can never read as a placeholder of a multi-step exchange (`{{step:0:/…}}`, which the
/// sender fills in from earlier answers).
pub fn clean(text: &str) -> String {
    costwatch_dispatch::escape::plain(text).replace("{{", "{\u{200B}{")
}

/// Inline nodes for `text`: text nodes split at line breaks by `hardBreak`s (a text node holds
/// one line); nothing for empty text (ADF refuses empty text nodes).
pub fn inline(text: &str, marks: &[Value]) -> Vec<Value> {
    let cleaned = clean(text);
    let mut out = Vec::new();
    for (i, line) in cleaned.split('\n').enumerate() {
        if i > 0 {
            out.push(json!({"type": "hardBreak"}));
        }
        if line.is_empty() {
            continue;
        }
        let mut node = json!({"type": "text", "text": line});
        if !marks.is_empty() {
            node["marks"] = Value::Array(marks.to_vec());
        }
        out.push(node);
    }
    out
}

pub fn strong() -> Value {
    json!({"type": "strong"})
}

pub fn link(href: &str) -> Value {
    json!({"type": "link", "attrs": {"href": href}})
}

pub fn paragraph(content: Vec<Value>) -> Value {
    if content.is_empty() {
        return json!({"type": "paragraph"});
    }
    json!({"type": "paragraph", "content": content})
}

pub fn text_paragraph(text: &str) -> Value {
    paragraph(inline(text, &[]))
}

pub fn heading(level: u8, text: &str) -> Value {
    json!({"type": "heading", "attrs": {"level": level}, "content": inline(text, &[])})
}

/// A panel (`info`, `note`, `warning`, `error`, `success`) around paragraphs.
pub fn panel(kind: &str, content: Vec<Value>) -> Value {
    json!({"type": "panel", "attrs": {"panelType": kind}, "content": content})
}

fn cell(kind: &str, text: &str, bold: bool) -> Value {
    let marks = if bold { vec![strong()] } else { Vec::new() };
    json!({"type": kind, "content": [paragraph(inline(text, &marks))]})
}

/// A table: an optional header row, then rows of plain cells.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> Value {
    let mut all = Vec::new();
    if !headers.is_empty() {
        all.push(json!({
            "type": "tableRow",
            "content": headers.iter().map(|h| cell("tableHeader", h, false)).collect::<Vec<_>>(),
        }));
    }
    all.extend(rows.iter().map(|r| {
        json!({
            "type": "tableRow",
            "content": r.iter().map(|c| cell("tableCell", c, false)).collect::<Vec<_>>(),
        })
    }));
    json!({"type": "table", "attrs": {"isNumberColumnEnabled": false, "layout": "default"}, "content": all})
}

/// Label/value pairs: a two-column table whose labels are bold header cells.
pub fn facts(pairs: &[(String, String)]) -> Value {
    let rows: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| {
            json!({"type": "tableRow", "content": [cell("tableHeader", k, false), cell("tableCell", v, false)]})
        })
        .collect();
    json!({"type": "table", "attrs": {"isNumberColumnEnabled": false, "layout": "default"}, "content": rows})
}

/// Links as a bullet list of linked labels (http(s) URLs only; callers filter).
pub fn links(items: &[(String, String)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(label, href)| {
            json!({"type": "listItem", "content": [paragraph(inline(label, &[link(href)]))]})
        })
        .collect();
    json!({"type": "bulletList", "content": items})
}

pub fn doc(content: Vec<Value>) -> Value {
    json!({"type": "doc", "version": 1, "content": content})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_text_nodes_only() {
        let nodes = inline("a\nb {{step:0:/key}} @here", &[]);
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[1], json!({"type": "hardBreak"}));
        let text = nodes[2]["text"].as_str().unwrap();
        assert!(!text.contains("{{") && !text.contains("@here"), "{text}");
        assert!(inline("", &[]).is_empty());
        assert_eq!(paragraph(Vec::new()), json!({"type": "paragraph"}));
    }
}
