//! The Amplitude dispatcher through the real [`Dispatcher`] against the HTTP V2 fake: a 400 that
//! names one event of a digest drops only that event and the rest is ingested; a throttled user
//! sends the message back to the queue for Amplitude's 30 seconds; a message delivered again
//! after its ledger record is lost is ignored by `insert_id`; both data centers; the SQS sample.

use std::sync::Arc;
use std::time::Duration;

use costwatch_core::Notification;
use costwatch_core::samples::{envelopes, of_kind as sample};
use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::product_event::user_id;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Integration, Message, RenderContext, entry, load_config};
use costwatch_dispatch_amplitude::Amplitude;
use costwatch_dispatch_amplitude::classifier::THROTTLE_WAIT;
use costwatch_dispatch_kit::delivery::verdicts_within;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::amplitude::{API_KEY, AmplitudeHttpApi, problems};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};

fn config(region: &str) -> Value {
    json!({"destinations": {"product": {"api_key": API_KEY, "region": region}}})
}

/// `envelopes` through a dispatcher with `state`, as one digest when `digest`.
async fn deliver(
    server: &FakeServer,
    state: &MemoryState,
    envelopes: &[Notification],
    digest: bool,
) -> Vec<Verdict> {
    let d = Dispatcher::builder(entry::<Amplitude>().load(config("US")).unwrap(), state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
        .digest_from(if digest { 2 } else { usize::MAX })
        .build()
        .await
        .unwrap();
    // 20 seconds left, less than Amplitude's 30-second throttle: that wait goes to the queue
    // (an invocation with more time left sleeps it).
    verdicts_within(&d, envelopes, Duration::from_secs(20)).await
}

fn types(events: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn a_400_naming_one_event_of_a_digest_drops_only_that_event() {
    let fake = Arc::new(AmplitudeHttpApi::new());
    fake.refuse_event_type("cost_forecast_updated");
    let server = FakeServer::start(fake.clone()).await;
    let state = MemoryState::default();
    let verdicts = deliver(&server, &state, &envelopes(), true).await;
    assert!(verdicts.iter().all(|v| *v == Verdict::Done), "{verdicts:?}");
    let log = server.log();
    let statuses: Vec<Option<u16>> = log.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        statuses,
        [Some(400), Some(200)],
        "the refused request, then the rest once"
    );
    let first = log[0].0.json().unwrap();
    let rest = log[1].0.json().unwrap();
    assert_eq!(first["events"].as_array().unwrap().len(), 6);
    assert_eq!(rest["events"].as_array().unwrap().len(), 5);
    assert_eq!(rest["api_key"], API_KEY);
    let ingested = types(&fake.events());
    assert_eq!(
        ingested,
        [
            "budget_threshold_crossed",
            "cost_anomaly_detected",
            "costwatch_test",
            "recommendation_created",
            "report_generated"
        ]
    );
    for (r, _) in &log {
        assert!(problems(&r.json().unwrap()).is_ok());
    }
}

#[tokio::test]
async fn a_throttled_user_waits_amplitudes_30_seconds_on_the_queue_then_goes_through() {
    let fake = Arc::new(AmplitudeHttpApi::new());
    let n = sample("budget");
    let user = user_id(&n.scope.key);
    fake.throttle_user(&user);
    let server = FakeServer::start(fake.clone()).await;
    let state = MemoryState::default();
    let verdicts = deliver(&server, &state, std::slice::from_ref(&n), false).await;
    let [Verdict::Retry { after, reason }] = verdicts.as_slice() else {
        panic!("{verdicts:?}")
    };
    assert!(*after >= THROTTLE_WAIT, "{after:?}");
    assert!(
        reason.contains(&user),
        "the reason names the throttled user: {reason}"
    );
    assert_eq!(
        server.log().len(),
        1,
        "a 30-second wait is not spent inside the function"
    );
    assert!(fake.events().is_empty());
    fake.release_user(&user);
    // The redelivery after the visibility timeout: the ledger released the claim.
    let verdicts = deliver(&server, &state, std::slice::from_ref(&n), false).await;
    assert_eq!(verdicts, [Verdict::Done]);
    assert_eq!(types(&fake.events()), ["budget_threshold_crossed"]);
}

#[tokio::test]
async fn a_lost_ledger_record_repeats_events_amplitude_ignores_by_insert_id() {
    let fake = Arc::new(AmplitudeHttpApi::new());
    let server = FakeServer::start(fake.clone()).await;
    for _ in 0..2 {
        let fresh = MemoryState::default();
        let verdicts = deliver(&server, &fresh, &envelopes(), false).await;
        assert!(verdicts.iter().all(|v| *v == Verdict::Done));
    }
    assert_eq!(server.accepted().len(), 12);
    assert_eq!(fake.events().len(), 6);
    assert_eq!(fake.duplicates(), 6);
    let anomaly = fake
        .events()
        .into_iter()
        .find(|e| e["event_type"] == "cost_anomaly_detected")
        .unwrap();
    let n = sample("anomaly");
    assert_eq!(anomaly["insert_id"], json!(n.id));
    assert_eq!(anomaly["time"], json!(n.created_at.timestamp_millis()));
    assert_eq!(anomaly["user_id"], json!(user_id(&n.scope.key)));
    assert_eq!(anomaly["event_properties"]["impact"], json!(372.0));
    assert_eq!(anomaly["event_properties"]["currency"], json!("USD"));
}

#[test]
fn both_data_centers_and_the_sqs_sample() {
    for (region, host) in [("US", "api2.amplitude.com"), ("EU", "api.eu.amplitude.com")] {
        let cfg = load_config::<Amplitude>(config(region)).unwrap();
        let r = Amplitude::render(
            &cfg,
            "product",
            Message::One(&sample("anomaly")),
            &RenderContext::default(),
        )
        .unwrap();
        assert_eq!(
            url::Url::parse(r[0].url.expose()).unwrap().host_str(),
            Some(host)
        );
    }
    assert!(
        load_config::<Amplitude>(json!({"destinations": {"p": {"api_key": "not-a-key"}}})).is_err()
    );
    // events/dispatch-amplitude/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-amplitude/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let cfg = load_config::<Amplitude>(config("EU")).unwrap();
    for r in records {
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let requests =
            Amplitude::render(&cfg, "product", Message::One(&n), &RenderContext::default())
                .unwrap();
        assert_eq!(requests.len(), 1);
        assert!(
            problems(requests[0].body.json().unwrap())
                .unwrap()
                .is_empty()
        );
    }
}
