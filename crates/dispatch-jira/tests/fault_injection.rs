//! 120 subjects through a Jira site that fails at random before it sees a request (429 with
//! Retry-After, 500, hung requests, dropped connections), handled batch by batch as the Lambda
//! handles them, every message the handler gives back redelivered as SQS would: each subject is
//! filed exactly once, and the API token never reaches the logs.

use std::sync::Arc;
use std::time::Duration;

use costwatch_core::samples::of_kind as sample;
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::entry;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, redeliver_until_drained};
use costwatch_dispatch_jira::{Jira, subject_label};
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::faults::{Faults, exactly_once};
use costwatch_vendor_fakes::jira::{API_TOKEN, EMAIL, JiraSite};
use costwatch_vendor_fakes::logs::LogCapture;
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subject_is_filed_exactly_once_through_random_faults() {
    let (logs, _guard) = LogCapture::start();
    let site = Arc::new(JiraSite::new());
    let faults = Arc::new(Faults::new(site.clone(), 0.3, 20261203));
    let server = FakeServer::start(faults.clone()).await;
    let integration = entry::<Jira>()
        .load(json!({
            "site": "https://acme.atlassian.net",
            "email": EMAIL,
            "api_token": API_TOKEN,
            "rate_per_second": 1_000_000,
            "destinations": {"finops": {"project": "FIN"}},
        }))
        .unwrap();
    let policy = RetryPolicy {
        max_attempts: 5,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    };
    let state = MemoryState::default();
    let dispatcher = Dispatcher::builder(integration, &state)
        .timeout(Duration::from_millis(150))
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .retry(policy)
        .digest_from(usize::MAX)
        .lease(chrono::Duration::zero())
        .build()
        .await
        .unwrap();

    let base = sample("anomaly");
    let queue: Vec<(String, String)> = (0..120)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("ntf_fault_{i:04}");
            n.subject_id = format!("an_fault_{i:04}");
            (n.id.clone(), serde_json::to_string(&n).unwrap())
        })
        .collect();
    let sqs = MemoryQueue::default();
    let rounds = redeliver_until_drained(&dispatcher, &sqs, queue, 50)
        .await
        .unwrap_or_else(|left| panic!("{} messages still failing after 50 rounds", left.len()));
    assert!(
        sqs.dead.lock().unwrap().is_empty(),
        "nothing is dead-lettered"
    );
    assert!(faults.counts().each_over(5), "{:?}", faults.counts());
    let filed = site.issues().into_iter().map(|issue| {
        issue
            .labels()
            .into_iter()
            .find(|l| l.starts_with("costwatch-"))
            .expect("the subject label")
    });
    exactly_once(
        filed,
        (0..120).map(|i| subject_label(&format!("an_fault_{i:04}"))),
    )
    .unwrap();
    assert!(!logs.text().contains(API_TOKEN));
    eprintln!("faults: {:?}, redelivery rounds: {rounds}", faults.counts());
}
