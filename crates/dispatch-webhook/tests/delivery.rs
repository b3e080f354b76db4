//! Custom webhooks over real HTTP to the Standard Webhooks receiver fake on 127.0.0.1: an
//! allowed loopback destination is delivered and verified; without the allow, loopback, private,
//! metadata and IPv4-mapped destinations — and `localhost`, which only DNS turns into
//! 127.0.0.1 — are refused before a byte reaches them; 429 is retried; 410 disables the
//! destination for every later envelope, saying why and how to re-enable it.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::dispatcher::Verdict;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sender::{Sender, Sent};
use costwatch_dispatch::{Message, RenderContext, entry};
use costwatch_dispatch_webhook::Webhook;
use costwatch_store::StateStore;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::standard_webhooks::Receiver;
use serde_json::{Value, json};
use support::{SECRET, TOKEN, dispatch_one, dispatcher};
use tokio::time::Instant;

fn config(url: &str, allow_hosts: &[&str]) -> Value {
    json!({
        "destinations": {"ops": {"url": url, "signing_secrets": [SECRET]}},
        "allow_hosts": allow_hosts,
    })
}

fn numbered(i: usize) -> costwatch_core::Notification {
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.id = format!("ntf-webhook-{i:04}");
    n
}

async fn receiver() -> (Arc<Receiver>, FakeServer) {
    let receiver = Arc::new(Receiver::new(SECRET));
    let server = FakeServer::start(receiver.clone()).await;
    (receiver, server)
}

#[tokio::test]
async fn an_allowed_loopback_receiver_gets_each_envelope_signed_and_verified() {
    let (receiver, server) = receiver().await;
    let state = MemoryState::default();
    let url = format!("{}/hooks/{TOKEN}", server.url());
    let d = dispatcher(config(&url, &["127.0.0.1"]), &state).await;
    let n = numbered(1);
    assert_eq!(dispatch_one(&d, &n).await, Verdict::Done);
    assert_eq!(receiver.events(), vec![serde_json::to_value(&n).unwrap()]);
    assert!(receiver.refused().is_empty());
    // `localhost` is resolved by the guarded resolver, and allowed by name.
    let by_name = url.replace("127.0.0.1", "localhost");
    let state = MemoryState::default();
    let d = dispatcher(config(&by_name, &["localhost"]), &state).await;
    assert_eq!(dispatch_one(&d, &numbered(2)).await, Verdict::Done);
    assert_eq!(receiver.events().len(), 2);
}

#[tokio::test]
async fn internal_destinations_are_refused_at_load_without_the_allow() {
    for url in [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1:9/hook",
        "https://10.0.0.7/hook",
        "https://172.20.1.1/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
    ] {
        let err = entry::<Webhook>()
            .load(config(url, &[]))
            .err()
            .unwrap_or_else(|| panic!("{url} must be refused"))
            .to_string();
        assert!(
            err.contains("internal address") || err.contains("https"),
            "{url}: {err}"
        );
    }
}

/// The sender refuses on every request, not only at load: a referenced URL is only known once
/// read, and `localhost` is only an internal address once resolved.
#[tokio::test]
async fn the_sender_refuses_internal_addresses_and_names_that_resolve_to_them() {
    let (receiver, server) = receiver().await;
    let port = server.url().rsplit(':').next().unwrap().to_owned();
    let integration = entry::<Webhook>()
        .load(config("https://hooks.example.com/x", &[]))
        .unwrap();
    let sample = costwatch_core::samples::of_kind("anomaly");
    let rendered = integration
        .render("ops", Message::One(&sample), &RenderContext::default())
        .unwrap();
    let sender = Sender::allowing(
        Duration::from_secs(5),
        None,
        RetryPolicy {
            max_attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        },
        integration.allow_hosts(),
    )
    .unwrap();
    let cases = [
        (
            format!("https://localhost:{port}/hooks/{TOKEN}"),
            "resolves only to internal addresses",
        ),
        (
            format!("https://127.0.0.1:{port}/hooks/{TOKEN}"),
            "internal address",
        ),
        (
            format!("https://[::ffff:127.0.0.1]:{port}/hooks/{TOKEN}"),
            "internal address",
        ),
        (
            format!("https://[::ffff:7f00:1]:{port}/hooks/{TOKEN}"),
            "internal address",
        ),
        (
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            "internal address",
        ),
        (
            format!("https://2130706433:{port}/hooks/{TOKEN}"),
            "internal address",
        ),
    ];
    for (url, why) in cases {
        let mut request = rendered[0].clone();
        request.url = costwatch_dispatch::Text::secret(&url);
        let sent = sender
            .exchange(
                integration.as_ref(),
                &[request],
                Instant::now() + Duration::from_secs(10),
            )
            .await;
        let reason = match &sent {
            Sent::Failed { reason, .. } | Sent::Requeue { reason, .. } => reason.clone(),
            other => panic!("{url} must be refused, got {other:?}"),
        };
        assert!(reason.contains(why), "{url}: {reason}");
        assert!(!reason.contains(TOKEN), "{reason}");
    }
    assert!(server.log().is_empty(), "nothing reached the receiver");
    assert!(receiver.events().is_empty());
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after() {
    let (receiver, server) = receiver().await;
    receiver.throttle(1, 0);
    let state = MemoryState::default();
    let url = format!("{}/hooks/{TOKEN}", server.url());
    let d = dispatcher(config(&url, &["127.0.0.1"]), &state).await;
    assert_eq!(dispatch_one(&d, &numbered(1)).await, Verdict::Done);
    let statuses: Vec<Option<u16>> = server.log().into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, vec![Some(429), Some(200)]);
    assert_eq!(receiver.events().len(), 1);
}

#[tokio::test]
async fn gone_disables_the_destination_for_every_later_envelope() {
    let (receiver, server) = receiver().await;
    let state = MemoryState::default();
    let url = format!("{}/hooks/{TOKEN}", server.url());
    let d = dispatcher(config(&url, &["127.0.0.1"]), &state).await;
    assert_eq!(dispatch_one(&d, &numbered(1)).await, Verdict::Done);
    receiver.remove_endpoint();
    let Verdict::Dead { reason } = dispatch_one(&d, &numbered(2)).await else {
        panic!("410 dead-letters the message");
    };
    assert!(
        reason.contains("410") && reason.contains("re-enable"),
        "{reason}"
    );
    assert!(!reason.contains(TOKEN), "{reason}");
    assert_eq!(server.log().len(), 2, "410 is not retried");
    // Persisted in the integration's state: a new dispatcher (a cold start) sends nothing more.
    let items = state.list("dispatch-disabled/").await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].0, "dispatch-disabled/webhook/ops");
    let cold = dispatcher(config(&url, &["127.0.0.1"]), &state).await;
    for i in 3..6 {
        let Verdict::Dead { reason } = dispatch_one(&cold, &numbered(i)).await else {
            panic!("a disabled destination dead-letters");
        };
        assert!(
            reason.contains("disabled since") && reason.contains("delete-item"),
            "{reason}"
        );
    }
    assert_eq!(
        server.log().len(),
        2,
        "nothing sent to a disabled destination"
    );
    assert_eq!(receiver.events().len(), 1);
}
