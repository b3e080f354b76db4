//! `GET /v1/integrations` over what the dispatchers really record: ledger and disabled items
//! written by crates/dispatch's own `Ledger` and `Disabled` into the state store, read back
//! through the router; dead-letter depth from a real SQS queue on moto through the api
//! function's adapter.

// Shared with tests/api.rs, which uses the rest of it.
#[allow(dead_code)]
mod support;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_api::deliveries::KNOWN;
use costwatch_api::sqs_depth::SqsQueueDepth;
use costwatch_dispatch::disabled::Disabled;
use costwatch_dispatch::ledger::{Claim, Ledger, Ticket};
use costwatch_store::memory::MemorySecrets;
use costwatch_testkit::moto::Moto;
use serde_json::Value;
use support::contract::Contract;
use support::{call, get, seeded};

const PATH: &str = "/v1/integrations";

fn granted(claim: Claim) -> Ticket {
    match claim {
        Claim::Granted(t) => t,
        other => panic!("not granted: {other:?}"),
    }
}

fn named<'a>(health: &'a Value, name: &str) -> &'a Value {
    health["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {health:#}"))
}

#[tokio::test]
async fn deliveries_failures_and_disabled_destinations_come_from_the_ledger() {
    let s = seeded().await;
    let store = s.state.as_ref();
    let ledger = Ledger::new(store, Duration::minutes(6));
    let t0: DateTime<Utc> = "2026-11-21T06:00:00Z".parse().unwrap();
    // Two deliveries to #finops: the later one is the last delivery.
    for (envelope, at) in [("ntf_early", t0), ("ntf_late", t0 + Duration::minutes(3))] {
        let ticket = granted(ledger.claim("slack", "finops", envelope, at).await.unwrap());
        ledger.sent(ticket, at).await.unwrap();
    }
    // One to #ml failed twice, the vendor asking to wait; one failed once then went through.
    let wait = t0 + Duration::hours(1);
    let first = granted(ledger.claim("slack", "ml", "ntf_stuck", t0).await.unwrap());
    ledger
        .release(first, "HTTP 500: upstream", None)
        .await
        .unwrap();
    let again = granted(ledger.claim("slack", "ml", "ntf_stuck", t0).await.unwrap());
    ledger
        .release(again, "HTTP 429: slow down", Some(wait))
        .await
        .unwrap();
    let flaky = granted(ledger.claim("slack", "ml", "ntf_flaky", t0).await.unwrap());
    ledger.release(flaky, "timeout", None).await.unwrap();
    let flaky = granted(ledger.claim("slack", "ml", "ntf_flaky", t0).await.unwrap());
    ledger.sent(flaky, t0).await.unwrap();
    Disabled::new(store)
        .disable("slack", "old-channel", "HTTP 410: gone", t0)
        .await
        .unwrap();

    let api = s.open();
    let answer = call(&api, get(PATH)).await;
    Contract::load().check("GET", PATH, 200, &answer.content_type, &answer.body);
    let health = answer.json();
    assert_eq!(health["window_days"], 15);
    let names: Vec<&str> = health["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, KNOWN);

    let slack = named(&health, "slack");
    assert_eq!(slack["configured"], true);
    assert_eq!(slack["last_delivery"]["envelope_id"], "ntf_late");
    assert_eq!(slack["last_delivery"]["destination"], "finops");
    assert_eq!(slack["last_delivery"]["at"], "2026-11-21T06:03:00Z");
    assert_eq!(slack["failures"]["failing"], 1, "{slack:#}");
    assert_eq!(slack["failures"]["retried"], 2, "stuck and flaky");
    let error = &slack["failures"]["errors"][0];
    assert_eq!(error["envelope_id"], "ntf_stuck");
    assert_eq!(error["attempts"], 2);
    assert_eq!(error["error"], "HTTP 429: slow down");
    assert_eq!(error["retry_after"], "2026-11-21T07:00:00Z");
    assert_eq!(slack["disabled"][0]["destination"], "old-channel");
    assert_eq!(slack["disabled"][0]["reason"], "HTTP 410: gone");
    // One machine runs no queues: no depth, and the note says so.
    assert_eq!(slack["dead_letters"], Value::Null);
    let notes = slack["notes"].to_string();
    assert!(notes.contains("runs no queues"), "{notes}");

    let teams = named(&health, "teams");
    assert_eq!(teams["configured"], false);
    assert_eq!(teams["last_delivery"], Value::Null);
    assert_eq!(teams["failures"]["failing"], 0);
    assert!(teams["notes"].to_string().contains("last_delivery"));

    let only = call(&api, get(&format!("{PATH}?configured=true")))
        .await
        .json();
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    assert_eq!(only["items"][0]["name"], "slack");
    let bad = call(&api, get(&format!("{PATH}?configured=maybe"))).await;
    assert_eq!(bad.status.as_u16(), 400);
    Contract::load().check("GET", PATH, 400, &bad.content_type, &bad.body);
}

#[tokio::test]
async fn dead_letter_depth_is_read_from_sqs() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dlq = sqs
        .create_queue()
        .queue_name("slack-dlq")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for i in 0..3 {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("{{\"id\":\"ntf_{i}\"}}"))
            .send()
            .await
            .unwrap();
    }
    let missing = format!("{}/123456789012/no-such-queue", moto.url());
    let urls = [("slack", dlq.as_str()), ("teams", missing.as_str())]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let s = seeded().await;
    let depth = Arc::new(SqsQueueDepth::new(&config, Some(urls)));
    let api = s.router_with(
        costwatch_api::Auth::Trusted,
        MemorySecrets::new(),
        s.integrations(Some(depth)),
    );
    let answer = call(&api, get(PATH)).await;
    Contract::load().check("GET", PATH, 200, &answer.content_type, &answer.body);
    let health = answer.json();
    assert_eq!(named(&health, "slack")["dead_letters"], 3);
    // A queue that cannot be read: no number, and why.
    let teams = named(&health, "teams");
    assert_eq!(teams["dead_letters"], Value::Null);
    assert!(
        teams["notes"].to_string().contains("GetQueueAttributes"),
        "{teams:#}"
    );
    // Not deployed: no queue to ask.
    let jira = named(&health, "jira");
    assert_eq!(jira["dead_letters"], Value::Null);
    assert!(
        jira["notes"].to_string().contains("not deployed"),
        "{jira:#}"
    );
}
