//! Every request the PagerDuty dispatcher renders validates against the request schema of its
//! endpoint in PagerDuty's Events API v2 document (`specs/pagerduty/events-v2.openapiv3.json`,
//! strict) and keeps the documented limits — for every sample envelope in every state and both
//! `ongoing` modes, for hostile copies of them, for a digest, and for a report far over 512 KB —
//! and the routing key reaches the wire only.

mod support;

use costwatch_core::Notification;
use costwatch_core::notification::{Link, Mover, NotificationBody, Severity, State};
use costwatch_core::samples::of_kind as sample;
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::{Integration, Message, RenderContext, VendorRequest, load_config};
use costwatch_dispatch_kit::envelopes::hostile_copy;
use costwatch_dispatch_pagerduty::encoder::{MAX_EVENT_BYTES, dedup_key};
use costwatch_dispatch_pagerduty::{PagerDuty, PagerDutyConfig};
use costwatch_vendor_fakes::pagerduty::ROUTING_KEY;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::{check, wire};

fn config(ongoing: &str) -> PagerDutyConfig {
    let mut table = support::config();
    table["ongoing"] = json!(ongoing);
    load_config::<PagerDuty>(table).unwrap()
}

fn render_with(config: &PagerDutyConfig, message: Message<'_>) -> Vec<VendorRequest> {
    PagerDuty::render(config, "oncall", message, &RenderContext::default()).unwrap()
}

fn render(n: &Notification) -> VendorRequest {
    let mut requests = render_with(&config("change"), Message::One(n));
    assert_eq!(requests.len(), 1);
    requests.remove(0)
}

fn assert_valid(what: &str, request: &VendorRequest) {
    if let Err(why) = check(request) {
        panic!("{what}: {why}\n{:#}", wire(request));
    }
}

fn path(request: &VendorRequest) -> String {
    url::Url::parse(request.url.expose())
        .unwrap()
        .path()
        .to_owned()
}

fn in_state(kind: &str, state: State) -> Notification {
    let mut n = sample(kind);
    n.state = state;
    n.revision = state as u32;
    n
}

