//! The sender treats webhook URLs as the credentials they are: a redirect is never followed (a
//! 3xx is a configuration error, the target host never hears of the request, no `Referer`), a
//! request to a host the integration does not pin is refused before anything is sent, and an
//! absurd `Retry-After` waits a day instead of panicking.

mod support;

use std::time::Duration;

use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sender::{Sender, Sent};
use costwatch_dispatch::{Configured, Text, VendorRequest, entry};
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::server::{FakeServer, Reply};
use serde_json::json;
use support::{Endpoint, Hook};
use tokio::time::Instant;

const TOKEN: &str = "T0KEN-redirect-secret";

fn hook(extra: serde_json::Value) -> Box<dyn Configured> {
    let mut config = json!({"destinations": {"ops": {"webhook_url": support::url(TOKEN)}}});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    entry::<Hook>().load(config).unwrap()
}

fn sender(endpoint: Option<&FakeServer>) -> Sender {
    let policy = RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    let endpoint = endpoint.map(|s| url::Url::parse(&s.url()).unwrap());
    Sender::new(Duration::from_secs(5), endpoint, policy).unwrap()
}

fn request(url: &str) -> VendorRequest {
    VendorRequest::post_json("webhook", Text::secret(url), json!({"ids": ["ntf-1"]}))
}

fn in_a_minute() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

/// The hook's one request, sent to a vendor that answers every request with `reply`; the fake
/// is returned for what it received.
async fn exchange_with(reply: Reply) -> (Sent, FakeServer) {
    let vendor = FakeServer::start(Endpoint::replying(reply)).await;
    let integration = hook(json!({}));
    let sent = sender(Some(&vendor))
        .exchange(
            integration.as_ref(),
            &[request(&support::url(TOKEN))],
            in_a_minute(),
        )
        .await;
    (sent, vendor)
}

#[tokio::test]
async fn redirects_are_configuration_errors_and_are_never_followed() {
    let elsewhere = FakeServer::start(Endpoint::accepting(TOKEN)).await;
    for status in [301, 302, 303, 307, 308] {
        let location = format!("{}/hook/{TOKEN}", elsewhere.url());
        let (sent, vendor) =
            exchange_with(Reply::json(status, json!({})).with_header("location", &location)).await;
        let Sent::Failed {
            reason,
            retries,
            status: Some(s),
            credential_refused: false,
            completed: 0,
            gone: false,
        } = sent
        else {
            panic!("HTTP {status} must fail for good, got {sent:?}");
        };
        assert_eq!((s, retries), (status, 0));
        assert!(
            reason.contains("redirect") && reason.contains("not followed"),
            "{reason}"
        );
        assert!(
            reason.contains("127.0.0.1"),
            "names the target host: {reason}"
        );
        assert!(!reason.contains(TOKEN), "{reason}");
        assert_eq!(vendor.log().len(), 1, "asked once, not retried");
        assert!(vendor.log()[0].0.header("referer").is_none());
    }
    assert!(
        elsewhere.log().is_empty(),
        "the redirect target never saw the request (nor the URL's token)"
    );
}

#[tokio::test]
async fn hosts_the_integration_does_not_pin_are_refused_before_sending() {
    // A referenced (or mistyped) URL that points elsewhere never leaves the process.
    let trap = FakeServer::start(Endpoint::accepting(TOKEN)).await;
    let integration = hook(json!({}));
    let sent = sender(None)
        .exchange(
            integration.as_ref(),
            &[request(&format!("https://evil.example/hook/{TOKEN}"))],
            in_a_minute(),
        )
        .await;
    let Sent::Failed {
        reason,
        status: None,
        ..
    } = sent
    else {
        panic!("{sent:?}")
    };
    assert!(
        reason.contains("evil.example") && reason.contains("allow_hosts"),
        "{reason}"
    );
    assert!(!reason.contains(TOKEN), "{reason}");
    // Plain http to a pinned host is refused too…
    let sent = sender(None)
        .exchange(
            integration.as_ref(),
            &[request(&format!("http://hooks.example.com/hook/{TOKEN}"))],
            in_a_minute(),
        )
        .await;
    assert!(
        matches!(&sent, Sent::Failed { reason, .. } if reason.contains("https")),
        "{sent:?}"
    );
    // …and a loopback test server is reachable only when the config allows it.
    let direct = format!("{}/hook/{TOKEN}", trap.url());
    let sent = sender(None)
        .exchange(integration.as_ref(), &[request(&direct)], in_a_minute())
        .await;
    assert!(matches!(sent, Sent::Failed { .. }), "{sent:?}");
    assert!(trap.log().is_empty());
    let allowed = hook(json!({"allow_hosts": ["127.0.0.1"]}));
    let sent = sender(None)
        .exchange(allowed.as_ref(), &[request(&direct)], in_a_minute())
        .await;
    assert!(matches!(sent, Sent::Delivered { .. }), "{sent:?}");
    assert_eq!(trap.accepted().len(), 1);
}

