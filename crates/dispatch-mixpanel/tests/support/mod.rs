//! Mixpanel's ingestion OpenAPI document (`specs/mixpanel/ingestion.openapi.yaml`) as a check of
//! rendered requests: the `import-events` operation's JSON request body schema (through
//! jsonschema), its required query parameters and their enums (`strict`, `project_id`) and the
//! `Content-Type` it lists.

use std::sync::OnceLock;

use costwatch_core::shared::shared_path;
use costwatch_dispatch::VendorRequest;
use serde_json::{Value, json};

/// The `POST /import` operation of Mixpanel's document (read once per test binary).
fn operation() -> &'static Value {
    static OP: OnceLock<Value> = OnceLock::new();
    OP.get_or_init(|| {
        let path = shared_path("specs/mixpanel/ingestion.openapi.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let spec: Value =
            serde_norway::from_str(&text).expect("Mixpanel's OpenAPI document parses");
        let op = spec["paths"]["/import"]["post"].clone();
        assert_eq!(op["operationId"], "import-events");
        op
    })
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let mut schema =
            operation()["requestBody"]["content"]["application/json"]["schema"].clone();
        schema["$schema"] = json!("http://json-schema.org/draft-04/schema#");
        jsonschema::validator_for(&schema).expect("the request body schema compiles")
    })
}

/// A JSON body posted to `/import` checked against the request body schema.
pub fn check_body(body: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator()
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

/// Query parameters and headers of `url` and `headers` against the operation's `parameters`.
pub fn check_parameters(url: &str, content_type: Option<&str>) -> Result<(), String> {
    let url = url::Url::parse(url).map_err(|e| e.to_string())?;
    if url.path() != "/import" {
        return Err(format!("{} is not /import", url.path()));
    }
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for p in operation()["parameters"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or_default();
        let allowed = p["schema"]["enum"].as_array();
        let value = match p["in"].as_str() {
            Some("query") => query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            Some("header") if name.eq_ignore_ascii_case("content-type") => {
                content_type.map(|c| c.split(';').next().unwrap_or_default().trim().to_owned())
            }
            _ => continue,
        };
        match value {
            None if p["required"] == json!(true) => return Err(format!("{name} is required")),
            Some(v) if allowed.is_some_and(|a| !a.contains(&json!(v))) => {
                return Err(format!("{name}={v} is not one of {allowed:?}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The whole request: parameters and body.
pub fn check(request: &VendorRequest) -> Result<(), String> {
    check_parameters(request.url.expose(), request.body.content_type().as_deref())?;
    check_body(request.body.json().ok_or("Mixpanel's /import takes JSON")?)
}
