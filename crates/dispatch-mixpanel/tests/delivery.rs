//! The Mixpanel dispatcher through the real [`Dispatcher`] against the `/import` fake: what
//! Mixpanel receives passes its OpenAPI document; a message delivered again after its ledger
//! record is lost (the one duplicate window of docs/failure-modes.md) is counted once, because
//! `$insert_id` and `time` come from the envelope; a 400 naming one event of a batch drops only
//! that event; every residency has its host; the SQS sample event renders what Mixpanel accepts.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costwatch_core::Notification;
use costwatch_core::samples::{envelopes, of_kind as sample};
use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Integration, Message, RenderContext, entry, load_config};
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_dispatch_mixpanel::Mixpanel;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::mixpanel::{
    BASIC, MixpanelImport, PROJECT_ID, SECRET, SERVICE_ACCOUNT,
};
use costwatch_vendor_fakes::server::{FakeServer, Received, Reply, Vendor};
use serde_json::{Value, json};

fn config(region: &str) -> Value {
    json!({"destinations": {"product": {
        "project_id": PROJECT_ID,
        "service_account": SERVICE_ACCOUNT,
        "secret": SECRET,
        "region": region,
    }}})
}

async fn deliver(
    server: &FakeServer,
    state: &MemoryState,
    envelopes: &[Notification],
) -> Vec<Verdict> {
    deliver_as(server, state, envelopes, false).await
}

/// `envelopes` through a dispatcher with `state`, as one digest (one batch) when `digest`.
async fn deliver_as(
    server: &FakeServer,
    state: &MemoryState,
    envelopes: &[Notification],
    digest: bool,
) -> Vec<Verdict> {
    let d = Dispatcher::builder(entry::<Mixpanel>().load(config("US")).unwrap(), state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
        .digest_from(if digest { 2 } else { usize::MAX })
        .build()
        .await
        .unwrap();
    verdicts(&d, envelopes).await
}

#[tokio::test]
async fn what_mixpanel_receives_passes_its_spec_and_a_lost_ledger_record_counts_once() {
    let fake = Arc::new(MixpanelImport::new());
    let server = FakeServer::start(fake.clone()).await;
    let first = MemoryState::default();
    assert!(
        deliver(&server, &first, &envelopes())
            .await
            .iter()
            .all(|v| *v == Verdict::Done)
    );
    // The same messages through a dispatcher whose ledger never heard of them.
    let lost = MemoryState::default();
    assert!(
        deliver(&server, &lost, &envelopes())
            .await
            .iter()
            .all(|v| *v == Verdict::Done)
    );
    let received = server.accepted();
    assert_eq!(received.len(), 12);
    for r in &received {
        support::check_parameters(
            &format!("https://api.mixpanel.com{}", r.path),
            r.header("content-type"),
        )
        .unwrap();
        support::check_body(&r.json().unwrap()).unwrap();
        assert_eq!(
            r.header("authorization"),
            Some(format!("Basic {BASIC}").as_str())
        );
    }
    assert_eq!(fake.imported(), 12, "every request was imported");
    let events = fake.events();
    assert_eq!(events.len(), 6, "Mixpanel merges the repeats: {events:#?}");
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for name in [
        "cost_anomaly_detected",
        "budget_threshold_crossed",
        "cost_forecast_updated",
        "recommendation_created",
        "report_generated",
        "costwatch_test",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let anomaly = events
        .iter()
        .find(|e| e["event"] == "cost_anomaly_detected")
        .unwrap();
    let n = sample("anomaly");
    assert_eq!(
        anomaly["properties"]["time"],
        json!(n.created_at.timestamp_millis())
    );
    assert_eq!(anomaly["properties"]["impact"], json!(372.0));
    assert_eq!(anomaly["properties"]["currency"], json!("USD"));
    assert_eq!(anomaly["properties"]["envelope_id"], json!(n.id));
}

#[tokio::test]
async fn a_rate_limited_project_is_retried_until_imported() {
    let fake = Arc::new(MixpanelImport::new());
    fake.rate_limit_next(2);
    let server = FakeServer::start(fake.clone()).await;
    let state = MemoryState::default();
    let verdicts = deliver(&server, &state, &[sample("budget")]).await;
    assert_eq!(verdicts, [Verdict::Done]);
    let statuses: Vec<Option<u16>> = server.log().into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)]);
    assert_eq!(fake.events().len(), 1);
}

