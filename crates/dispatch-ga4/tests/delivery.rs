//! The GA4 dispatcher through the real [`Dispatcher`] against the Measurement Protocol fake:
//! with `validate`, the validation server is asked first and its `validationMessages`
//! dead-letter the message before anything is collected; a digest is one request per scope, so
//! every event of a scope is one GA4 user; both regions; the SQS sample.

use std::sync::Arc;
use std::time::Duration;

use costwatch_core::Notification;
use costwatch_core::samples::of_kind as sample;
use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::product_event::user_id;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Integration, Message, RenderContext, entry, load_config};
use costwatch_dispatch_ga4::Ga4;
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::ga4::{API_SECRET, Ga4Collect, MEASUREMENT_ID, validation_messages};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};

fn config(region: &str, validate: bool) -> Value {
    json!({"destinations": {"web": {"measurement_id": MEASUREMENT_ID, "api_secret": API_SECRET,
        "region": region, "validate": validate}}})
}

async fn deliver(server: &FakeServer, envelopes: &[Notification], validate: bool) -> Vec<Verdict> {
    let state = MemoryState::default();
    let d = Dispatcher::builder(
        entry::<Ga4>().load(config("global", validate)).unwrap(),
        &state,
    )
    .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
    .retry(RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    })
    .digest_from(usize::MAX)
    .build()
    .await
    .unwrap();
    verdicts(&d, envelopes).await
}

#[tokio::test]
async fn validate_asks_the_validation_server_first_then_collects() {
    let fake = Arc::new(Ga4Collect::new());
    let server = FakeServer::start(fake.clone()).await;
    let n = sample("anomaly");
    assert_eq!(
        deliver(&server, std::slice::from_ref(&n), true).await,
        [Verdict::Done]
    );
    let paths: Vec<String> = server
        .log()
        .iter()
        .map(|(r, _)| r.path.split('?').next().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["/debug/mp/collect", "/mp/collect"]);
    assert_eq!(fake.validated(), 1);
    let events = fake.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["name"], "cost_anomaly_detected");
    assert_eq!(events[0]["client_id"], json!(user_id(&n.scope.key)));
    assert_eq!(events[0]["params"]["impact"], json!(372.0));
    assert_eq!(events[0]["params"]["currency"], json!("USD"));
    assert_eq!(
        events[0]["timestamp_micros"],
        json!(n.created_at.timestamp_micros())
    );
    assert_eq!(fake.dropped(), 0);
}

#[tokio::test]
async fn validation_messages_dead_letter_the_message_before_anything_is_collected() {
    let fake = Arc::new(Ga4Collect::new());
    fake.flag_next_validation("Event at index: [0] has a parameter GA4 no longer takes.");
    let server = FakeServer::start(fake.clone()).await;
    let verdicts = deliver(&server, &[sample("budget")], true).await;
    let [Verdict::Dead { reason }] = verdicts.as_slice() else {
        panic!("{verdicts:?}")
    };
    assert!(
        reason.contains("no longer takes") && reason.contains("VALUE_INVALID"),
        "{reason}"
    );
    assert!(!reason.contains(API_SECRET));
    assert_eq!(server.log().len(), 1, "nothing was sent to /mp/collect");
    assert!(fake.events().is_empty());
}

#[tokio::test]
async fn without_validate_collect_takes_everything_and_keeps_the_valid() {
    let fake = Arc::new(Ga4Collect::new());
    let server = FakeServer::start(fake.clone()).await;
    let all: Vec<Notification> = [
        "anomaly",
        "budget",
        "forecast",
        "recommendation",
        "report",
        "test",
    ]
    .into_iter()
    .map(sample)
    .collect();
    let verdicts = deliver(&server, &all, false).await;
    assert!(verdicts.iter().all(|v| *v == Verdict::Done));
    assert_eq!(fake.validated(), 0);
    assert_eq!(
        fake.events().len(),
        6,
        "every event passed GA4's rules: none dropped"
    );
    assert_eq!(fake.dropped(), 0);
}

#[test]
fn a_digest_is_one_request_per_scope_in_either_region() {
    let all: Vec<Notification> = [
        "anomaly",
        "budget",
        "forecast",
        "recommendation",
        "report",
        "test",
    ]
    .into_iter()
    .map(sample)
    .collect();
    let scopes: std::collections::BTreeSet<&str> =
        all.iter().map(|n| n.scope.key.as_str()).collect();
    for (region, host) in [
        ("global", "www.google-analytics.com"),
        ("EU", "region1.google-analytics.com"),
    ] {
        let cfg = load_config::<Ga4>(config(region, true)).unwrap();
        let requests = Ga4::render(
            &cfg,
            "web",
            Message::Digest(&all),
            &RenderContext::default(),
        )
        .unwrap();
        assert_eq!(
            requests.len(),
            2 * scopes.len(),
            "validate, then collect, per scope"
        );
        assert!(
            requests[..scopes.len()]
                .iter()
                .all(|r| r.step == "validate")
        );
        let mut events = 0;
        for r in &requests[scopes.len()..] {
            let url = url::Url::parse(r.url.expose()).unwrap();
            assert_eq!(url.host_str(), Some(host));
            let body = r.body.json().unwrap();
            assert!(validation_messages(body).is_empty());
            assert_eq!(body["client_id"], body["user_id"]);
            events += body["events"].as_array().unwrap().len();
        }
        assert_eq!(events, all.len());
    }
    assert!(load_config::<Ga4>(json!({"destinations": {"w": {"measurement_id": "123456789", "api_secret": API_SECRET}}})).is_err());
}

#[test]
fn the_sqs_sample_event_renders_what_ga4_accepts() {
    // events/dispatch-ga4/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-ga4/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let cfg = load_config::<Ga4>(config("EU", false)).unwrap();
    for r in records {
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let requests =
            Ga4::render(&cfg, "web", Message::One(&n), &RenderContext::default()).unwrap();
        assert_eq!(requests.len(), 1);
        assert!(validation_messages(requests[0].body.json().unwrap()).is_empty());
    }
}

/// GA4 takes at most 25 parameters. A budget alert on an account × service scope, auto-adjusting
/// and with drivers, has 27: what moved the month is left out, dollar figure first, and every
/// other parameter stays. Mixpanel and Amplitude still get all of them.
#[test]
fn a_budget_alert_with_every_parameter_keeps_within_twenty_five() {
    use costwatch_core::notification::NotificationBody;
    let mut budget = sample("budget");
    budget.scope.service = Some("Amazon SageMaker".into());
    let NotificationBody::Budget(f) = &mut budget.body else {
        panic!("budget sample")
    };
    f.auto_adjusted_months = Some(3);
    let cfg = load_config::<Ga4>(config("global", false)).unwrap();
    let params = |n: &Notification| {
        let requests = Ga4::render(&cfg, "web", Message::One(n), &RenderContext::default());
        let body = requests.unwrap()[0].body.json().unwrap().clone();
        assert!(validation_messages(&body).is_empty(), "{body}");
        body["events"][0]["params"].as_object().unwrap().clone()
    };
    let full = params(&budget);
    assert_eq!(full.len(), 25);
    assert!(!full.contains_key("top_driver") && !full.contains_key("top_driver_change"));
    for kept in [
        "service",
        "auto_adjusted_months",
        "breach_date",
        "forecast",
        "period_end",
    ] {
        assert!(full.contains_key(kept), "{kept} left out");
    }
    // With room, the top driver goes too.
    let plain = params(&sample("budget"));
    assert_eq!(plain["top_driver"], json!("Amazon SageMaker"));
    assert_eq!(plain["top_driver_change"], json!(3790.0));
}
