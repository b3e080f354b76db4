//! Every execute-webhook request the Discord dispatcher renders validates against the request
//! body schema of `execute_webhook` in Discord's own OpenAPI document
//! (`specs/discord/openapi.json`, $refs resolved against its components), keeps every embed
//! limit, parses no mentions, and carries a report's chart as `files[0]`.

use costwatch_core::Notification;
use costwatch_core::findings::RootCause;
use costwatch_core::notification::{Link, NotificationBody, State};
use costwatch_core::samples::of_kind as sample;
use costwatch_core::shared::shared_path;
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::{Body, Integration, Message, PartData, RenderContext, load_config};
use costwatch_dispatch_discord::{Discord, DiscordConfig, limits};
use costwatch_dispatch_kit::envelopes::variants;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const URL: &str = "https://discord.com/api/webhooks/123456789012345678/test-token_abc";

/// The `application/json` request body schema of `POST /webhooks/{webhook_id}/{webhook_token}`,
/// as a root document holding the spec's components so every `#/components/…` $ref resolves.
fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(shared_path("specs/discord/openapi.json"))
        .expect("Discord OpenAPI");
    let spec: Value = serde_json::from_str(&text).unwrap();
    let op = &spec["paths"]["/webhooks/{webhook_id}/{webhook_token}"]["post"];
    assert_eq!(op["operationId"], "execute_webhook");
    let mut schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
    schema["components"] = spec["components"].clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn config() -> DiscordConfig {
    load_config::<Discord>(json!({"destinations": {"ops": {"webhook_url": URL}}})).unwrap()
}

/// The JSON payload (from the body or the multipart's `payload_json`) and the chart, if any.
fn render(message: Message<'_>) -> (Value, Option<Vec<u8>>, String) {
    let requests = Discord::render(&config(), "ops", message, &RenderContext::default()).unwrap();
    assert_eq!(requests.len(), 1);
    let url = requests[0].url.expose().to_owned();
    match &requests[0].body {
        Body::Json(v) => (v.clone(), None, url),
        Body::Multipart(parts) => {
            assert_eq!(parts[0].name, "payload_json");
            let PartData::Json(payload) = &parts[0].data else {
                panic!()
            };
            assert_eq!(parts[1].name, "files[0]");
            let PartData::Bytes(png) = &parts[1].data else {
                panic!()
            };
            (payload.clone(), Some(png.clone()), url)
        }
        other => panic!("unexpected body {other:?}"),
    }
}

fn assert_valid(v: &jsonschema::Validator, payload: &Value) {
    let errors: Vec<String> = v
        .iter_errors(payload)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{payload:#}");
    assert_eq!(payload["allowed_mentions"], json!({"parse": []}));
    assert_limits(payload);
}

/// Discord's documented limits, checked directly (the schema has the per-field ones, not the
/// 6,000 total).
fn assert_limits(payload: &Value) {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let embeds = payload["embeds"].as_array().unwrap();
    assert!(!embeds.is_empty() && embeds.len() <= limits::EMBEDS);
    let mut total = 0;
    for e in embeds {
        assert!(len(&e["title"]) <= limits::TITLE);
        assert!(len(&e["description"]) <= limits::DESCRIPTION);
        assert!(len(&e["footer"]["text"]) <= limits::FOOTER);
        total += len(&e["title"]) + len(&e["description"]) + len(&e["footer"]["text"]);
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        assert!(fields.len() <= limits::FIELDS);
        for f in &fields {
            assert!(len(&f["name"]) <= limits::FIELD_NAME && len(&f["name"]) > 0);
            assert!(len(&f["value"]) <= limits::FIELD_VALUE && len(&f["value"]) > 0);
            total += len(&f["name"]) + len(&f["value"]);
        }
    }
    assert!(total <= limits::TOTAL, "{total} characters");
}

/// Every sample envelope and its variants (a weekly report, the anomaly's later states, one with
/// a link): what the conformance suite renders.
fn samples() -> Vec<Notification> {
    variants().into_iter().map(|(_, n)| n).collect()
}

#[test]
fn every_kind_renders_a_request_discord_accepts() {
    let v = validator();
    for n in samples() {
        let (payload, chart, url) = render(Message::One(&n));
        assert_valid(&v, &payload);
        assert!(url.starts_with(URL) && url.contains("wait=true"), "{url}");
        assert!(payload.to_string().contains(&n.id), "{}", n.kind());
        if n.kind() == "report" {
            let png = chart.expect("a report carries its chart");
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(payload["attachments"][0]["filename"], "chart.png");
            assert_eq!(
                payload["embeds"][0]["image"]["url"],
                "attachment://chart.png"
            );
        } else {
            assert!(chart.is_none());
        }
    }
}

#[test]
fn a_digest_of_many_envelopes_keeps_every_limit_and_counts_the_rest() {
    let v = validator();
    let base = sample("anomaly");
    let storm: Vec<Notification> = (0..40)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("ntf_storm_{i:02}");
            n.title = format!("Cost spike {i}: {}", "x".repeat(150));
            n.summary = "s".repeat(800);
            n
        })
        .collect();
    let (payload, _, _) = render(Message::Digest(&storm));
    assert_valid(&v, &payload);
    let embeds = payload["embeds"].as_array().unwrap();
    let individually = embeds.len() - 1;
    let last = embeds.last().unwrap();
    assert_eq!(last["title"], format!("… and {} more", 40 - individually));
}

