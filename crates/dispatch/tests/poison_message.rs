//! A poison message cannot take its batch with it (issue 17): when handling one message panics
//! (here an integration whose encoder has a bug for one envelope), that message alone goes to
//! the dead-letter queue with the panic as its reason, and the rest of the batch is delivered —
//! each exactly once, although the batch is handled again message by message. The release
//! profile must unwind for this to hold in a deployed Lambda.

mod support;

use std::time::Duration;

use chrono::Utc;
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch::{
    Integration, Message, RateLimit, RenderContext, RenderError, Text, VendorRequest,
    WebhookConfig, entry,
};
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;
use support::{Destination, Endpoint};
use tokio::time::Instant;

const TOKEN: &str = "poison-test-token";

/// The test hook with a bug: its encoder panics on an envelope titled "POISON".
struct Fragile;

impl Integration for Fragile {
    type Config = WebhookConfig<Destination>;
    const NAME: &'static str = "hook";
    const RATE_LIMIT: RateLimit = RateLimit::per_second(1000);
    const ALLOWED_HOSTS: &'static [&'static str] = &["hooks.example.com"];

    fn render(
        config: &Self::Config,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = &config.destinations[destination];
        let ids: Vec<&str> = message
            .envelopes()
            .iter()
            .map(|n| {
                let title: Option<u32> = (n.title != "POISON").then_some(1);
                title.expect("an encoder bug");
                n.id.as_str()
            })
            .collect();
        Ok(vec![VendorRequest::post_json(
            "webhook",
            Text::secret(d.webhook_url.expose()?),
            json!({"ids": ids}),
        )])
    }
}

#[tokio::test]
async fn the_message_that_panics_is_dead_lettered_alone_and_the_rest_delivered_once() {
    one_poison_in_a_batch_of_three(None).await;
}

/// Three envelopes make a digest here: the digest panics, then its members go one by one.
#[tokio::test]
async fn a_digest_that_panics_is_delivered_member_by_member() {
    one_poison_in_a_batch_of_three(Some(2)).await;
}

async fn one_poison_in_a_batch_of_three(digest_from: Option<usize>) {
    let vendor = FakeServer::start(Endpoint::accepting(TOKEN)).await;
    let state = MemoryState::new();
    let config = json!({"destinations": {"ops": {"webhook_url": support::url(TOKEN)}}});
    let mut builder = Dispatcher::builder(entry::<Fragile>().load(config).unwrap(), &state)
        .endpoint(Some(url::Url::parse(&vendor.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        });
    if let Some(n) = digest_from {
        builder = builder.digest_from(n);
    }
    let dispatcher = builder.build().await.unwrap();

    let kinds = ["anomaly", "budget", "report"];
    let mut envelopes: Vec<_> = kinds
        .iter()
        .map(|k| costwatch_core::samples::of_kind(k))
        .collect();
    envelopes[1].title = "POISON".into();
    let messages: Vec<(String, String, u32)> = envelopes
        .iter()
        .map(|n| (n.id.clone(), serde_json::to_string(n).unwrap(), 1))
        .collect();
    let queue = MemoryQueue::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = handle_batch(
        &dispatcher,
        &queue,
        &event_of(&messages),
        5,
        Utc::now(),
        deadline,
    )
    .await;

    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let dead = queue.dead.lock().unwrap().clone();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].0, messages[1].1, "the poison message itself");
    assert!(
        dead[0].1.contains("panicked") && dead[0].1.contains("an encoder bug"),
        "{}",
        dead[0].1
    );
    let delivered: Vec<String> = vendor
        .accepted()
        .iter()
        .flat_map(|r| r.json().unwrap()["ids"].as_array().unwrap().clone())
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec![envelopes[0].id.clone(), envelopes[2].id.clone()];
    let mut got = delivered.clone();
    got.sort();
    expected.sort();
    assert_eq!(
        got, expected,
        "each healthy envelope exactly once: {delivered:?}"
    );
}

/// Under `panic = "abort"` the Lambda process dies on the first panic: no catch_unwind runs and
/// the batch comes back whole, reasonless. The workspace's release profile must unwind.
#[test]
fn the_release_profile_unwinds() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml")).unwrap();
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .expect("a [profile.release] section")
        .split("\n[")
        .next()
        .unwrap();
    let panic_lines: Vec<&str> = release
        .lines()
        .filter(|l| l.trim_start().starts_with("panic"))
        .collect();
    assert!(
        panic_lines.iter().all(|l| l.contains("\"unwind\"")),
        "release profile: {panic_lines:?}"
    );
}
