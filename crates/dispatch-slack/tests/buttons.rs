//! With `interactive = true`, an active anomaly's message carries the buttons the chat endpoint
//! acts on (crates/api `chat::slack`), valued with the subject id; an acknowledged one drops
//! Acknowledge, a budget alert has Acknowledge only, a resolved one and every other kind get
//! none, and without the setting there are none at all.

use costwatch_core::{Notification, State, samples};
use costwatch_dispatch::{Configured, Message, RenderContext, entry};
use costwatch_dispatch_slack::Slack;
use costwatch_dispatch_slack::blocks::{ACTION_ACKNOWLEDGE, ACTION_EXPECTED, ACTION_SNOOZE_DAY};
use serde_json::{Value, json};

fn slack(interactive: bool) -> Box<dyn Configured> {
    entry::<Slack>()
        .load(json!({
            "interactive": interactive,
            "bot_token": "xoxb-1-2-tokensecret",
            "destinations": {
                "hook": {"webhook_url": "https://hooks.slack.com/services/T0/B0/hooksecret"},
                "bot": {"channel": "C0OPS"}
            }
        }))
        .unwrap()
}

/// The action ids of the buttons in the first request's blocks, per destination.
fn buttons(c: &dyn Configured, destination: &str, n: &Notification) -> Vec<(String, String)> {
    let requests = c
        .render(destination, Message::One(n), &RenderContext::default())
        .unwrap();
    let body = &requests[0].printable()["body"];
    body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e: Value| {
            (
                e["action_id"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn anomaly(state: State) -> Notification {
    let mut n = samples::of_kind("anomaly");
    n.state = state;
    n
}

#[test]
fn active_anomalies_carry_their_buttons_valued_with_the_subject() {
    let c = slack(true);
    for destination in ["hook", "bot"] {
        let open = anomaly(State::Open);
        let shown = buttons(c.as_ref(), destination, &open);
        let ids: Vec<&str> = shown.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [ACTION_ACKNOWLEDGE, ACTION_SNOOZE_DAY, ACTION_EXPECTED]
        );
        assert!(shown.iter().all(|(_, v)| *v == open.subject_id));
        let acked = buttons(c.as_ref(), destination, &anomaly(State::Acknowledged));
        let ids: Vec<&str> = acked.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, [ACTION_SNOOZE_DAY, ACTION_EXPECTED], "already in hand");
        assert!(buttons(c.as_ref(), destination, &anomaly(State::Resolved)).is_empty());
    }
    // A budget alert: Acknowledge only (it alerts once per threshold and period), until done.
    let mut budget = samples::of_kind("budget");
    let shown = buttons(c.as_ref(), "bot", &budget);
    assert_eq!(
        shown,
        [(ACTION_ACKNOWLEDGE.to_owned(), budget.subject_id.clone())]
    );
    budget.state = State::Acknowledged;
    assert!(buttons(c.as_ref(), "bot", &budget).is_empty());
    for kind in ["forecast", "report"] {
        let n = samples::of_kind(kind);
        assert!(buttons(c.as_ref(), "bot", &n).is_empty(), "{kind}");
    }
}

#[test]
fn without_interactive_there_are_no_buttons() {
    let c = slack(false);
    assert!(buttons(c.as_ref(), "bot", &anomaly(State::Open)).is_empty());
}

#[test]
fn the_context_line_stays_last() {
    let c = slack(true);
    let requests = c
        .render(
            "bot",
            Message::One(&anomaly(State::Open)),
            &RenderContext::default(),
        )
        .unwrap();
    let blocks = requests[0].printable()["body"]["blocks"].clone();
    let blocks = blocks.as_array().unwrap();
    assert_eq!(blocks.last().unwrap()["type"], "context");
    assert_eq!(blocks[blocks.len() - 2]["type"], "actions");
}
