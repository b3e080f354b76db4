//! Datadog's OpenAPI documents as JSON Schema validators, shared by the payload and conformance
//! tests: the request body of `SubmitMetrics` (v2) and `CreateEvent` (v1), $refs resolved against
//! the components they reach, every object closed to properties the spec does not define.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use costwatch_core::shared::shared_path;
use costwatch_dispatch::{Body, VendorRequest};
use costwatch_dispatch_datadog::encoder::{EVENTS_PATH, SERIES_PATH};
use serde_json::{Value, json};

/// A YAML OpenAPI document as JSON (read once per test binary).
fn spec(file: &str) -> &'static Value {
    static V1: OnceLock<Value> = OnceLock::new();
    static V2: OnceLock<Value> = OnceLock::new();
    let cell = if file.starts_with("v1") { &V1 } else { &V2 };
    cell.get_or_init(|| {
        let path = shared_path(&format!("specs/datadog/{file}"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_norway::from_str(&text).expect("Datadog's OpenAPI document parses")
    })
}

/// Every `#/components/schemas/…` name `schema` reaches, transitively.
fn reachable(spec: &Value, schema: &Value, seen: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(name) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    if seen.insert(name.to_owned()) {
                        reachable(spec, &spec["components"]["schemas"][name], seen);
                    }
                } else {
                    reachable(spec, v, seen);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| reachable(spec, v, seen)),
        _ => {}
    }
}

/// Closes every object schema that lists its properties: a property the spec does not define
/// (a typo, a field of another API version) is then an error, not silently ignored.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), json!(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// The `application/json` request body schema of `method path` in `file`, checked to be the
/// operation we mean, as a root document holding the components it refers to.
fn validator(file: &str, path: &str, operation_id: &str) -> jsonschema::Validator {
    let spec = spec(file);
    let op = &spec["paths"][path]["post"];
    assert_eq!(op["operationId"], operation_id);
    let mut schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
    let mut names = BTreeSet::new();
    reachable(spec, &schema, &mut names);
    let mut components = serde_json::Map::new();
    for name in names {
        components.insert(name.clone(), spec["components"]["schemas"][&name].clone());
    }
    schema["components"] = json!({ "schemas": components });
    strict(&mut schema);
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

pub fn validators() -> &'static (jsonschema::Validator, jsonschema::Validator) {
    static V: OnceLock<(jsonschema::Validator, jsonschema::Validator)> = OnceLock::new();
    V.get_or_init(|| {
        (
            validator("v2-openapi.yaml", "/api/v2/series", "SubmitMetrics"),
            validator("v1-openapi.yaml", "/api/v1/events", "CreateEvent"),
        )
    })
}

/// The request's JSON body checked against the operation its path names.
pub fn check_schema(request: &VendorRequest) -> Result<(), String> {
    let url = url::Url::parse(request.url.expose()).map_err(|e| e.to_string())?;
    let Body::Json(body) = &request.body else {
        return Err("Datadog takes JSON".into());
    };
    check_json(url.path(), body)
}

/// A JSON body posted to `path` checked against that operation's schema (also for what the fake
/// received).
pub fn check_json(path: &str, body: &Value) -> Result<(), String> {
    let (series, events) = validators();
    let v = match path {
        SERIES_PATH => series,
        EVENTS_PATH => events,
        other => return Err(format!("{other} is not an endpoint costwatch posts to")),
    };
    let errors: Vec<String> = v
        .iter_errors(body)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
