//! The shared conformance suite (costwatch-dispatch-kit) on Discord: every execute-webhook
//! request checked against Discord's own OpenAPI document (`specs/discord/openapi.json`): the
//! path and query parameters, and the request body schema — of the JSON body, or of a multipart
//! body's `payload_json` with a `files[n]` part for every attachment it declares.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use costwatch_dispatch::{Body, Method, PartData, VendorRequest, entry};
use costwatch_dispatch_discord::Discord;
use costwatch_dispatch_kit::{Conformance, conformance_tests, schema};
use costwatch_vendor_fakes::discord::{DiscordWebhook, TOKEN};
use serde_json::{Value, json};

fn suite() -> Conformance {
    Conformance {
        entry: entry::<Discord>(),
        // The fake's webhook id is a snowflake without a leading zero, as the OpenAPI path wants.
        config: json!({"destinations": {"ops": {"webhook_url": DiscordWebhook::webhook_url("https://discord.com")}}}),
        destination: "ops",
        secrets: &[TOKEN],
        // Discord's upload limit for a message's files without a boost (10 MiB).
        max_body_bytes: 10 * 1024 * 1024,
        validate,
        // A bucket too large to empty: the drill's throttling is the injected 429s.
        fake: || Arc::new(DiscordWebhook::new(1_000_000, Duration::from_secs(60))),
    }
}

struct Spec {
    body: jsonschema::Validator,
    /// Path and query parameters of the operation: name → (where, validator, type).
    params: Vec<(String, String, jsonschema::Validator, String)>,
}

/// `execute_webhook` (`POST /webhooks/{webhook_id}/{webhook_token}`) from the OpenAPI document.
fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let doc = schema::load("specs/discord/openapi.json");
        let path = &doc["paths"]["/webhooks/{webhook_id}/{webhook_token}"];
        let op = &path["post"];
        assert_eq!(op["operationId"], "execute_webhook");
        let with_components = |mut s: Value| {
            s["components"] = doc["components"].clone();
            s["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
            s
        };
        let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
        let params = [&path["parameters"], &op["parameters"]]
            .into_iter()
            .flat_map(|p| p.as_array().cloned().unwrap_or_default())
            .map(|p| {
                let mut s = p["schema"].clone();
                if let Some(name) = s["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    s = doc["components"]["schemas"][name].clone();
                }
                let ty = s["type"].as_str().unwrap_or("string").to_owned();
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let place = p["in"].as_str().unwrap_or_default().to_owned();
                (name, place, schema::validator(&with_components(s)), ty)
            })
            .collect();
        Spec {
            body: schema::validator(&with_components(body)),
            params,
        }
    })
}

fn check_param(name: &str, place: &str, raw: &str) -> Result<(), String> {
    let (_, _, v, ty) = spec()
        .params
        .iter()
        .find(|(n, p, ..)| n == name && p == place)
        .ok_or_else(|| format!("execute_webhook has no {place} parameter `{name}`"))?;
    let value = match ty.as_str() {
        "boolean" => raw
            .parse::<bool>()
            .map(Value::Bool)
            .map_err(|_| format!("{name}={raw} is not a boolean"))?,
        _ => Value::String(raw.to_owned()),
    };
    schema::check(v, &value).map_err(|e| format!("{place} parameter {name}: {e}"))
}

fn validate(request: &VendorRequest) -> Result<(), String> {
    if request.method != Method::Post {
        return Err("execute_webhook is a POST".into());
    }
    let url = url::Url::parse(request.url.expose()).map_err(|e| e.to_string())?;
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let (["api", "webhooks", id, token] | ["api", _, "webhooks", id, token]) = segments.as_slice()
    else {
        return Err("the path is not /api[/vN]/webhooks/{webhook_id}/{webhook_token}".into());
    };
    check_param("webhook_id", "path", id)?;
    check_param("webhook_token", "path", token)?;
    for (name, value) in url.query_pairs() {
        check_param(&name, "query", &value)?;
    }
    let payload = match &request.body {
        Body::Json(v) => v.clone(),
        Body::Multipart(parts) => {
            let mut payload = None;
            let mut files = Vec::new();
            for p in parts {
                match (&p.data, p.name.as_str()) {
                    (PartData::Json(v), "payload_json") => payload = Some(v.clone()),
                    (PartData::Bytes(_), name)
                        if name.starts_with("files[") && p.filename.is_some() =>
                    {
                        files.push(name.to_owned())
                    }
                    _ => return Err(format!("unexpected multipart part `{}`", p.name)),
                }
            }
            let payload = payload.ok_or("a multipart body without payload_json")?;
            for a in payload["attachments"].as_array().into_iter().flatten() {
                let id = a["id"]
                    .as_str()
                    .map_or_else(|| a["id"].to_string(), str::to_owned);
                if !files.contains(&format!("files[{id}]")) {
                    return Err(format!("attachment {id} has no files[{id}] part"));
                }
            }
            payload
        }
        _ => return Err("execute_webhook takes JSON or multipart/form-data".into()),
    };
    schema::check(&spec().body, &payload)?;
    // Documented beside the schema: a message needs content, embeds, components, a poll or a file.
    if ["content", "embeds", "components", "poll", "attachments"]
        .iter()
        .all(|k| payload.get(k).is_none_or(Value::is_null))
    {
        return Err("a message needs content, embeds, components, a poll or a file".into());
    }
    Ok(())
}

conformance_tests!(suite);

#[test]
fn validate_checks_the_url_against_the_openapi_parameters() {
    let n = costwatch_core::samples::of_kind("budget");
    let message = costwatch_dispatch::Message::One(&n);
    let context = costwatch_dispatch::RenderContext::default();
    let request = suite()
        .configured()
        .render("ops", message, &context)
        .unwrap()
        .remove(0);
    validate(&request).unwrap();
    let url = request.url.expose().to_owned();
    for (bad, why) in [
        (
            url.replace("/123456789012345678/", "/0123456789012345678/"),
            "leading zero",
        ),
        (url.replace("wait=true", "wait=yes"), "not a boolean"),
        (format!("{url}&colour=red"), "no such query parameter"),
    ] {
        let mut r = request.clone();
        r.url = costwatch_dispatch::Text::secret(&bad);
        assert!(validate(&r).is_err(), "{why}");
    }
}
