//! What the Slack tests share: a config against a fake, the dispatcher wired to memory ports.

#![allow(dead_code)]

pub use costwatch_core::samples::of_kind as sample;
use std::sync::Arc;
use std::time::Duration;

use costwatch_core::Notification;
use costwatch_dispatch::dispatcher::{Dispatcher, Settings, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{Configured, SecretStores, entry};
use costwatch_dispatch_kit::envelopes::batch;
use costwatch_dispatch_slack::Slack;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};

pub const HOOK_A: &str = "/services/T0CW/B0FINOPS/hooksecretAAAA";
pub const HOOK_B: &str = "/services/T0CW/B0MLTEAM/hooksecretBBBB";
pub const TOKEN: &str = "xoxb-1-2-tokensecretXYZ";

pub fn all_kinds() -> Vec<Notification> {
    costwatch_core::samples::envelopes()
}

/// Webhook destinations `finops` and `ml-team`, bot destination `ops` (channel C0OPS).
pub fn config(rate_per_second: u32) -> Value {
    json!({
        "bot_token": TOKEN,
        "rate_per_second": rate_per_second,
        "destinations": {
            "finops": {"webhook_url": format!("https://hooks.slack.com{HOOK_A}")},
            "ml-team": {"webhook_url": format!("https://hooks.slack.com{HOOK_B}")},
            "ops": {"channel": "C0OPS"}
        }
    })
}

pub async fn load(config: Value) -> Box<dyn Configured> {
    let c = entry::<Slack>().load(config).unwrap();
    c.resolve_secrets(&SecretStores::default(), false)
        .await
        .unwrap();
    c
}

/// A Slack dispatcher against a fake: the ledger (`state`) lives as long as the rig, and each
/// [`Rig::dispatcher`] is built anew with the current `settings`.
pub struct Rig {
    config: Value,
    endpoint: url::Url,
    timeout: Duration,
    policy: RetryPolicy,
    pub state: MemoryState,
    pub settings: Settings,
}

impl Rig {
    pub async fn new(
        config: Value,
        fake: &FakeServer,
        timeout: Duration,
        policy: RetryPolicy,
    ) -> Rig {
        Rig {
            config,
            endpoint: url::Url::parse(&fake.url()).unwrap(),
            timeout,
            policy,
            state: MemoryState::default(),
            // One message per envelope unless a test turns the digest on.
            settings: Settings {
                digest_from: usize::MAX,
                ..Settings::default()
            },
        }
    }

    pub async fn dispatcher(&self) -> Dispatcher<'_> {
        Dispatcher::builder(load(self.config.clone()).await, &self.state)
            .timeout(self.timeout)
            .endpoint(Some(self.endpoint.clone()))
            .retry(self.policy)
            .settings(self.settings.clone())
            .build()
            .await
            .unwrap()
    }

    pub async fn send(&self, envelopes: &[Notification]) -> Vec<(String, Verdict)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        self.dispatcher()
            .await
            .dispatch(&batch(envelopes), chrono::Utc::now(), deadline)
            .await
    }
}

pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    }
}

pub fn fake_slack() -> costwatch_vendor_fakes::slack::FakeSlack {
    costwatch_vendor_fakes::slack::FakeSlack::new()
        .with_webhook(HOOK_A, "C0FINOPS")
        .with_webhook(HOOK_B, "C0MLTEAM")
        .with_bot(TOKEN, &["C0OPS"])
}

pub async fn serve(vendor: Arc<dyn costwatch_vendor_fakes::server::Vendor>) -> FakeServer {
    FakeServer::start(vendor).await
}
