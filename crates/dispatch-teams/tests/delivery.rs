//! The Teams dispatcher against a local Workflows webhook that behaves like Power Automate's
//! (crates/vendor-fakes `teams`): every kind is posted as a card, a throttled flow's 429 and
//! `Retry-After` are honoured, and a wrong signature or a deleted flow fails at once without a
//! retry. Webhook URLs (the credential) never reach the logs.

use costwatch_core::samples::of_kind as sample;
use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sender::{Sender, Sent};
use costwatch_dispatch::{Configured, Message, RenderContext, entry};
use costwatch_dispatch_teams::Teams;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::teams::TeamsWorkflow;
use serde_json::json;
use tokio::time::Instant;

fn integration(url: &str) -> Box<dyn Configured> {
    entry::<Teams>()
        .load(json!({"destinations": {"finops": {"webhook_url": url}}}))
        .unwrap()
}

/// The trigger URL as Teams shows it; requests reach the fake through the sender's endpoint
/// override (`notify --endpoint`), which keeps path and query.
fn webhook() -> String {
    TeamsWorkflow::webhook_url("https://prod-00.westus.logic.azure.com:443")
}

fn sender(server: &FakeServer) -> Sender {
    let policy = RetryPolicy {
        max_attempts: 4,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    let endpoint = url::Url::parse(&server.url()).unwrap();
    Sender::new(Duration::from_secs(5), Some(endpoint), policy).unwrap()
}

async fn send(
    server: &FakeServer,
    teams: &dyn Configured,
    n: &costwatch_core::Notification,
) -> Sent {
    let requests = teams
        .render("finops", Message::One(n), &RenderContext::default())
        .unwrap();
    sender(server)
        .exchange(teams, &requests, Instant::now() + Duration::from_secs(30))
        .await
}

#[tokio::test]
async fn every_kind_is_accepted_and_posted_as_its_card() {
    let flow = Arc::new(TeamsWorkflow::new());
    let server = FakeServer::start(flow.clone()).await;
    let teams = integration(&webhook());
    let samples = costwatch_core::samples::all();
    for (_, n) in &samples {
        let sent = send(&server, teams.as_ref(), n).await;
        assert!(
            matches!(sent, Sent::Delivered { retries: 0, .. }),
            "{}: {sent:?}",
            n.kind()
        );
    }
    assert_eq!(flow.failed_runs(), Vec::<String>::new());
    let posted = flow.posted();
    assert_eq!(posted.len(), samples.len());
    for ((_, n), card) in samples.iter().zip(&posted) {
        assert!(card.to_string().contains(&n.id), "{}", n.kind());
    }
    assert!(server.log().iter().all(|(_, status)| *status == Some(202)));
}

#[tokio::test]
async fn a_throttled_flow_is_retried_after_its_retry_after() {
    let flow = Arc::new(TeamsWorkflow::new());
    let server = FakeServer::start(flow.clone()).await;
    flow.throttle(2, 0);
    let teams = integration(&webhook());
    let n = sample("anomaly");
    let sent = send(&server, teams.as_ref(), &n).await;
    assert!(
        matches!(sent, Sent::Delivered { retries: 2, .. }),
        "{sent:?}"
    );
    let statuses: Vec<_> = server.log().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(202)]);
    assert_eq!(flow.posted().len(), 1);
}

#[tokio::test]
async fn a_long_retry_after_goes_back_to_the_queue_with_that_delay() {
    let flow = Arc::new(TeamsWorkflow::new());
    let server = FakeServer::start(flow.clone()).await;
    flow.throttle(1, 120);
    let teams = integration(&webhook());
    let n = sample("budget");
    let requests = teams
        .render("finops", Message::One(&n), &RenderContext::default())
        .unwrap();
    // 10 s left in the invocation: a 120 s wait does not fit.
    let sent = sender(&server)
        .exchange(
            teams.as_ref(),
            &requests,
            Instant::now() + Duration::from_secs(10),
        )
        .await;
    let Sent::Requeue { after, .. } = sent else {
        panic!("{sent:?}")
    };
    assert!(after >= Duration::from_secs(120), "{after:?}");
    assert_eq!(server.log().len(), 1);
}

#[tokio::test]
async fn a_wrong_signature_or_a_deleted_flow_fails_without_retrying() {
    let flow = Arc::new(TeamsWorkflow::new());
    let server = FakeServer::start(flow.clone()).await;
    let n = sample("anomaly");
    let good = webhook();
    let wrong_sig = good.replace("sig=", "sig=x");
    let deleted = good.replace("/workflows/", "/workflows/ff");
    for (url, status, words) in [(wrong_sig, 401, "signature"), (deleted, 404, "deleted")] {
        let before = server.log().len();
        let teams = integration(&url);
        let sent = send(&server, teams.as_ref(), &n).await;
        let Sent::Failed {
            reason, retries: 0, ..
        } = sent
        else {
            panic!("{sent:?}")
        };
        assert!(
            reason.contains(&status.to_string()) && reason.contains(words),
            "{reason}"
        );
        assert!(!reason.contains("fake-workflow-signature"), "{reason}");
        assert_eq!(server.log().len(), before + 1, "not retried");
    }
    assert!(flow.posted().is_empty());
}

#[test]
fn render_output_redacts_the_webhook_signature() {
    let teams = integration(
        "https://prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=very-secret-sig",
    );
    let n = sample("report");
    let requests = teams
        .render("finops", Message::One(&n), &RenderContext::default())
        .unwrap();
    let printed = serde_json::to_string(&requests[0].printable()).unwrap();
    assert!(!printed.contains("very-secret-sig"), "{printed}");
    assert!(!format!("{teams:?}", teams = requests[0]).contains("very-secret-sig"));
}

#[test]
fn office_365_connector_urls_are_refused_with_directions() {
    let err = entry::<Teams>()
        .load(json!({"destinations": {"old": {"webhook_url": "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"}}}))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("retired") && err.contains("Workflows"),
        "{err}"
    );
    assert!(
        !err.contains("IncomingWebhook/123"),
        "the URL is a credential: {err}"
    );
    let unknown = entry::<Teams>().load(json!({"destinations": {"a": {"webhook_url": "https://x.logic.azure.com/w", "colour": "red"}}}));
    assert!(unknown.is_err());
}
