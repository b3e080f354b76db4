//! Discord's interactions endpoint over the seeded store: only requests signed with the
//! application's Ed25519 key, fresh and seen once, get through; PING answers PONG; `/cost` and
//! button answers are the callback bodies Discord's own OpenAPI document describes
//! (`specs/discord/openapi.json`); a click moves the anomaly once and every integration hears it.

#[allow(dead_code)] // each test binary uses part of the support
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use costwatch_api::chat::ChatSecrets;
use costwatch_core::State;
use costwatch_core::chat_actions::{ACKNOWLEDGE, SNOOZE_DAY, custom_id};
use costwatch_core::shared::shared_path;
use costwatch_store::memory::MemorySecrets;
use ed25519_dalek::SigningKey;
use ed25519_dalek::ed25519::signature::Signer;
use serde_json::{Value, json};
use support::{Seeded, call, seeded};

struct Discord {
    seeded: Seeded,
    router: Router,
    key: SigningKey,
    now: i64,
}

async fn discord() -> Discord {
    let seeded = seeded().await;
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let (router, now) = seeded.chat(
        MemorySecrets::new(),
        ChatSecrets {
            slack_signing_secret: None,
            discord_public_key: Some(hex::encode(key.verifying_key().to_bytes())),
        },
    );
    Discord {
        router,
        seeded,
        key,
        now,
    }
}

