//! Every card the Teams dispatcher renders — each kind, each state, a weekly report, a digest,
//! oversized and hostile inputs — validates against the official Adaptive Card 1.5 schema
//! (`specs/teams/adaptive-card-1.5.0.schema.json`), sits in the Workflows message wrapper and
//! stays within Teams' 28 KB.

use costwatch_core::Notification;
use costwatch_core::findings::RootCause;
use costwatch_core::notification::{Link, NotificationBody};
use costwatch_core::samples::of_kind as sample;
use costwatch_core::shared::shared_path;
use costwatch_dispatch::Integration;
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::{Body, Message, RenderContext, load_config};
use costwatch_dispatch_kit::envelopes::variants;
use costwatch_dispatch_teams::{MAX_MESSAGE_BYTES, Teams, TeamsConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const URL: &str = "https://prod-00.westus.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=test-signature";

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(shared_path("specs/teams/adaptive-card-1.5.0.schema.json"))
        .expect("the Adaptive Card 1.5 schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn config() -> TeamsConfig {
    load_config::<Teams>(json!({"destinations": {"finops": {"webhook_url": URL}}})).unwrap()
}

fn render(message: Message<'_>) -> Value {
    let requests = Teams::render(&config(), "finops", message, &RenderContext::default()).unwrap();
    assert_eq!(requests.len(), 1);
    let Body::Json(body) = &requests[0].body else {
        panic!("Teams bodies are JSON")
    };
    assert_eq!(requests[0].url.expose(), URL);
    body.clone()
}

/// The card inside the wrapper, after checking the wrapper and the size.
fn card_of(body: &Value) -> &Value {
    assert_eq!(body["type"], "message");
    let attachments = body["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(
        attachments[0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let size = serde_json::to_vec(body).unwrap().len();
    assert!(size <= MAX_MESSAGE_BYTES, "{size} bytes");
    &attachments[0]["content"]
}

fn assert_valid(v: &jsonschema::Validator, card: &Value) {
    let errors: Vec<String> = v
        .iter_errors(card)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{card:#}");
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.5");
}

/// Every sample envelope and its variants (a weekly report, the anomaly's later states, one with
/// a link): what the conformance suite renders.
fn samples() -> Vec<Notification> {
    variants().into_iter().map(|(_, n)| n).collect()
}

/// All text shown in the card, wherever it sits.
fn texts(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            let ty = map
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            for (k, child) in map {
                if let Value::String(s) = child
                    && matches!(k.as_str(), "text" | "title" | "value" | "fallbackText")
                {
                    out.push((ty.clone(), s.clone()));
                }
                texts(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| texts(i, out)),
        _ => {}
    }
}

#[test]
fn every_kind_and_state_renders_a_valid_card() {
    let v = validator();
    let all = samples();
    let kinds: std::collections::BTreeSet<&str> = all.iter().map(|n| n.kind()).collect();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    for n in &all {
        let body = render(Message::One(n));
        let card = card_of(&body);
        assert_valid(&v, card);
        let mut shown = Vec::new();
        texts(card, &mut shown);
        let all_text: String = shown
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            all_text.contains(&n.title),
            "{} title missing:\n{all_text}",
            n.kind()
        );
    }
}

#[test]
fn the_anomaly_card_shows_expected_actual_interval_impact_and_root_causes() {
    let n = sample("anomaly");
    let body = render(Message::One(&n));
    let mut shown = Vec::new();
    texts(card_of(&body), &mut shown);
    let all: Vec<&str> = shown.iter().map(|(_, t)| t.as_str()).collect();
    for needle in [
        "$558.00",
        "$186.00 (usual range $162.00–$210.00)",
        "+$372.00 (+200%)",
        "USE1-Training:ml.p3.8xlarge",
        "+$369.00",
        "99%",
    ] {
        assert!(
            all.iter().any(|t| t.contains(needle)),
            "{needle} not in {all:#?}"
        );
    }
    assert!(body.to_string().contains("\"type\":\"Table\""));
}

#[test]
fn a_digest_is_one_valid_card_listing_every_envelope() {
    let v = validator();
    let all = samples();
    let body = render(Message::Digest(&all));
    let card = card_of(&body);
    assert_valid(&v, card);
    let text = card.to_string();
    for n in &all {
        assert!(text.contains(&n.id), "{}", n.id);
    }
}

#[test]
fn oversized_cards_are_summarised_with_a_count_and_a_link() {
    let v = validator();
    let mut n = sample("anomaly");
    n.links.push(Link {
        label: "Details".into(),
        url: "https://costs.example.com/a/1".into(),
    });
    let NotificationBody::Anomaly(f) = &mut n.body else {
        unreachable!()
    };
    f.root_causes = (0..2_000)
        .map(|i| RootCause {
            dimension: "resource".into(),
            value: format!("arn:aws:sagemaker:us-east-1:444455556666:training-job/job-{i:05}"),
            contribution: Decimal::new(10_000 - i, 2),
            share: 0.0005,
        })
        .collect();
    let body = render(Message::One(&n));
    let card = card_of(&body);
    assert_valid(&v, card);
    let text = card.to_string();
    let shown = text.matches("training-job/job-").count();
    assert!(shown > 0 && shown < 2_000, "{shown}");
    let note = format!(
        "… and {} more root causes: https://costs.example.com/a/1",
        2_000 - shown
    );
    assert!(text.contains(&note), "missing {note}");
}

#[test]
fn hostile_values_stay_plain_text_and_cannot_inject_card_json() {
    let v = validator();
    for hostile in HOSTILE {
        let mut n = sample("anomaly");
        n.title = format!("Spike {hostile}");
        n.summary = hostile.to_owned();
        n.scope.label = hostile.to_owned();
        n.scope.account_name = Some(hostile.to_owned());
        n.scope.tags.insert("team".into(), hostile.to_owned());
        let NotificationBody::Anomaly(f) = &mut n.body else {
            unreachable!()
        };
        f.root_causes[0].value = hostile.to_owned();
        let body = render(Message::One(&n));
        let card = card_of(&body);
        assert_valid(&v, card);
        let mut shown = Vec::new();
        texts(card, &mut shown);
        for (ty, text) in &shown {
            if text.contains("injected") || text.contains("script") || text.contains("everyone") {
                // User text only ever sits in TextRuns, which Adaptive Cards never parse as markdown.
                assert_eq!(ty, "TextRun", "{text:?} in a {ty}");
                assert!(
                    !text.contains("@everyone") && !text.contains("@here"),
                    "{text:?}"
                );
                assert!(!text.contains('\u{202E}'), "{text:?}");
            }
        }
        // The injected element never becomes a card element.
        let elements = card["body"].as_array().unwrap();
        assert!(
            elements
                .iter()
                .all(|e| e["type"] != "TextBlock" || e["text"] != "injected")
        );
    }
}

#[test]
fn a_card_the_schema_refuses_is_caught() {
    // The validator is strict (additionalProperties: false): a typo'd property fails, so the
    // tests above could fail.
    let v = validator();
    let n = sample("budget");
    let body = render(Message::One(&n));
    let mut card = card_of(&body).clone();
    card["body"][0]["colour"] = json!("red");
    assert!(!v.is_valid(&card));
}

#[test]
fn the_sqs_sample_event_renders_what_the_vendor_accepts() {
    // events/dispatch-teams/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-teams/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let v = validator();
    for r in records {
        assert_eq!(r["eventSource"], "aws:sqs");
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let body = render(Message::One(&n));
        assert_valid(&v, card_of(&body));
    }
}