#[test]
fn every_sample_in_every_state_validates_in_both_ongoing_modes() {
    let mut checked = 0;
    for ongoing in ["change", "acknowledge"] {
        let config = config(ongoing);
        for (kind, _) in costwatch_core::samples::all() {
            for state in [State::Open, State::Ongoing, State::Resolved] {
                let n = in_state(kind, state);
                for r in render_with(&config, Message::One(&n)) {
                    assert_valid(&format!("{kind} {state:?} ({ongoing})"), &r);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * 6 * 3);
}

#[test]
fn an_open_anomaly_triggers_with_every_field_filled() {
    let r = render(&sample("anomaly"));
    assert_eq!(r.url.expose(), "https://events.pagerduty.com/v2/enqueue");
    assert_eq!(r.step, "trigger");
    let body = wire(&r);
    assert_eq!(body["routing_key"], ROUTING_KEY);
    assert_eq!(body["event_action"], "trigger");
    assert_eq!(body["dedup_key"], "costwatch/an_60cea173a4cfa7274f00");
    assert_eq!(body["client"], "costwatch");
    let p = &body["payload"];
    assert_eq!(
        p["summary"],
        "Cost spike in Amazon SageMaker in data-platform: +$372.00 (+200%) on 2026-11-20 ($558.00 vs $186.00 expected)"
    );
    assert_eq!(p["severity"], "error", "high → error");
    assert_eq!(p["source"], "Amazon SageMaker in data-platform");
    assert_eq!(p["component"], "Amazon SageMaker");
    assert_eq!(p["group"], "data-platform (444455556666)");
    assert_eq!(p["class"], "anomaly");
    assert_eq!(p["timestamp"], "2026-11-21T06:00:00Z");
    let d = &p["custom_details"];
    assert_eq!(d["Actual"], "$558.00");
    assert_eq!(d["Impact"], "+$372.00 (+200%)");
    assert_eq!(d["Root cause"][0]["Value"], "USE1-Training:ml.p3.8xlarge");
    assert_eq!(d["Root cause"][0]["Contribution"], "+$369.00");
    assert_eq!(d["figures"]["impact"], "372.00");
    assert_eq!(d["figures"]["root_causes"][1]["dimension"], "region");
    assert_eq!(d["costwatch"]["envelope_id"], "ntf_5ccb6cafb116f1b24b96");
    // No links in the sample: none sent, no client_url.
    assert!(body.get("links").is_none() && body.get("client_url").is_none());
}

#[test]
fn severities_map_and_the_envelopes_links_become_pagerduty_links() {
    let mut n = sample("budget");
    for (ours, theirs) in [
        (Severity::Critical, "critical"),
        (Severity::High, "error"),
        (Severity::Medium, "warning"),
        (Severity::Low, "info"),
        (Severity::Info, "info"),
    ] {
        n.severity = ours;
        assert_eq!(wire(&render(&n))["payload"]["severity"], theirs);
    }
    n.links = vec![
        Link {
            label: "Budget in costwatch".into(),
            url: "https://costs.example.com/budgets/1".into(),
        },
        Link {
            label: "Not a web link".into(),
            url: "javascript:alert(1)".into(),
        },
    ];
    let r = render(&n);
    assert_valid("budget with links", &r);
    let body = wire(&r);
    assert_eq!(
        body["links"],
        json!([{"href": "https://costs.example.com/budgets/1", "text": "Budget in costwatch"}])
    );
    assert_eq!(body["client_url"], "https://costs.example.com/budgets/1");
    assert_eq!(
        body["payload"]["custom_details"]["Links not shown"],
        "1 (sent: http(s) links only, at most 10, each at most 2048 characters)"
    );
    // An account-level budget: the account is the group, no service component.
    assert_eq!(body["payload"]["group"], "data-platform (444455556666)");
    assert!(body["payload"].get("component").is_none());
}

#[test]
fn later_states_use_the_same_dedup_key_and_reports_are_change_events() {
    let open = render(&sample("anomaly"));
    let resolved = render(&in_state("anomaly", State::Resolved));
    assert_eq!(resolved.step, "resolve");
    assert_eq!(
        wire(&resolved),
        json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": wire(&open)["dedup_key"]})
    );
    // ongoing: a change event with the current figures by default, acknowledge when asked.
    let ongoing = in_state("anomaly", State::Ongoing);
    let change = render(&ongoing);
    assert_eq!(path(&change), "/v2/change/enqueue");
    let body = wire(&change);
    assert!(
        body["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Ongoing: Cost spike")
    );
    assert_eq!(
        body["payload"]["custom_details"]["costwatch"]["dedup_key"],
        wire(&open)["dedup_key"]
    );
    let ack = render_with(&config("acknowledge"), Message::One(&ongoing));
    assert_eq!(
        wire(&ack[0]),
        json!({"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": wire(&open)["dedup_key"]})
    );
    for kind in ["report", "test", "recommendation"] {
        let r = render(&sample(kind));
        assert_eq!(
            (r.step.as_str(), path(&r)),
            ("change", "/v2/change/enqueue".into()),
            "{kind}"
        );
    }
    let report = wire(&render(&sample("report")));
    assert_eq!(
        report["payload"]["summary"],
        "Daily cost report for Organisation, 2026-11-20: $4,681.23 (+$362.46, +8% vs previous); month to date $90,123.45"
    );
    assert_eq!(
        report["payload"]["custom_details"]["Top movers"][0]["Change"],
        "+$379.00"
    );
}

#[test]
fn a_digest_is_one_event_per_envelope_each_subject_in_revision_order() {
    let resolved = in_state("anomaly", State::Resolved);
    let open = sample("anomaly");
    let budget = sample("budget");
    // The framework orders a digest by severity, which can put a resolve before its trigger.
    let storm = vec![resolved, budget, open];
    let requests = render_with(&config("change"), Message::Digest(&storm));
    let steps: Vec<(&str, String)> = requests
        .iter()
        .map(|r| {
            (
                r.step.as_str(),
                wire(r)["dedup_key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let anomaly = dedup_key("an_60cea173a4cfa7274f00");
    assert_eq!(
        steps,
        [
            ("trigger", dedup_key(&storm[1].subject_id)),
            ("trigger", anomaly.clone()),
            ("resolve", anomaly)
        ]
    );
    for r in &requests {
        assert_valid("digest", r);
    }
}

#[test]
fn hostile_values_stay_plain_text_and_valid() {
    for hostile in HOSTILE {
        for (kind, n) in costwatch_core::samples::all() {
            let n = hostile_copy(&n, hostile);
            let r = render(&n);
            assert_valid(&format!("{kind} with {hostile:?}"), &r);
            let text = wire(&r).to_string();
            for bad in ["@everyone", "@here", "\u{202E}", "\u{7}"] {
                assert!(!text.contains(bad), "{kind} {hostile:?}: {bad:?} in {text}");
            }
        }
    }
    // JSON structure is never at stake: a hostile title is one string.
    let mut n = sample("anomaly");
    n.scope.label = "\"}],\"event_action\":\"resolve".into();
    let body = wire(&render(&n));
    assert_eq!(body["event_action"], "trigger");
    assert!(
        body["payload"]["source"]
            .as_str()
            .unwrap()
            .contains("\"event_action\"")
    );
}

/// A weekly report of 20,000 movers with long labels: several megabytes as the envelope says it.
fn oversized_report() -> Notification {
    let mut n = sample("report");
    n.links.push(Link {
        label: "Full report".into(),
        url: "https://costs.example.com/reports/2026-11-20".into(),
    });
    n.title = "T".repeat(5_000);
    n.scope.label = "L".repeat(5_000);
    let NotificationBody::Report(f) = &mut n.body else {
        panic!()
    };
    f.top_movers = (0..20_000)
        .map(|i| Mover {
            scope: format!("service=s{i}"),
            label: format!("Service {i} {}", "x".repeat(200)),
            amount: Decimal::new(100 + i, 0),
            previous: Decimal::new(100, 0),
            change: Decimal::new(i, 0),
        })
        .collect();
    n
}

#[test]
fn an_oversized_report_is_shrunk_visibly_within_512_kb() {
    let n = oversized_report();
    assert!(serde_json::to_vec(&n).unwrap().len() > 4 * MAX_EVENT_BYTES);
    let r = render(&n);
    assert_valid("oversized report", &r);
    let size = r.body.encode().len();
    assert!(
        size <= MAX_EVENT_BYTES && size > MAX_EVENT_BYTES / 8,
        "{size}"
    );
    let d = &wire(&r)["payload"]["custom_details"];
    let movers = d["Top movers"].as_array().unwrap();
    let note = movers.last().unwrap().as_str().unwrap();
    assert!(
        note.starts_with(&format!(
            "… and {} more movers: https://costs.example.com/reports/2026-11-20",
            20_000 - (movers.len() - 1)
        )),
        "{note}"
    );
    assert!(
        d["figures"]
            .as_str()
            .unwrap()
            .starts_with("left out to keep the event within PagerDuty's 512 KB")
    );
    let summary = wire(&r)["payload"]["summary"].as_str().unwrap().to_owned();
    assert!(summary.chars().count() <= 1024);
    assert!(
        summary.contains("more characters: https://costs.example.com/reports/2026-11-20"),
        "{summary}"
    );
    assert!(
        wire(&r)["payload"]["source"]
            .as_str()
            .unwrap()
            .ends_with("more characters not shown)")
    );
}

#[test]
fn the_routing_key_reaches_the_wire_only() {
    for (kind, n) in costwatch_core::samples::all() {
        let r = render(&n);
        let printed = r.printable().to_string();
        assert!(!printed.contains(ROUTING_KEY), "{kind}: {printed}");
        assert_eq!(r.printable()["body"]["routing_key"], "[REDACTED]");
        assert!(!format!("{r:?}").contains(ROUTING_KEY), "{kind}");
        assert_eq!(wire(&r)["routing_key"], ROUTING_KEY);
    }
}

#[test]
fn the_check_refuses_what_pagerduty_refuses() {
    // The strict schema: an unknown member, a missing summary, a severity PagerDuty lacks.
    let r = render(&sample("anomaly"));
    for (pointer, value) in [
        ("/payload/sevrity", json!("error")),
        ("/payload/severity", json!("high")),
        ("/payload/summary", Value::Null),
        ("/event_action", json!("escalate")),
        ("/links", json!([{"text": "no href"}])),
        ("/payload/timestamp", json!("yesterday")),
    ] {
        let mut bad = r.clone();
        let Some(json) = (match &mut bad.body {
            costwatch_dispatch::Body::SecretJson { json, .. } => Some(json),
            _ => None,
        }) else {
            panic!()
        };
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = json.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        if value.is_null() {
            parent.remove(key);
        } else {
            parent.insert(key.into(), value);
        }
        assert!(check(&bad).is_err(), "{pointer} passed");
    }
}
