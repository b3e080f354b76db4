//! One content model for Slack, Teams and Discord: for every sample envelope, each payload shows
//! every fact (label and value) and every table heading of the envelope's `View`, each escaped
//! for its markup; and an envelope in euros shows `€`, never `$`, in its title and in all three.

use costwatch_core::Notification;
use costwatch_core::samples;
use costwatch_dispatch::escape::{discord_markdown, plain, slack_mrkdwn};
use costwatch_dispatch::view::View;
use costwatch_dispatch::{Configured, Message, RenderContext, entry};
use costwatch_dispatch_discord::Discord;
use costwatch_dispatch_slack::Slack;
use costwatch_dispatch_teams::Teams;
use serde_json::{Value, json};

/// Name, configured integration, destination, and how it escapes a raw string of the view.
type Rendered = (
    &'static str,
    Box<dyn Configured>,
    &'static str,
    fn(&str) -> String,
);

fn load(entry: Box<dyn costwatch_dispatch::Entry>, config: Value) -> Box<dyn Configured> {
    // Inline credentials are ready as loaded: rendering needs no secret store.
    entry.load(config).unwrap()
}

fn integrations() -> Vec<Rendered> {
    let slack = json!({
        "bot_token": "xoxb-1-2-tokensecret",
        "destinations": {
            "hook": {"webhook_url": "https://hooks.slack.com/services/T0/B0/hooksecret"},
            "bot": {"channel": "C0OPS"}
        }
    });
    let teams = json!({"destinations": {"finops": {"webhook_url":
        "https://prod-00.westus.logic.azure.com:443/workflows/0/triggers/manual/paths/invoke?sig=secret"}}});
    let discord = json!({"destinations": {"ops": {"webhook_url":
        "https://discord.com/api/webhooks/1/token"}}});
    vec![
        (
            "slack webhook",
            load(entry::<Slack>(), slack.clone()),
            "hook",
            slack_mrkdwn,
        ),
        (
            "slack bot",
            load(entry::<Slack>(), slack),
            "bot",
            slack_mrkdwn,
        ),
        ("teams", load(entry::<Teams>(), teams), "finops", plain),
        (
            "discord",
            load(entry::<Discord>(), discord),
            "ops",
            discord_markdown,
        ),
    ]
}

/// Every string value in the requests' bodies, one per line: what a reader can be shown.
fn shown(c: &dyn Configured, destination: &str, n: &Notification) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    for r in c
        .render(destination, Message::One(n), &RenderContext::default())
        .unwrap()
    {
        walk(&r.printable()["body"], &mut out);
    }
    out
}

#[test]
fn every_integration_shows_the_same_facts_and_table_headings() {
    let integrations = integrations();
    for (kind, n) in samples::all() {
        let view = View::of(&n);
        assert!(!view.facts.is_empty(), "{kind}");
        for (name, c, destination, escape) in &integrations {
            let text = shown(c.as_ref(), destination, &n);
            for (label, value) in &view.facts {
                assert!(
                    text.contains(&escape(label)),
                    "{name} {kind}: no fact `{label}` in\n{text}"
                );
                assert!(
                    text.contains(&escape(value)),
                    "{name} {kind}: `{label}` is not `{value}` in\n{text}"
                );
            }
            for table in &view.tables {
                assert!(
                    text.contains(&escape(&table.heading)),
                    "{name} {kind}: no table `{}` in\n{text}",
                    table.heading
                );
                for row in &table.rows {
                    for cell in row {
                        assert!(
                            text.contains(&escape(cell)),
                            "{name} {kind}: no cell `{cell}` of `{}` in\n{text}",
                            table.heading
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn an_envelope_in_euros_shows_euros_in_its_title_and_everywhere() {
    let integrations = integrations();
    for (kind, n) in samples::all_in("EUR") {
        assert_eq!(n.currency, "EUR", "{kind}");
        if kind == "test" {
            continue;
        }
        // A recommendation's title is its own words; every other kind's states an amount.
        assert!(
            (kind == "recommendation" || n.title.contains('€')) && !n.title.contains('$'),
            "{kind}: {}",
            n.title
        );
        assert!(!n.summary.contains('$'), "{kind}: {}", n.summary);
        for (name, c, destination, _) in &integrations {
            let text = shown(c.as_ref(), destination, &n);
            assert!(text.contains('€'), "{name} {kind}: no € in\n{text}");
            assert!(!text.contains('$'), "{name} {kind}: a $ in\n{text}");
        }
    }
    // The same figures in dollars, for contrast: the samples are USD.
    let (_, usd) = samples::all().remove(0);
    assert!(usd.title.contains("$372.00"), "{}", usd.title);
    let (_, eur) = samples::all_in("EUR").remove(0);
    assert!(eur.title.contains("€372.00"), "{}", eur.title);
}

#[test]
fn a_huge_slack_digest_lists_what_fits_in_50_blocks_and_counts_the_rest() {
    let slack = load(
        entry::<Slack>(),
        json!({"destinations": {"hook": {"webhook_url": "https://hooks.slack.com/services/T0/B0/x"}}}),
    );
    let storm: Vec<Notification> = (0..2000)
        .map(|i| {
            let mut n = samples::of_kind("anomaly");
            n.id = format!("ntf_storm_{i}");
            n.title = format!("Spike #{i} {}", "x".repeat(120));
            n
        })
        .collect();
    let requests = slack
        .render("hook", Message::Digest(&storm), &RenderContext::default())
        .unwrap();
    let body = requests[0].printable()["body"].clone();
    let blocks = body["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50, "{}", blocks.len());
    for b in blocks {
        let n = b["text"]["text"].as_str().map_or(0, |t| t.chars().count());
        assert!(n <= 3000, "{n}");
    }
    let text = serde_json::to_string(blocks).unwrap();
    assert!(text.contains("2000 cost notifications"), "{text}");
    let listed = (0..2000)
        .filter(|i| text.contains(&format!("Spike #{i} ")))
        .count();
    assert!(listed > 100, "only {listed} listed");
    assert!(
        text.contains(&format!("… and {} more notifications", 2000 - listed)),
        "{text}"
    );
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("2000 cost notifications: ")
    );
}
