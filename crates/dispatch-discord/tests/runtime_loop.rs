//! The built `dispatch-discord` binary under the Runtime API emulator, on moto, against the
//! Discord (webhook) fake: the sample of events/dispatch-discord/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::discord::{DiscordWebhook, TOKEN};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "discord",
        binary: env!("CARGO_BIN_EXE_dispatch-discord"),
        config: json!({"destinations": {"ops": {"webhook_url": DiscordWebhook::webhook_url("https://discord.com")}}}),
        secrets: &[TOKEN],
        fake: Arc::new(DiscordWebhook::new(1_000_000, Duration::from_secs(60))),
    });
}
