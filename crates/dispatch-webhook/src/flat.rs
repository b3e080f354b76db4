//! The flat form of an envelope: one JSON object of scalars that a no-code tool (a Zap, an
//! Applet, a receiver without a JSON library) maps field by field. Nested objects join their
//! keys with `__` (`scope__account_id`), arrays number their items from 0 (`root_causes__0__value`)
//! and add a `__count`; a key from user data (a tag key) keeps only `[A-Za-z0-9_-]`, so every key
//! is stable and safe to show, and a second key that reads the same gets `_2`, `_3` ….

use serde_json::{Map, Value};

/// `value` flattened; `text` is applied to every string value (the identity for signed custom
/// webhooks, escaping for tools that post it to chats and tickets).
pub fn flatten(value: &Value, text: &dyn Fn(&str) -> String) -> Map<String, Value> {
    let mut out = Map::new();
    walk(value, String::new(), text, &mut out);
    out
}

fn walk(
    value: &Value,
    prefix: String,
    text: &dyn Fn(&str) -> String,
    out: &mut Map<String, Value>,
) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}__{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                walk(v, join(&safe_key(key)), text, out);
            }
        }
        Value::Array(items) => {
            insert(out, join("count"), Value::from(items.len()));
            for (i, v) in items.iter().enumerate() {
                walk(v, join(&i.to_string()), text, out);
            }
        }
        Value::String(s) => insert(out, prefix, Value::String(text(s))),
        other => insert(out, prefix, other.clone()),
    }
}

/// A second key that flattens to the same text gets a numbered suffix instead of overwriting.
fn insert(out: &mut Map<String, Value>, key: String, value: Value) {
    let mut candidate = key.clone();
    let mut n = 2;
    while out.contains_key(&candidate) {
        candidate = format!("{key}_{n}");
        n += 1;
    }
    out.insert(candidate, value);
}

fn safe_key(key: &str) -> String {
    let kept: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = kept.trim_matches('_');
    if trimmed.is_empty() {
        "key".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_and_arrays_become_stable_scalar_keys() {
        let v = json!({
            "scope": {"account_id": "123", "tags": {"team": "data", "@everyone": "x", "everyone": "y"}},
            "root_causes": [{"value": "EC2"}, {"value": "S3"}],
            "score": 4.5,
            "empty": []
        });
        let flat = flatten(&v, &|s| s.to_owned());
        assert_eq!(flat["scope__account_id"], "123");
        assert_eq!(flat["scope__tags__team"], "data");
        assert_eq!(flat["root_causes__count"], 2);
        assert_eq!(flat["root_causes__1__value"], "S3");
        assert_eq!(flat["score"], 4.5);
        assert_eq!(flat["empty__count"], 0);
        // `@everyone` and `everyone` read the same: neither is lost.
        assert_eq!(flat["scope__tags__everyone"], "x");
        assert_eq!(flat["scope__tags__everyone_2"], "y");
        assert!(flat.values().all(|v| !v.is_object() && !v.is_array()));
        // The same input gives the same keys in the same order.
        assert_eq!(
            flatten(&v, &|s| s.to_owned()).keys().collect::<Vec<_>>(),
            flat.keys().collect::<Vec<_>>()
        );
    }
}