#[test]
fn every_residency_has_its_host_and_a_digest_is_one_batch() {
    for (region, host) in [
        ("US", "api.mixpanel.com"),
        ("EU", "api-eu.mixpanel.com"),
        ("IN", "api-in.mixpanel.com"),
    ] {
        let cfg = load_config::<Mixpanel>(config(region)).unwrap();
        let all = envelopes();
        let requests = Mixpanel::render(
            &cfg,
            "product",
            Message::Digest(&all),
            &RenderContext::default(),
        )
        .unwrap();
        assert_eq!(requests.len(), 1);
        let url = url::Url::parse(requests[0].url.expose()).unwrap();
        assert_eq!(url.host_str(), Some(host));
        assert_eq!(
            url.query(),
            Some(format!("strict=1&project_id={PROJECT_ID}").as_str())
        );
        assert_eq!(
            requests[0].body.json().unwrap().as_array().unwrap().len(),
            all.len()
        );
        support::check(&requests[0]).unwrap();
    }
    assert!(
        load_config::<Mixpanel>(json!({"destinations": {"p": {
        "project_id": "abc", "service_account": SERVICE_ACCOUNT, "secret": SECRET}}}))
        .is_err()
    );
    assert!(
        load_config::<Mixpanel>(json!({"destinations": {"p": {
        "project_id": PROJECT_ID, "service_account": "a-project-token", "secret": SECRET}}}))
        .is_err()
    );
}

#[test]
fn the_sqs_sample_event_renders_what_mixpanel_accepts() {
    // events/dispatch-mixpanel/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-mixpanel/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let cfg = load_config::<Mixpanel>(config("EU")).unwrap();
    for r in records {
        assert_eq!(r["eventSource"], "aws:sqs");
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let requests =
            Mixpanel::render(&cfg, "product", Message::One(&n), &RenderContext::default()).unwrap();
        assert_eq!(requests.len(), 1);
        support::check(&requests[0]).unwrap();
    }
}

/// Mixpanel's `/import` behind a proxy that breaks the `time` of every event named `event` (as
/// an encoder bug would), so Mixpanel's `strict=1` validation refuses exactly those.
struct BreakTime {
    inner: Arc<MixpanelImport>,
    event: &'static str,
}

impl Vendor for BreakTime {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        let mut request = request.clone();
        if let Some(Value::Array(mut events)) = request.json() {
            for e in events.iter_mut().filter(|e| e["event"] == self.event) {
                e["properties"]["time"] = json!("yesterday");
            }
            request.body = serde_json::to_vec(&events).unwrap();
        }
        self.inner.handle(&request, base)
    }
}

#[tokio::test]
async fn a_400_naming_one_event_of_a_batch_drops_only_that_event() {
    let fake = Arc::new(MixpanelImport::new());
    let proxy = Arc::new(BreakTime {
        inner: fake.clone(),
        event: "cost_forecast_updated",
    });
    let server = FakeServer::start(proxy).await;
    let state = MemoryState::default();
    let verdicts = deliver_as(&server, &state, &envelopes(), true).await;
    assert!(verdicts.iter().all(|v| *v == Verdict::Done), "{verdicts:?}");
    let log = server.log();
    let statuses: Vec<Option<u16>> = log.iter().map(|(_, s)| *s).collect();
    // Mixpanel imported the five valid events of the batch and said so: nothing is sent again.
    assert_eq!(statuses, [Some(400)], "one batch, partly refused");
    assert_eq!(log[0].0.json().unwrap().as_array().unwrap().len(), 6);
    assert_eq!(fake.imported(), 5, "each valid event imported once");
    let mut names: Vec<String> = fake
        .events()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "budget_threshold_crossed",
            "cost_anomaly_detected",
            "costwatch_test",
            "recommendation_created",
            "report_generated"
        ]
    );

    // Alone, the refused event is the whole message: dead-lettered with Mixpanel's reason.
    let state = MemoryState::default();
    let verdicts = deliver_as(&server, &state, &[sample("forecast")], false).await;
    let [Verdict::Dead { reason }] = verdicts.as_slice() else {
        panic!("{verdicts:?}")
    };
    assert!(
        reason.contains("1 event") && reason.contains("properties.time"),
        "{reason}"
    );
    assert_eq!(fake.imported(), 5, "nothing more imported");
}
