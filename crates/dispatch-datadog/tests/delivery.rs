//! The Datadog dispatcher through the real [`Dispatcher`] (ledger, retries, rate limit) against
//! a local intake that behaves as Datadog documents (crates/vendor-fakes `datadog`): every kind
//! is delivered, a redelivery sends nothing again, a 429 is retried only after its
//! `X-RateLimit-Reset`, and a wrong API key is dead-lettered with directions, never echoed.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_core::Notification;
use costwatch_core::samples::of_kind as sample;
use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::entry;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Body, Integration, Message, RenderContext, VendorRequest, load_config};
use costwatch_dispatch_datadog::Datadog;
use costwatch_dispatch_kit::CrashPoint;
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_dispatch_kit::envelopes::batch;
use costwatch_dispatch_kit::vendors::Crash;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::datadog::{API_KEY, DatadogIntake};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};
use tokio::time::Instant;

/// The JSON body of a request (every Datadog request is one).
fn json_of(request: &VendorRequest) -> &Value {
    match &request.body {
        Body::Json(v) => v,
        other => panic!("not a JSON body: {other:?}"),
    }
}

// Each test binary uses part of it.
#[allow(dead_code)]
mod support;

fn config(api_key: &str) -> Value {
    json!({"destinations": {"prod": {"api_key": api_key, "site": "US1", "tags": ["env:test"]}}})
}

async fn dispatcher<'a>(server: &FakeServer, state: &'a MemoryState, key: &str) -> Dispatcher<'a> {
    Dispatcher::builder(entry::<Datadog>().load(config(key)).unwrap(), state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
        .digest_from(usize::MAX)
        .timeout(Duration::from_secs(5))
        .build()
        .await
        .unwrap()
}

async fn run(d: &Dispatcher<'_>, batch: &[Incoming]) -> Vec<Verdict> {
    d.dispatch(batch, Utc::now(), Instant::now() + Duration::from_secs(30))
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

/// The series one envelope renders to, as the intake should store them.
fn rendered_series(n: &Notification) -> Vec<Value> {
    let cfg = load_config::<Datadog>(config(API_KEY)).unwrap();
    Datadog::render(&cfg, "prod", Message::One(n), &RenderContext::default())
        .unwrap()
        .iter()
        .filter(|r| r.step == "series")
        .flat_map(|r| json_of(r)["series"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn every_kind_is_delivered_once_even_when_redelivered() {
    let intake = Arc::new(DatadogIntake::new());
    let server = FakeServer::start(intake.clone()).await;
    let state = MemoryState::default();
    let d = dispatcher(&server, &state, API_KEY).await;
    let samples: Vec<Notification> = costwatch_core::samples::envelopes();
    let messages = batch(&samples);
    let verdicts = run(&d, &messages).await;
    assert!(verdicts.iter().all(|v| *v == Verdict::Done), "{verdicts:?}");

    let expected: Vec<Value> = samples.iter().flat_map(rendered_series).collect();
    let mut got = intake.series();
    let mut want = expected.clone();
    let key = |v: &Value| v.to_string();
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want, "every series of every kind, once");
    let metrics: Vec<String> = got
        .iter()
        .map(|s| s["metric"].as_str().unwrap().to_owned())
        .collect();
    for m in [
        "costwatch.cost.daily",
        "costwatch.forecast.month_end",
        "costwatch.forecast.month_end.lower",
        "costwatch.forecast.month_end.upper",
        "costwatch.budget.percent_used",
        "costwatch.budget.actual",
        "costwatch.anomaly.impact",
        "costwatch.recommendation.monthly_savings",
    ] {
        assert!(metrics.iter().any(|g| g == m), "{m}");
    }
    assert!(
        got.iter()
            .all(|s| s["tags"].as_array().unwrap().contains(&json!("env:test")))
    );
    let events = intake.events();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| {
            let tags = e["tags"].as_array().unwrap();
            tags.iter()
                .find_map(|t| t.as_str().unwrap().strip_prefix("kind:"))
                .unwrap()
        })
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["anomaly", "budget", "test"]);
    for (e, n) in events.iter().zip(
        samples
            .iter()
            .filter(|n| matches!(n.kind(), "anomaly" | "budget" | "test")),
    ) {
        assert!(e["text"].as_str().unwrap().contains(&n.id));
    }
    let requests = server.log().len();
    assert!(server.log().iter().all(|(_, s)| *s == Some(202)));
    // The contract check: every request Datadog's intake received, against its OpenAPI schema.
    for (received, _) in server.log() {
        let body = received.json().expect("JSON");
        support::check_json(&received.path, &body).unwrap_or_else(|e| panic!("{e}\n{body:#}"));
    }

    // SQS delivers every message again: the ledger answers, Datadog hears nothing.
    let again = run(&d, &messages).await;
    assert!(again.iter().all(|v| *v == Verdict::Done), "{again:?}");
    assert_eq!(server.log().len(), requests);
    assert_eq!(intake.series().len(), expected.len());
    assert_eq!(intake.events().len(), 3);
}

#[tokio::test]
async fn a_later_state_groups_with_the_first_event() {
    let intake = Arc::new(DatadogIntake::new());
    let server = FakeServer::start(intake.clone()).await;
    let state = MemoryState::default();
    let d = dispatcher(&server, &state, API_KEY).await;
    let open = sample("anomaly");
    let mut resolved = open.clone();
    resolved.state = costwatch_core::notification::State::Resolved;
    resolved.revision = 1;
    resolved.id = format!("{}_resolved", open.id);
    for n in [&open, &resolved] {
        assert_eq!(verdicts(&d, std::slice::from_ref(n)).await, [Verdict::Done]);
    }
    let events = intake.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["aggregation_key"], events[1]["aggregation_key"]);
    assert_eq!(
        (
            events[0]["alert_type"].as_str(),
            events[1]["alert_type"].as_str()
        ),
        (Some("error"), Some("success"))
    );
}

