//! The Slack integration against the fake Slack: every kind in both modes, threads and updates,
//! the chart upload, Slack's errors (HTTP 200 `ok: false`, 429 + Retry-After), hostile values,
//! config validation.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costwatch_core::State;
use costwatch_dispatch::dispatcher::Verdict;
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::{Message, RenderContext, entry};
use costwatch_dispatch_slack::Slack;
use serde_json::json;
use support::*;

fn only(rule_dest: &str) -> serde_json::Value {
    json!({"rules": [{"destinations": [rule_dest]}]})
}

fn config_to(dest: &str) -> serde_json::Value {
    let mut c = config(1000);
    c["routing"] = only(dest);
    c
}

#[tokio::test]
async fn every_kind_is_accepted_by_webhook_and_bot_within_block_kit_limits() {
    let slack = Arc::new(fake_slack());
    let fake = serve(slack.clone()).await;
    for dest in ["finops", "ops"] {
        let rig = Rig::new(
            config_to(dest),
            &fake,
            Duration::from_secs(5),
            quick_retries(),
        )
        .await;
        let verdicts = rig.send(&all_kinds()).await;
        assert!(
            verdicts.iter().all(|(_, v)| *v == Verdict::Done),
            "{dest}: {verdicts:?}"
        );
    }
    let messages = slack.messages();
    let kinds = all_kinds().len();
    let webhook = messages.iter().filter(|m| m.via == "webhook").count();
    let posted = messages
        .iter()
        .filter(|m| m.via == "chat.postMessage")
        .count();
    assert_eq!((webhook, posted), (kinds, kinds));
    // The report's chart went up as a file into the report message's thread.
    let file = messages
        .iter()
        .find(|m| m.via == "file")
        .expect("chart uploaded");
    let parent = messages
        .iter()
        .find(|m| Some(&m.ts) == file.thread_ts.as_ref())
        .expect("the file is in a message's thread");
    assert_eq!(
        (parent.via.as_str(), parent.channel.as_str()),
        ("chat.postMessage", "C0OPS")
    );
    let files = slack.files();
    assert_eq!(files.len(), 1);
    assert!(String::from_utf8_lossy(files.values().next().unwrap()).starts_with("<svg"));
    // The anomaly shows expected against actual and its root cause.
    let anomaly = messages
        .iter()
        .find(|m| m.text.contains("Cost spike"))
        .unwrap();
    let text = serde_json::to_string(&anomaly.blocks).unwrap();
    assert!(
        text.contains("$558.00") && text.contains("$186.00") && text.contains("Root cause"),
        "{text}"
    );
}

#[tokio::test]
async fn later_states_update_the_original_message_and_reply_in_its_thread() {
    let slack = Arc::new(fake_slack());
    let fake = serve(slack.clone()).await;
    let rig = Rig::new(
        config_to("ops"),
        &fake,
        Duration::from_secs(5),
        quick_retries(),
    )
    .await;
    let open = sample("anomaly");
    let mut resolved = open.clone();
    resolved.state = State::Resolved;
    resolved.revision = 1;
    resolved.id = "ntf_resolved".into();
    resolved.summary = "Back to normal.".into();
    assert_eq!(
        rig.send(std::slice::from_ref(&open)).await[0].1,
        Verdict::Done
    );
    assert_eq!(
        rig.send(std::slice::from_ref(&resolved)).await[0].1,
        Verdict::Done
    );
    let messages = slack.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let (original, reply) = (&messages[0], &messages[1]);
    assert_eq!(original.updates, 1);
    assert!(
        serde_json::to_string(&original.blocks)
            .unwrap()
            .contains("resolved")
    );
    assert_eq!(reply.thread_ts.as_deref(), Some(original.ts.as_str()));
    assert!(
        serde_json::to_string(&reply.blocks)
            .unwrap()
            .contains("Resolved")
    );
}

