//! Over real HTTP to the catch hook fake: a report (nested tables, arrays) arrives as one flat
//! object whose keys are the same for the same envelope and whose arrays are numbered; a
//! storm is one Zap run per envelope; hostile text arrives defused; 429 is retried; a deleted
//! hook (404) dead-letters with the reason.

use std::time::Duration;

use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Message, RenderContext, entry};
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_dispatch_zapier::Zapier;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::zapier::CatchHook;
use serde_json::json;
use std::sync::Arc;

async fn dispatch(
    server: &FakeServer,
    url: &str,
    envelopes: &[costwatch_core::Notification],
) -> Vec<Verdict> {
    let config = json!({"destinations": {"tickets": {"webhook_url": url}}});
    let state = MemoryState::default();
    let d = Dispatcher::builder(entry::<Zapier>().load(config).unwrap(), &state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .await
        .unwrap();
    verdicts(&d, envelopes).await
}

#[tokio::test]
async fn a_report_arrives_as_one_flat_object_with_stable_numbered_keys() {
    let hook = Arc::new(CatchHook::new());
    let server = FakeServer::start(hook.clone()).await;
    let url = CatchHook::hook_url("https://hooks.zapier.com");
    let report = costwatch_core::samples::of_kind("report");
    assert_eq!(
        dispatch(&server, &url, std::slice::from_ref(&report)).await,
        vec![Verdict::Done]
    );
    let runs = hook.runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(run.values().all(|v| !v.is_object() && !v.is_array()));
    assert_eq!(run["id"], report.id.as_str());
    assert!(
        run["figures__top_services__count"].as_u64().unwrap() > 0,
        "{run:?}"
    );
    assert!(
        run.contains_key("figures__top_services__0__label"),
        "{run:?}"
    );
    assert!(run["text"].as_str().unwrap().contains(&report.title));
    // The same envelope renders the same keys in the same order.
    let configured = entry::<Zapier>()
        .load(json!({"destinations": {"tickets": {"webhook_url": url}}}))
        .unwrap();
    let again = configured
        .render("tickets", Message::One(&report), &RenderContext::default())
        .unwrap();
    let keys: Vec<&String> = again[0]
        .body
        .json()
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, run.keys().collect::<Vec<_>>());
}

#[tokio::test]
async fn a_storm_is_one_zap_run_per_envelope_and_hostile_text_arrives_defused() {
    let hook = Arc::new(CatchHook::new());
    hook.throttle(1, 0);
    let server = FakeServer::start(hook.clone()).await;
    let url = CatchHook::hook_url("https://hooks.zapier.com");
    let mut storm = Vec::new();
    for i in 0..6 {
        let mut n = costwatch_core::samples::of_kind("anomaly");
        n.id = format!("ntf_{i:020x}");
        n.title = "@everyone look \u{202E}here".into();
        storm.push(n);
    }
    let verdicts = dispatch(&server, &url, &storm).await;
    assert!(verdicts.iter().all(|v| *v == Verdict::Done), "{verdicts:?}");
    let runs = hook.runs();
    assert_eq!(
        runs.len(),
        6,
        "one run per envelope, the throttled one retried"
    );
    assert_eq!(server.log()[0].1, Some(429));
    for run in &runs {
        let title = run["title"].as_str().unwrap();
        assert!(
            !title.contains("@everyone") && !title.contains('\u{202E}'),
            "{title:?}"
        );
    }
}

#[tokio::test]
async fn a_deleted_hook_dead_letters_with_the_reason() {
    let hook = Arc::new(CatchHook::new());
    let server = FakeServer::start(hook.clone()).await;
    let url = "https://hooks.zapier.com/hooks/catch/1234567/deleted/";
    let n = costwatch_core::samples::of_kind("budget");
    let verdicts = dispatch(&server, url, &[n]).await;
    let [Verdict::Dead { reason }] = verdicts.as_slice() else {
        panic!("{verdicts:?}")
    };
    assert!(reason.contains("404"), "{reason}");
    assert!(!reason.contains("deleted/"), "{reason}");
    assert!(hook.runs().is_empty());
}
