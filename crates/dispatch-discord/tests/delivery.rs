//! The Discord dispatcher against a local execute-webhook endpoint that behaves like Discord's
//! (crates/vendor-fakes `discord`): every kind is posted (the report with its chart uploaded
//! and referenced), an empty bucket's 429 with `retry_after` is honoured, and a deleted webhook
//! or a wrong token fails at once without a retry.

use costwatch_core::samples::of_kind as sample;
use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sender::{Sender, Sent};
use costwatch_dispatch::{Configured, Message, RenderContext, entry};
use costwatch_dispatch_discord::Discord;
use costwatch_vendor_fakes::discord::DiscordWebhook;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;
use tokio::time::Instant;

fn integration(url: &str) -> Box<dyn Configured> {
    entry::<Discord>()
        .load(json!({"destinations": {"ops": {"webhook_url": url}}}))
        .unwrap()
}

fn sender() -> Sender {
    let policy = RetryPolicy {
        max_attempts: 6,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    Sender::new(Duration::from_secs(5), None, policy).unwrap()
}

async fn send(discord: &dyn Configured, n: &costwatch_core::Notification) -> Sent {
    let requests = discord
        .render("ops", Message::One(n), &RenderContext::default())
        .unwrap();
    sender()
        .exchange(discord, &requests, Instant::now() + Duration::from_secs(30))
        .await
}

/// The fake only accepts https-looking URLs through config validation, so tests point the
/// sender at it with `--endpoint` semantics: the config holds a real-looking URL.
fn redirected_sender(server: &FakeServer) -> Sender {
    let policy = RetryPolicy {
        max_attempts: 6,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    Sender::new(
        Duration::from_secs(5),
        Some(url::Url::parse(&server.url()).unwrap()),
        policy,
    )
    .unwrap()
}

fn webhook() -> String {
    DiscordWebhook::webhook_url("https://discord.com")
}

#[tokio::test]
async fn every_kind_is_posted_and_the_report_carries_its_chart() {
    let hook = Arc::new(DiscordWebhook::new(100, Duration::from_secs(60)));
    let server = FakeServer::start(hook.clone()).await;
    let discord = integration(&webhook());
    let sender = redirected_sender(&server);
    let samples = costwatch_core::samples::all();
    for (_, n) in &samples {
        let requests = discord
            .render("ops", Message::One(n), &RenderContext::default())
            .unwrap();
        let sent = sender
            .exchange(
                discord.as_ref(),
                &requests,
                Instant::now() + Duration::from_secs(30),
            )
            .await;
        let Sent::Delivered {
            answers,
            retries: 0,
        } = sent
        else {
            panic!("{}: {sent:?}", n.kind())
        };
        // wait=true: Discord answers with the message it created.
        assert_eq!(answers[0].status, 200);
        assert!(
            answers[0]
                .body
                .as_ref()
                .and_then(|b| b["id"].as_str())
                .is_some()
        );
    }
    let posted = hook.posted();
    assert_eq!(posted.len(), samples.len());
    for p in &posted {
        assert!(p.query.contains("wait=true"));
        assert_eq!(p.payload["allowed_mentions"], json!({"parse": []}));
    }
    let report = posted
        .iter()
        .find(|p| p.payload.to_string().contains("Daily cost report"))
        .unwrap();
    // The PNG Discord shows as the embed's image, then the labelled SVG.
    let names: Vec<(&str, &str)> = report
        .files
        .iter()
        .map(|(f, n, _)| (f.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        names,
        [("files[0]", "chart.png"), ("files[1]", "chart.svg")]
    );
    assert_eq!(&report.files[0].2[..4], b"\x89PNG");
    assert!(report.files[1].2.starts_with(b"<svg"));
    assert_eq!(
        report.payload["embeds"][0]["image"]["url"],
        "attachment://chart.png"
    );
}

#[tokio::test]
async fn an_empty_bucket_is_waited_out_as_discord_says() {
    // Two messages per 300 ms window: the third meets an empty bucket and a 429 whose
    // retry_after the sender honours before trying again.
    let hook = Arc::new(DiscordWebhook::new(2, Duration::from_millis(300)));
    let server = FakeServer::start(hook.clone()).await;
    let discord = integration(&webhook());
    let sender = redirected_sender(&server);
    let n = sample("anomaly");
    let mut retries = 0;
    for _ in 0..3 {
        let requests = discord
            .render("ops", Message::One(&n), &RenderContext::default())
            .unwrap();
        match sender
            .exchange(
                discord.as_ref(),
                &requests,
                Instant::now() + Duration::from_secs(30),
            )
            .await
        {
            Sent::Delivered { retries: r, .. } => retries += r,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(hook.posted().len(), 3);
    // Each 429 was followed by a wait of at least retry_after, so the retry got through.
    let statuses: Vec<_> = server.log().iter().map(|(_, s)| s.unwrap_or(0)).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count() as u32,
        retries,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_deleted_webhook_or_a_wrong_token_fails_without_retrying() {
    let hook = Arc::new(DiscordWebhook::new(100, Duration::from_secs(60)));
    let server = FakeServer::start(hook.clone()).await;
    let sender = redirected_sender(&server);
    let n = sample("anomaly");
    let deleted = webhook().replace(
        costwatch_vendor_fakes::discord::WEBHOOK_ID,
        "999999999999999999",
    );
    let wrong = webhook().replace(costwatch_vendor_fakes::discord::TOKEN, "not-the-token");
    for (url, status) in [(deleted, "404"), (wrong, "401")] {
        let before = server.log().len();
        let discord = integration(&url);
        let requests = discord
            .render("ops", Message::One(&n), &RenderContext::default())
            .unwrap();
        let sent = sender
            .exchange(
                discord.as_ref(),
                &requests,
                Instant::now() + Duration::from_secs(30),
            )
            .await;
        let Sent::Failed {
            reason, retries: 0, ..
        } = sent
        else {
            panic!("{sent:?}")
        };
        assert!(reason.contains(status), "{reason}");
        assert!(
            !reason.contains("not-the-token") && !reason.contains("fake-webhook-token"),
            "{reason}"
        );
        assert_eq!(server.log().len(), before + 1);
    }
    assert!(hook.posted().is_empty());
    let _ = send;
}