#[tokio::test]
async fn ok_false_is_an_error_and_429_is_retried_after_its_delay() {
    let slack = Arc::new(fake_slack().throttle_first(1));
    let fake = serve(slack.clone()).await;
    let mut bad = config_to("ops");
    bad["bot_token"] = json!("xoxb-wrong");
    let rig = Rig::new(bad, &fake, Duration::from_secs(5), quick_retries()).await;
    let verdicts = rig.send(&[sample("budget")]).await;
    let Verdict::Dead { reason } = &verdicts[0].1 else {
        panic!("invalid_auth is permanent: {verdicts:?}");
    };
    assert!(reason.contains("invalid_auth"), "{reason}");
    assert!(slack.messages().is_empty());

    // The first post is throttled with Retry-After: 1; the dispatcher waits and delivers once.
    let rig = Rig::new(
        config_to("finops"),
        &fake,
        Duration::from_secs(5),
        quick_retries(),
    )
    .await;
    assert_eq!(rig.send(&[sample("budget")]).await[0].1, Verdict::Done);
    assert_eq!(slack.messages().len(), 1);
    let answers: Vec<_> = fake.log().iter().filter_map(|(_, s)| *s).collect();
    assert!(
        answers.contains(&429) && answers.contains(&200),
        "{answers:?}"
    );
    // Redelivery of the same envelope sends nothing.
    assert_eq!(rig.send(&[sample("budget")]).await[0].1, Verdict::Done);
    assert_eq!(slack.messages().len(), 1);
}

#[tokio::test]
async fn hostile_values_are_inert_in_every_kind() {
    let slack = Arc::new(fake_slack());
    let fake = serve(slack.clone()).await;
    let rig = Rig::new(
        config_to("finops"),
        &fake,
        Duration::from_secs(5),
        quick_retries(),
    )
    .await;
    let mut envelopes = Vec::new();
    for (i, mut n) in all_kinds().into_iter().enumerate() {
        let h = HOSTILE[i % HOSTILE.len()];
        n.title = format!("{h} title");
        n.summary = HOSTILE.join(" ");
        n.scope.label = h.into();
        n.scope.account_name = Some(h.into());
        n.scope.tags.insert("team".into(), HOSTILE.join(" "));
        // Resource ids and owner tags are the user's text too.
        if let costwatch_core::NotificationBody::Anomaly(f) = &mut n.body {
            for r in &mut f.resources {
                r.owner = Some(h.into());
                r.resource_id = Some(HOSTILE.join(" "));
            }
        }
        n.id = format!("ntf_hostile_{i}");
        envelopes.push(n);
    }
    let verdicts = rig.send(&envelopes).await;
    assert!(
        verdicts.iter().all(|(_, v)| *v == Verdict::Done),
        "{verdicts:?}"
    );
    for m in slack.messages() {
        let all = format!("{} {}", m.text, serde_json::to_string(&m.blocks).unwrap());
        for bad in [
            "<!channel>",
            "<!here",
            "@everyone",
            "@here",
            "<@U024BE7LH>",
            "<script>",
            "<https://evil",
            "**bold**",
            "\u{202E}",
        ] {
            assert!(!all.contains(bad), "{bad} survived in {all}");
        }
        // The injected "block" is text, not a block.
        assert!(m.blocks.iter().all(|b| b["text"]["text"] != "injected"));
    }
}

#[tokio::test]
async fn a_storm_becomes_one_digest_per_destination() {
    let slack = Arc::new(fake_slack());
    let fake = serve(slack.clone()).await;
    let mut c = config(1000);
    c["routing"] = json!({"rules": [{"destinations": ["finops", "ml-team"]}]});
    let mut rig = Rig::new(c, &fake, Duration::from_secs(5), quick_retries()).await;
    rig.settings.digest_from = 5;
    let storm: Vec<_> = (0..60)
        .map(|i| {
            let mut n = sample("anomaly");
            n.id = format!("ntf_storm_{i}");
            n.title = format!("Spike #{i}");
            n
        })
        .collect();
    let verdicts = rig.send(&storm).await;
    assert!(verdicts.iter().all(|(_, v)| *v == Verdict::Done));
    let messages = slack.messages();
    assert_eq!(messages.len(), 2, "one digest per destination");
    for m in &messages {
        assert!(m.blocks.len() <= 50);
        let text = serde_json::to_string(&m.blocks).unwrap();
        // The digest's View: its title, then a row per alert (all 60 fit).
        assert!(text.contains("60 cost notifications"), "{text}");
        for i in 0..60 {
            assert!(text.contains(&format!("Spike #{i} ·")), "{i}: {text}");
        }
    }
}

