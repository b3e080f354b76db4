//! Adaptive Card 1.5 building blocks. Every user-controlled string goes into a `TextRun` of a
//! `RichTextBlock`: the schema defines TextRun text as plain ("Markdown is not supported"), so a
//! tag value cannot become bold text, a link or a list there. `TextBlock` (which parses a
//! markdown subset) only ever carries our own words and figures.

use serde_json::{Value, json};

pub const SCHEMA_URL: &str = "http://adaptivecards.io/schemas/adaptive-card.json";
pub const VERSION: &str = "1.5";

/// Plain text in a paragraph of its own.
pub fn plain(text: &str) -> Value {
    json!({"type": "RichTextBlock", "inlines": [run(text)]})
}

/// A plain run; `TextRun` never parses markdown.
pub fn run(text: &str) -> Value {
    json!({"type": "TextRun", "text": text})
}

pub fn heading(text: &str) -> Value {
    json!({
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": text, "weight": "bolder", "size": "medium"}],
    })
}

pub fn subtle(text: &str) -> Value {
    json!({
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": text, "isSubtle": true, "size": "small"}],
        "spacing": "small",
    })
}

/// A table whose first row is the header; every cell plain text.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> Value {
    let cell = |text: &str, bold: bool| {
        let mut r = run(text);
        if bold {
            r["weight"] = json!("bolder");
        }
        json!({"type": "TableCell", "items": [{"type": "RichTextBlock", "inlines": [r]}]})
    };
    let mut all = vec![json!({
        "type": "TableRow",
        "cells": headers.iter().map(|h| cell(h, true)).collect::<Vec<_>>(),
    })];
    all.extend(rows.iter().map(|row| {
        json!({"type": "TableRow", "cells": row.iter().map(|c| cell(c, false)).collect::<Vec<_>>()})
    }));
    json!({
        "type": "Table",
        "columns": headers.iter().map(|_| json!({"type": "TableColumnDefinition", "width": 1})).collect::<Vec<_>>(),
        "rows": all,
        "firstRowAsHeader": true,
    })
}

/// Label/value pairs as a two-column table without header or grid: a FactSet would look the
/// same, but Teams renders markdown in fact values, and TextRuns never.
pub fn facts(rows: &[Vec<String>]) -> Value {
    let mut t = table(&[], rows);
    t["rows"].as_array_mut().map(|r| r.remove(0));
    t["columns"] = json!([
        {"type": "TableColumnDefinition", "width": 2},
        {"type": "TableColumnDefinition", "width": 5},
    ]);
    t["firstRowAsHeader"] = json!(false);
    t["showGridLines"] = json!(false);
    t
}

pub fn section_heading(text: &str) -> Value {
    json!({
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": text, "weight": "bolder"}],
        "separator": true,
    })
}
