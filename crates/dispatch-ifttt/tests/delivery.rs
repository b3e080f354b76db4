//! Over real HTTP to the Webhooks service fake: the values form fires the event with the
//! headline, the text and the link as value1..3; the JSON form fires it with the flat fields;
//! a wrong key (401) dead-letters without the key in the reason.

use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::entry;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch_ifttt::Ifttt;
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::ifttt::{KEY, Maker};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;

async fn fire(server: &FakeServer, url: &str, n: &costwatch_core::Notification) -> Verdict {
    let config = json!({"destinations": {"phone": {"webhook_url": url}}});
    let state = MemoryState::default();
    let d = Dispatcher::builder(entry::<Ifttt>().load(config).unwrap(), &state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .await
        .unwrap();
    verdicts(&d, std::slice::from_ref(n)).await.remove(0)
}

#[tokio::test]
async fn both_forms_fire_the_event_with_what_an_applet_shows() {
    let maker = Arc::new(Maker::new());
    let server = FakeServer::start(maker.clone()).await;
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.links.push(costwatch_core::notification::Link {
        label: "Open".into(),
        url: "https://costs.example.com/a/1".into(),
    });
    let values = Maker::trigger_url("https://maker.ifttt.com", "costwatch_alert", false);
    let json_url = Maker::trigger_url("https://maker.ifttt.com", "costwatch_json", true);
    assert_eq!(fire(&server, &values, &n).await, Verdict::Done);
    assert_eq!(fire(&server, &json_url, &n).await, Verdict::Done);
    let fired = maker.fired();
    assert_eq!(fired.len(), 2);
    assert_eq!(
        (fired[0].event.as_str(), fired[0].json_form),
        ("costwatch_alert", false)
    );
    let v = &fired[0].payload;
    assert!(v["value1"].as_str().unwrap().contains(&n.title), "{v}");
    assert!(v["value1"].as_str().unwrap().starts_with('['), "{v}");
    assert!(v["value2"].as_str().unwrap().contains(&n.summary), "{v}");
    assert_eq!(v["value3"], "https://costs.example.com/a/1");
    assert_eq!(
        (fired[1].event.as_str(), fired[1].json_form),
        ("costwatch_json", true)
    );
    let j = fired[1].payload.as_object().unwrap();
    assert_eq!(j["id"], n.id.as_str());
    assert!(j.values().all(|v| !v.is_object() && !v.is_array()));
}

#[tokio::test]
async fn a_wrong_key_dead_letters_without_the_key() {
    let maker = Arc::new(Maker::new());
    let server = FakeServer::start(maker.clone()).await;
    let url = "https://maker.ifttt.com/trigger/costwatch_alert/with/key/not-the-right-key-123";
    let n = costwatch_core::samples::of_kind("forecast");
    let Verdict::Dead { reason } = fire(&server, url, &n).await else {
        panic!("401 dead-letters");
    };
    assert!(
        reason.contains("401") && reason.contains("invalid key"),
        "{reason}"
    );
    assert!(
        !reason.contains("not-the-right-key-123") && !reason.contains(KEY),
        "{reason}"
    );
    assert!(maker.fired().is_empty());
}

#[test]
fn urls_of_another_shape_are_refused_at_load() {
    for url in [
        "https://maker.ifttt.com/use/abc",
        "https://maker.ifttt.com/trigger//with/key/abc",
        "http://maker.ifttt.com/trigger/e/with/key/abc",
        "https://evil.example/trigger/e/with/key/abc",
    ] {
        let config = json!({"destinations": {"phone": {"webhook_url": url}}});
        assert!(entry::<Ifttt>().load(config).is_err(), "{url}");
    }
}