#[test]
fn configs_are_validated_without_io() {
    let load = |v: serde_json::Value| {
        entry::<Slack>()
            .load(v)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let err = load(json!({"destinations": {"a": {"webhook_url": "https://x/y", "colour": "red"}}}))
        .unwrap_err();
    assert!(err.contains("colour"), "{err}");
    let err = load(json!({"destinations": {"a": {"channel": "C1"}}})).unwrap_err();
    assert!(err.contains("bot_token"), "{err}");
    let err = load(json!({"destinations": {"a": {}}})).unwrap_err();
    assert!(err.contains("webhook_url or channel"), "{err}");
    let hook = "https://hooks.slack.com/services/T0/B0/y";
    let err =
        load(json!({"destinations": {"a": {"webhook_url": hook}}, "routing": {"fallback": "b"}}))
            .unwrap_err();
    assert!(err.contains("`b`"), "{err}");
    // Only Slack's hosts, over https, unless allow_hosts names another.
    let err = load(json!({"destinations": {"a": {"webhook_url": "https://x/y"}}})).unwrap_err();
    assert!(err.contains("`x`") && err.contains("allow_hosts"), "{err}");
    let err = load(
        json!({"destinations": {"a": {"webhook_url": "http://hooks.slack.com/services/T0/B0/y"}}}),
    )
    .unwrap_err();
    assert!(err.contains("https"), "{err}");
    let err = load(json!({"api_base": "https://slack.example/api", "destinations": {"a": {"webhook_url": hook}}})).unwrap_err();
    assert!(
        err.contains("api_base") && err.contains("slack.example"),
        "{err}"
    );
    assert!(
        load(json!({"allow_hosts": ["slack.example"], "api_base": "https://slack.example/api", "destinations": {"a": {"webhook_url": hook}}}))
            .is_ok()
    );
    let err = load(json!({"destinations": {}})).unwrap_err();
    assert!(err.contains("no destinations"), "{err}");
    assert!(
        load(
            json!({"destinations": {"a": {"webhook_url": {"secrets_manager": "costwatch/slack"}}}})
        )
        .is_ok()
    );
}

#[tokio::test]
async fn render_prints_no_secret_and_limits_hold_for_huge_reports() {
    let integration = load(config(1)).await;
    let mut report = sample("report");
    if let costwatch_core::NotificationBody::Report(r) = &mut report.body {
        let mover = r.top_services[0].clone();
        r.top_services = (0..500)
            .map(|i| {
                let mut m = mover.clone();
                m.label = format!("{} {i} {}", m.label, "x".repeat(200));
                m
            })
            .collect();
    }
    report.summary = "long ".repeat(2000);
    for dest in ["finops", "ops"] {
        let requests = integration
            .render(dest, Message::One(&report), &RenderContext::default())
            .unwrap();
        let printed =
            serde_json::to_string(&requests.iter().map(|r| r.printable()).collect::<Vec<_>>())
                .unwrap();
        assert!(
            !printed.contains("hooksecret") && !printed.contains("tokensecret"),
            "{printed}"
        );
        let body = requests[0].printable()["body"].clone();
        let blocks = body["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        for b in blocks {
            let n = b["text"]["text"].as_str().map_or(0, |t| t.chars().count());
            assert!(n <= 3000, "{n}");
        }
        assert!(printed.contains("more characters"), "shortened visibly");
    }
}

#[tokio::test]
async fn the_sam_sample_event_is_a_batch_the_handler_delivers() {
    use aws_lambda_events::event::sqs::SqsEvent;
    use costwatch_dispatch::sqs::{MemoryQueue, handle_batch};
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-slack/sqs.json"
    ))
    .unwrap();
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(event.records.len(), 3);
    let slack = Arc::new(fake_slack());
    let fake = serve(slack.clone()).await;
    let rig = Rig::new(
        config_to("finops"),
        &fake,
        Duration::from_secs(5),
        quick_retries(),
    )
    .await;
    let queue = MemoryQueue::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let response = handle_batch(
        &rig.dispatcher().await,
        &queue,
        &event,
        5,
        chrono::Utc::now(),
        deadline,
    )
    .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert_eq!(slack.messages().len(), 3);
    // A second delivery of the same batch (SQS is at-least-once) sends nothing new.
    let response = handle_batch(
        &rig.dispatcher().await,
        &queue,
        &event,
        5,
        chrono::Utc::now(),
        deadline,
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(slack.messages().len(), 3);
}
