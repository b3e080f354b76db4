//! Holds an answer against `crates/api/openapi.json`: the status must be one the operation
//! declares, and a JSON or problem body must match the schema declared for that status and
//! content type (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses). Shared by the API's own
//! tests and tests/cli_serve.rs (which includes this file by path), so both read the document
//! one way.

use serde_json::{Value, json};

pub struct Contract {
    doc: Value,
}

impl Contract {
    pub fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/openapi.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Self {
            doc: serde_json::from_str(&text).expect("openapi.json parses"),
        }
    }

    // tests/cli_serve.rs uses `check` only.
    #[allow(dead_code)]
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// Every (method, path) the document declares, upper-case methods, sorted.
    #[allow(dead_code)]
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
        out.sort();
        out
    }

    /// Panics, naming the route, unless `status` is declared for `method template` and the body
    /// (when it is JSON) matches the declared schema.
    pub fn check(
        &self,
        method: &str,
        template: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) {
        let op = &self.doc["paths"][template][method.to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in openapi.json");
        let declared = &op["responses"][status.to_string()];
        assert!(
            declared.is_object(),
            "{method} {template} answered {status}, which openapi.json does not declare: {}",
            String::from_utf8_lossy(body)
        );
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if status == 304 {
            assert!(body.is_empty(), "a 304 has no body");
            return;
        }
        let schema = &declared["content"][media]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} {status}: content type {media} is not declared"
        );
        if !(media == "application/json" || media == "application/problem+json") {
            return;
        }
        let instance: Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{method} {template} {status}: not JSON ({e})"));
        let mut root = schema.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::validator_for(&root).expect("the document's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status} does not match openapi.json: {errors:#?}\n{instance:#}"
        );
    }
}
