//! A webhook rotated in Secrets Manager mid-run (moto, real SDK): the dispatcher keeps serving
//! with the value it read, the vendor refuses the old one, the dispatcher re-reads the secret past
//! its cache and sends again with the new value — no cold start, nothing dead-lettered. A refusal
//! the secret cannot explain still goes to the dead-letter queue, saying the secret was re-read.

mod support;

use std::time::Duration;

use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::{SecretStores, entry};
use costwatch_store::aws::SecretsManagerSecrets;
use costwatch_store::aws::sdk::aws_sdk_secretsmanager;
use costwatch_store::memory::MemoryState;
use costwatch_testkit::moto::Moto;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;
use support::{Endpoint, Hook};

const SECRET: &str = "costwatch/hook/ops";

fn batch(id: &str) -> Vec<Incoming> {
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.id = id.to_owned();
    vec![Incoming {
        message_id: id.to_owned(),
        body: serde_json::to_string(&n).unwrap(),
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotated_mid_run_is_read_again_after_the_vendor_refuses_the_old_one() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    sm.create_secret()
        .name(SECRET)
        .secret_string(support::url("old-token"))
        .send()
        .await
        .unwrap();
    let endpoint = Endpoint::accepting("old-token");
    let server = FakeServer::start(endpoint.clone()).await;
    // A TTL longer than the test: only the refusal can make it read the secret again.
    let secrets = SecretsManagerSecrets::new(&config, "").with_ttl(Duration::from_secs(3600));
    let state = MemoryState::default();
    let integration = entry::<Hook>()
        .load(json!({"destinations": {"ops": {"webhook_url": {"secrets_manager": SECRET}}}}))
        .unwrap();
    let dispatcher = Dispatcher::builder(integration, &state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(RetryPolicy {
            max_attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .secret_stores(
            SecretStores {
                secrets_manager: Some(&secrets),
                ssm: None,
            },
            Duration::from_secs(3600),
        )
        .build()
        .await
        .unwrap();
    let deadline = || tokio::time::Instant::now() + Duration::from_secs(60);
    let now = chrono::Utc::now();

    let first = dispatcher.dispatch(&batch("ntf-1"), now, deadline()).await;
    assert_eq!(first[0].1, Verdict::Done);

    // The operator regenerates the webhook and stores the new URL.
    endpoint.rotate("new-token");
    sm.put_secret_value()
        .secret_id(SECRET)
        .secret_string(support::url("new-token"))
        .send()
        .await
        .unwrap();
    let second = dispatcher.dispatch(&batch("ntf-2"), now, deadline()).await;
    assert_eq!(
        second[0].1,
        Verdict::Done,
        "delivered with the rotated secret"
    );
    let paths: Vec<(String, Option<u16>)> =
        server.log().into_iter().map(|(r, s)| (r.path, s)).collect();
    assert_eq!(
        paths,
        vec![
            ("/hook/old-token".to_owned(), Some(200)),
            ("/hook/old-token".to_owned(), Some(404)),
            ("/hook/new-token".to_owned(), Some(200)),
        ]
    );
    // From then on the new value is used straight away.
    let third = dispatcher.dispatch(&batch("ntf-3"), now, deadline()).await;
    assert_eq!(third[0].1, Verdict::Done);
    assert_eq!(server.log().last().unwrap().0.path, "/hook/new-token");

    // The webhook is deleted and nobody updated the secret: dead-lettered, once, with why.
    endpoint.rotate("deleted");
    let fourth = dispatcher.dispatch(&batch("ntf-4"), now, deadline()).await;
    let Verdict::Dead { reason } = &fourth[0].1 else {
        panic!("{fourth:?}")
    };
    assert!(
        reason.contains("HTTP 404") && reason.contains("re-read: unchanged"),
        "{reason}"
    );
    assert!(!reason.contains("new-token"), "{reason}");
    assert_eq!(server.log().len(), 5, "one refused attempt, no second send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotated_to_a_host_outside_the_vendor_is_refused_when_read() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    sm.create_secret()
        .name(SECRET)
        .secret_string("https://evil.example/hook/stolen-token")
        .send()
        .await
        .unwrap();
    let secrets = SecretsManagerSecrets::new(&config, "");
    let state = MemoryState::default();
    let integration = entry::<Hook>()
        .load(json!({"destinations": {"ops": {"webhook_url": {"secrets_manager": SECRET}}}}))
        .unwrap();
    let err = Dispatcher::builder(integration, &state)
        .secret_stores(
            SecretStores {
                secrets_manager: Some(&secrets),
                ssm: None,
            },
            Duration::from_secs(300),
        )
        .build()
        .await
        .err()
        .expect("the resolved URL is checked like an inline one")
        .to_string();
    assert!(
        err.contains("evil.example") && err.contains(SECRET),
        "{err}"
    );
    assert!(!err.contains("stolen-token"), "{err}");
}