#[test]
fn inline_urls_outside_the_vendor_hosts_are_config_errors() {
    let err = entry::<Hook>()
        .load(json!({"destinations": {"ops": {"webhook_url": format!("https://hooks.example.com.evil.example/hook/{TOKEN}")}}}))
        .err()
        .expect("a look-alike host is refused")
        .to_string();
    assert!(
        err.contains("not a hook host") && !err.contains(TOKEN),
        "{err}"
    );
    let err = entry::<Hook>()
        .load(json!({"allow_hosts": ["*"], "destinations": {"ops": {"webhook_url": support::url(TOKEN)}}}))
        .err()
        .expect("a bare wildcard is no pattern")
        .to_string();
    assert!(err.contains("allow_hosts"), "{err}");
    assert!(
        entry::<Hook>()
            .load(json!({"allow_hosts": ["proxy.corp.example"], "destinations": {"ops": {"webhook_url": format!("https://proxy.corp.example/hook/{TOKEN}")}}}))
            .is_ok()
    );
}

#[tokio::test]
async fn an_absurd_retry_after_waits_a_day_on_the_queue_instead_of_panicking() {
    let (sent, _vendor) =
        exchange_with(Reply::json(429, json!({})).with_header("retry-after", "1e20")).await;
    let Sent::Requeue { after, .. } = sent else {
        panic!("{sent:?}")
    };
    assert_eq!(after, Duration::from_secs(24 * 3600));
}

/// A wait longer than SQS can hold a message back (12 hours) is kept in the ledger: the
/// redelivery after 12 hours waits again without calling the vendor, and the one after the
/// vendor's day goes through.
#[tokio::test]
async fn a_day_long_retry_after_is_honoured_across_two_queue_waits() {
    let endpoint = Endpoint::accepting(TOKEN);
    endpoint.answer(Some(
        Reply::json(429, json!({})).with_header("retry-after", "86400"),
    ));
    let vendor = FakeServer::start(endpoint.clone()).await;
    let state = MemoryState::default();
    let dispatcher = Dispatcher::builder(hook(json!({})), &state)
        .endpoint(Some(url::Url::parse(&vendor.url()).unwrap()))
        .build()
        .await
        .unwrap();
    let mut n = costwatch_core::samples::of_kind("budget");
    n.id = "ntf-day".into();
    let batch = [Incoming {
        message_id: n.id.clone(),
        body: serde_json::to_string(&n).unwrap(),
    }];
    let t0: chrono::DateTime<chrono::Utc> = "2026-12-01T08:00:00Z".parse().unwrap();
    let first = dispatcher.dispatch(&batch, t0, in_a_minute()).await;
    assert!(
        matches!(&first[0].1, Verdict::Retry { after, .. } if *after == Duration::from_secs(86_400)),
        "{first:?}"
    );
    endpoint.answer(None);
    let half = dispatcher
        .dispatch(&batch, t0 + chrono::Duration::hours(12), in_a_minute())
        .await;
    let Verdict::Retry { after, reason } = &half[0].1 else {
        panic!("{half:?}")
    };
    assert_eq!(*after, Duration::from_secs(12 * 3600));
    assert!(reason.contains("asked to wait"), "{reason}");
    assert_eq!(
        vendor.log().len(),
        1,
        "the vendor is not called before its time"
    );
    let later = dispatcher
        .dispatch(&batch, t0 + chrono::Duration::hours(24), in_a_minute())
        .await;
    assert_eq!(later[0].1, Verdict::Done);
    assert_eq!(vendor.accepted().len(), 1);
}

/// A vendor error page that repeats the URL it was sent must not carry the credential into
/// logs or dead-letter reasons.
#[tokio::test]
async fn answers_that_echo_the_url_are_quoted_without_the_credential() {
    for status in [401, 500] {
        let echo = json!({"message": format!("no webhook at https://hooks.example.com/hook/{TOKEN} (/hook/{TOKEN})")});
        let (sent, _vendor) = exchange_with(Reply::json(status, echo)).await;
        let reason = match sent {
            Sent::Failed { reason, .. } | Sent::Requeue { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason.contains(&format!("HTTP {status}")), "{reason}");
        assert!(reason.contains("[REDACTED]"), "{reason}");
        assert!(!reason.contains(TOKEN), "{reason}");
    }
}

/// The Lambda takes credentials only as Secrets Manager / SSM references.
#[test]
fn inline_credentials_are_refused_where_only_references_belong() {
    let err = hook(json!({}))
        .require_references()
        .expect_err("an inline webhook URL")
        .to_string();
    assert!(
        err.contains("1 inline credential") && err.contains("secrets_manager"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
    let referenced = entry::<Hook>()
        .load(json!({"destinations": {"ops": {"webhook_url": {"ssm": "/costwatch/hook/ops"}}}}))
        .unwrap();
    assert!(referenced.require_references().is_ok());
}