#[test]
fn long_lists_are_summarised_within_a_field() {
    let v = validator();
    let mut n = sample("anomaly");
    n.links.push(Link {
        label: "Details".into(),
        url: "https://costs.example.com/a/1".into(),
    });
    let NotificationBody::Anomaly(f) = &mut n.body else {
        unreachable!()
    };
    f.root_causes = (0..500)
        .map(|i| RootCause {
            dimension: "resource".into(),
            value: format!("training-job/job-{i:04}"),
            contribution: Decimal::new(10_000 - i, 2),
            share: 0.002,
        })
        .collect();
    let (payload, _, _) = render(Message::One(&n));
    assert_valid(&v, &payload);
    let text = payload.to_string();
    let shown = text.matches("job\\\\-").count();
    assert!(shown > 0 && shown < 500, "{shown}");
    assert!(
        text.contains(&format!("and {} more root causes", 500 - shown)),
        "{text}"
    );
}

#[test]
fn hostile_values_cannot_mention_format_or_inject() {
    let v = validator();
    for hostile in HOSTILE {
        let mut n = sample("anomaly");
        n.title = hostile.to_owned();
        n.summary = hostile.to_owned();
        n.scope.label = hostile.to_owned();
        n.scope.tags.insert("team".into(), hostile.to_owned());
        let NotificationBody::Anomaly(f) = &mut n.body else {
            unreachable!()
        };
        f.root_causes[0].value = hostile.to_owned();
        let (payload, _, _) = render(Message::One(&n));
        assert_valid(&v, &payload);
        let embed = &payload["embeds"][0];
        let mut texts = vec![embed["title"].clone(), embed["description"].clone()];
        for f in embed["fields"].as_array().unwrap() {
            texts.push(f["value"].clone());
        }
        for t in texts {
            let t = t.as_str().unwrap();
            assert!(!t.contains("@everyone") && !t.contains("@here"), "{t:?}");
            assert!(
                !t.contains("**") && !t.contains("](") && !t.replace("\\<", "").contains('<'),
                "{t:?}"
            );
            assert!(!t.contains('\u{202E}'), "{t:?}");
        }
        assert_eq!(
            payload.as_object().unwrap().len(),
            3,
            "no injected top-level keys"
        );
    }
}

#[test]
fn a_payload_over_a_limit_fails_the_schema() {
    let v = validator();
    let n = sample("budget");
    let (mut payload, _, _) = render(Message::One(&n));
    payload["embeds"][0]["title"] = json!("t".repeat(257));
    assert!(!v.is_valid(&payload));
}

#[test]
fn the_sqs_sample_event_renders_what_the_vendor_accepts() {
    // events/dispatch-discord/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-discord/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let v = validator();
    for r in records {
        assert_eq!(r["eventSource"], "aws:sqs");
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let (payload, _, _) = render(Message::One(&n));
        assert_valid(&v, &payload);
    }
}

#[test]
fn an_interactive_destination_puts_buttons_on_active_anomalies_as_discord_documents_them() {
    use costwatch_core::chat_actions::{ACKNOWLEDGE, EXPECTED, SNOOZE_DAY, custom_id};
    let config = load_config::<Discord>(
        json!({"destinations": {"ops": {"webhook_url": URL, "interactive": true}}}),
    )
    .unwrap();
    let v = validator();
    let rendered = |n: &Notification| {
        let r =
            Discord::render(&config, "ops", Message::One(n), &RenderContext::default()).unwrap();
        let Body::Json(payload) = &r[0].body else {
            panic!("json")
        };
        (payload.clone(), r[0].url.expose().to_owned())
    };
    let mut n = sample("anomaly");
    let (payload, url) = rendered(&n);
    assert_valid(&v, &payload);
    let ids: Vec<&str> = payload["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = [ACKNOWLEDGE, SNOOZE_DAY, EXPECTED]
        .iter()
        .map(|a| custom_id(a, &n.subject_id))
        .collect();
    assert_eq!(ids, want);
    assert!(url.contains("with_components=true"), "{url}");
    n.state = State::Resolved;
    assert!(
        rendered(&n).0.get("components").is_none(),
        "nothing to act on"
    );
    // A budget alert: Acknowledge only.
    let budget = sample("budget");
    let (payload, _) = rendered(&budget);
    assert_valid(&v, &payload);
    assert_eq!(
        payload["components"][0]["components"][0]["custom_id"],
        custom_id(ACKNOWLEDGE, &budget.subject_id)
    );
    assert_eq!(
        payload["components"][0]["components"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Not interactive (the default): no buttons.
    let (plain, _, _) = render(Message::One(&sample("anomaly")));
    assert!(plain.get("components").is_none());
}