fn request(body: &str, timestamp: i64, signature: &str) -> Request<Body> {
    Request::post("/discord/interactions")
        .header("content-type", "application/json")
        .header("x-signature-timestamp", timestamp.to_string())
        .header("x-signature-ed25519", signature)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn sign(key: &SigningKey, timestamp: i64, body: &str) -> String {
    hex::encode(key.sign(format!("{timestamp}{body}").as_bytes()).to_bytes())
}

impl Discord {
    fn signed(&self, body: &Value, timestamp: i64) -> Request<Body> {
        let body = body.to_string();
        request(&body, timestamp, &sign(&self.key, timestamp, &body))
    }
}

/// A callback request schema of `POST /interactions/{id}/{token}/callback` in Discord's
/// document, as a root holding the spec's components so every $ref resolves.
fn callback_schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(shared_path("specs/discord/openapi.json"))
        .expect("Discord's OpenAPI document (COSTWATCH_SHARED)");
    let spec: Value = serde_json::from_str(&text).unwrap();
    let mut schema = json!({"$ref": format!("#/components/schemas/{name}")});
    schema["components"] = spec["components"].clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_conforms(schema: &str, body: &Value) {
    let v = callback_schema(schema);
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{schema}: {errors:#?}\n{body:#}");
}

fn ping() -> Value {
    json!({"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1})
}

#[tokio::test]
async fn ping_answers_pong_and_only_authentic_fresh_unseen_requests_get_through() {
    let d = discord().await;
    let pong = call(&d.router, d.signed(&ping(), d.now)).await;
    assert_eq!(pong.status, StatusCode::OK);
    assert_eq!(pong.json(), json!({"type": 1}));
    assert_conforms("PongInteractionCallbackRequest", &pong.json());

    let again = call(&d.router, d.signed(&ping(), d.now)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "replayed");

    let stale = call(&d.router, d.signed(&ping(), d.now - 301)).await;
    assert_eq!(
        stale.status,
        StatusCode::UNAUTHORIZED,
        "older than five minutes"
    );

    let other = SigningKey::from_bytes(&[9u8; 32]);
    let body = ping().to_string();
    let forged = request(&body, d.now + 1, &sign(&other, d.now + 1, &body));
    assert_eq!(
        call(&d.router, forged).await.status,
        StatusCode::UNAUTHORIZED
    );

    let good = sign(&d.key, d.now + 2, &body);
    let tampered = request(&body.replace("\"t\"", "\"u\""), d.now + 2, &good);
    assert_eq!(
        call(&d.router, tampered).await.status,
        StatusCode::UNAUTHORIZED
    );

    let unsigned = Request::post("/discord/interactions")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(
        call(&d.router, unsigned).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn cost_is_a_private_message_with_the_figures_and_acknowledge_buttons() {
    let d = discord().await;
    let subject = d.seeded.spike_subject();
    let command = json!({"id": "3", "application_id": "2", "type": 2, "token": "t", "version": 1,
        "data": {"id": "4", "name": "cost", "type": 1},
        "member": {"user": {"id": "5", "username": "ana"}}});
    let answer = call(&d.router, d.signed(&command, d.now)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_conforms("CreateMessageInteractionCallbackRequest", &body);
    assert_eq!(body["data"]["flags"], 64, "only the asker sees it");
    let text = body.to_string();
    assert!(
        text.contains("Month to date") && text.contains("Month-end forecast"),
        "{text}"
    );
    assert!(text.contains(&d.seeded.spike_service), "{text}");
    let ids: Vec<&str> = body["data"]["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&custom_id(ACKNOWLEDGE, &subject).as_str()),
        "{ids:?}"
    );

    // The `scope` option names what to answer about; a name that matches several is a private
    // sentence listing them, with Discord's markdown escaped.
    let about = |scope: &str, id: &str| {
        json!({"id": id, "application_id": "2", "type": 2, "token": "t", "version": 1,
            "data": {"id": "4", "name": "cost", "type": 1,
                     "options": [{"name": "scope", "type": 3, "value": scope}]},
            "member": {"user": {"id": "5", "username": "ana"}}})
    };
    let body = call(&d.router, d.signed(&about("data-platform", "6"), d.now + 1))
        .await
        .json();
    assert_conforms("CreateMessageInteractionCallbackRequest", &body);
    assert_eq!(
        body["data"]["embeds"][0]["title"], "Cloud spend: Account data\\-platform",
        "{body:#}"
    );
    let several = call(&d.router, d.signed(&about("web_", "7"), d.now + 2))
        .await
        .json();
    assert_conforms("CreateMessageInteractionCallbackRequest", &several);
    let content = several["data"]["content"].as_str().unwrap();
    assert!(content.contains("web\\_"), "escaped: {content}");
}

#[tokio::test]
async fn a_button_moves_the_anomaly_once_and_tells_the_clicker() {
    let d = discord().await;
    let subject = d.seeded.spike_subject();
    let announced = || {
        d.seeded
            .bus
            .published()
            .iter()
            .filter(|n| n.subject_id == subject)
            .map(|n| (n.state, n.summary.clone()))
            .collect::<Vec<_>>()
    };
    let before = announced().len();
    let click = |custom: String| {
        json!({"id": "6", "application_id": "2", "type": 3, "token": "t", "version": 1,
            "data": {"custom_id": custom, "component_type": 2},
            "member": {"user": {"id": "5", "username": "ana"}}})
    };
    let first = call(
        &d.router,
        d.signed(&click(custom_id(SNOOZE_DAY, &subject)), d.now),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    let body = first.json();
    assert_conforms("CreateMessageInteractionCallbackRequest", &body);
    let said = body["data"]["content"].as_str().unwrap();
    // Escaped for Discord's markdown: the `@` cannot become a mention.
    let expected = costwatch_core::escape::discord_markdown("Snoozed by @ana in Discord until");
    assert!(said.starts_with(&expected), "{said}");
    let after = announced();
    assert_eq!(after.len(), before + 1);
    assert_eq!(after.last().unwrap().0, State::Acknowledged);

    let second = call(
        &d.router,
        d.signed(&click(custom_id(ACKNOWLEDGE, &subject)), d.now + 1),
    )
    .await;
    let said = second.json()["data"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(said.contains("nothing changed"), "{said}");
    assert_eq!(announced().len(), before + 1, "nothing twice");

    let foreign = call(
        &d.router,
        d.signed(&click("someone_else:x".into()), d.now + 2),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
}

/// The PATCH body schema of `/webhooks/{id}/{token}/messages/@original` in Discord's document.
fn webhook_update_schema() -> jsonschema::Validator {
    callback_schema("IncomingWebhookUpdateRequestPartial")
}

/// A `/cost` slower than the 3 s (here: every one) answers "deferred" (type 5, private) at once,
/// and the same figures then edit that message through the interaction's webhook.
#[tokio::test]
async fn a_slow_cost_is_deferred_and_the_answer_edits_the_original_message() {
    let d = discord().await;
    let command = json!({"id": "3", "application_id": "2", "type": 2, "token": "aW50ZXJhY3Rpb24", "version": 1,
        "data": {"id": "4", "name": "cost", "type": 1},
        "member": {"user": {"id": "5", "username": "ana"}}});
    let inline = call(&d.router, d.signed(&command, d.now)).await.json();
    let followups = support::Followups::start().await;
    let (deferring, now) = d.seeded.chat_deferring(
        MemorySecrets::new(),
        ChatSecrets {
            slack_signing_secret: None,
            discord_public_key: Some(hex::encode(d.key.verifying_key().to_bytes())),
        },
        Some(&followups.server.url()),
    );
    // A second signature (the first was seen, and the seen ones are kept in the shared store).
    let ack = call(&deferring, d.signed(&command, now + 1)).await;
    assert_eq!(ack.status, StatusCode::OK);
    let ack = ack.json();
    assert_conforms("CreateMessageInteractionCallbackRequest", &ack);
    assert_eq!(ack, json!({"type": 5, "data": {"flags": 64}}));

    let edit = followups.next().await;
    assert_eq!(edit.method, "PATCH");
    assert_eq!(
        edit.path, "/api/v10/webhooks/2/aW50ZXJhY3Rpb24/messages/@original",
        "the interaction's own webhook"
    );
    let body = edit.json().unwrap();
    let errors: Vec<String> = webhook_update_schema()
        .iter_errors(&body)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
    assert_eq!(
        body["embeds"], inline["data"]["embeds"],
        "the inline figures"
    );
    assert_eq!(body["components"], inline["data"]["components"]);
}
