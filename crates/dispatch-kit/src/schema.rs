//! JSON Schema helpers for an integration's `validate`: load a vendor document from the shared
//! `specs/` folder (through `COSTWATCH_SHARED`, failing loudly when it is absent) and report a
//! document's violations as one message.

use costwatch_core::shared::shared_path;
use serde_json::Value;

/// A JSON document under the shared folder, e.g. `specs/teams/adaptive-card-1.5.0.schema.json`.
pub fn load(relative: &str) -> Value {
    let path = shared_path(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// `Ok` when `instance` is valid; else its first violations with where they are.
pub fn check(validator: &jsonschema::Validator, instance: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