#[tokio::test]
async fn a_429_is_retried_after_its_reset() {
    let intake = Arc::new(DatadogIntake::new());
    let server = FakeServer::start(intake.clone()).await;
    let state = MemoryState::default();
    let d = dispatcher(&server, &state, API_KEY).await;
    intake.rate_limit_for(Duration::from_secs(1));
    let started = std::time::Instant::now();
    let verdicts = verdicts(&d, &[sample("budget")]).await;
    assert_eq!(verdicts, [Verdict::Done]);
    // One 429, then accepted: a retry before the reset would have been refused again.
    assert_eq!(intake.throttled(), 1);
    let statuses: Vec<Option<u16>> = server.log().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses[0], Some(429));
    assert!(
        statuses[1..].iter().all(|s| *s == Some(202)),
        "{statuses:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(intake.events().len(), 1);
}

#[tokio::test]
async fn a_wrong_api_key_is_dead_lettered_with_directions() {
    let intake = Arc::new(DatadogIntake::new());
    let server = FakeServer::start(intake.clone()).await;
    let state = MemoryState::default();
    let wrong = "ffffffffffffffffffffffffffffffff";
    let d = dispatcher(&server, &state, wrong).await;
    let verdicts = verdicts(&d, &[sample("anomaly")]).await;
    let [Verdict::Dead { reason }] = verdicts.as_slice() else {
        panic!("{verdicts:?}")
    };
    assert!(
        reason.contains("403") && reason.contains("api_key"),
        "{reason}"
    );
    assert!(!reason.contains(wrong), "{reason}");
    assert_eq!(server.log().len(), 1, "not retried");
    assert!(intake.series().is_empty());
}

#[tokio::test]
async fn a_refused_payload_is_dead_lettered_with_datadogs_errors() {
    for (status, message) in [(400, "Invalid metric name"), (413, "Payload too large")] {
        let intake = Arc::new(DatadogIntake::new());
        let server = FakeServer::start(intake.clone()).await;
        let state = MemoryState::default();
        let d = dispatcher(&server, &state, API_KEY).await;
        intake.refuse_next(status, message);
        let verdicts = verdicts(&d, &[sample("report")]).await;
        let [Verdict::Dead { reason }] = verdicts.as_slice() else {
            panic!("{verdicts:?}")
        };
        assert!(
            reason.contains(&status.to_string()) && reason.contains(message),
            "{reason}"
        );
        assert_eq!(server.log().len(), 1, "HTTP {status} is not retried");
    }
}

/// The invocation dies right after Datadog accepted the series (its answer lost), or at the event
/// before Datadog saw it: the redelivery repeats at most the series — the same points, which
/// overwrite themselves — and the event is posted once. (The kit's crash drill assumes one
/// request per envelope; this is its Datadog form.)
#[tokio::test]
async fn a_crash_between_series_and_event_repeats_only_the_series() {
    let anomaly = sample("anomaly");
    let n = rendered_series(&anomaly).len();
    for (at, point) in [(1, CrashPoint::AfterVendor), (2, CrashPoint::BeforeVendor)] {
        let intake = Arc::new(DatadogIntake::new());
        let crash = Arc::new(Crash::new(intake.clone(), at, point));
        let server = FakeServer::start(crash.clone()).await;
        let state = MemoryState::default();
        let d = Dispatcher::builder(entry::<Datadog>().load(config(API_KEY)).unwrap(), &state)
            .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
            .timeout(Duration::from_secs(30))
            .lease(chrono::Duration::zero())
            .build()
            .await
            .unwrap();
        let messages = batch(std::slice::from_ref(&anomaly));
        tokio::select! {
            _ = run(&d, &messages) => panic!("request {at} never came"),
            () = crash.crashed.notified() => {}
        }
        assert!(intake.events().is_empty(), "{point:?} at {at}");
        assert_eq!(intake.series().len(), n, "{point:?} at {at}");
        assert_eq!(run(&d, &messages).await, [Verdict::Done]);
        assert_eq!(
            intake.events().len(),
            1,
            "{point:?} at {at}: the event once"
        );
        let series = intake.series();
        assert_eq!(series.len(), 2 * n, "{point:?} at {at}");
        assert_eq!(series[..n], series[n..], "the repeat is the same points");
    }
}
