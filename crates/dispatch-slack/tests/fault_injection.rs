//! 1,000 envelopes to two Slack destinations through a server that fails at random (429 with
//! Retry-After, 500, hung requests, dropped connections) before Slack sees the request. Every
//! batch is handled as the Lambda handles it and every message the handler gives back is
//! redelivered, as SQS would, until none is left: each envelope must reach each destination
//! exactly once, and nothing secret may appear in the logs.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costwatch_dispatch::sqs::{MemoryQueue, redeliver_until_drained};
use costwatch_vendor_fakes::faults::{Faults, exactly_once};
use costwatch_vendor_fakes::logs::LogCapture;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_envelopes_arrive_exactly_once_per_destination_through_random_faults() {
    let (logs, _guard) = LogCapture::start();

    let slack = Arc::new(fake_slack());
    let faults = Arc::new(Faults::new(slack.clone(), 0.3, 20261202));
    let fake = serve(faults.clone()).await;
    let mut config = config(1_000_000);
    config["routing"] = json!({"rules": [{"destinations": ["finops", "ml-team"]}]});
    // Short timeouts keep hung requests cheap; the digest is off so every envelope is a message.
    let mut rig = Rig::new(config, &fake, Duration::from_millis(150), quick_retries()).await;
    rig.settings.digest_from = usize::MAX;
    rig.settings.lease = chrono::Duration::zero();

    let queue: Vec<(String, String)> = (0..1000)
        .map(|i| {
            let mut n = sample("anomaly");
            n.id = format!("ntf_fault_{i:04}");
            n.title = format!("Spike #{i:04}");
            (n.id.clone(), serde_json::to_string(&n).unwrap())
        })
        .collect();
    let sqs = MemoryQueue::default();
    let rounds = redeliver_until_drained(&rig.dispatcher().await, &sqs, queue, 50)
        .await
        .unwrap_or_else(|left| panic!("{} messages still failing after 50 rounds", left.len()));
    assert!(
        sqs.dead.lock().unwrap().is_empty(),
        "nothing is dead-lettered: {:?}",
        sqs.dead.lock().unwrap()
    );

    let counts = faults.counts();
    assert!(counts.each_over(50), "{counts:?}");
    // Each message's text opens with its envelope's title.
    let delivered = slack.messages().into_iter().map(|m| {
        let title: String = m.text.chars().take("Spike #0000".len()).collect();
        format!("{} {title}", m.channel)
    });
    let expected = ["C0FINOPS", "C0MLTEAM"]
        .iter()
        .flat_map(|c| (0..1000).map(move |i| format!("{c} Spike #{i:04}")));
    exactly_once(delivered, expected).unwrap();
    eprintln!("faults: {counts:?}, redelivery rounds: {rounds}");

    let logs = logs.text();
    assert!(logs.contains("retrying"), "the retries were logged");
    for secret in ["hooksecretAAAA", "hooksecretBBBB", "tokensecretXYZ"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

/// Multi-step messages through the same faults: 200 reports to a bot destination, each a post
/// and its chart's three upload calls (`files.getUploadURLExternal`, the upload,
/// `files.completeUploadExternal`). With two attempts per step, a step that keeps failing hands
/// the message back to the queue after earlier steps went through; the redelivery resumes after
/// them. Every report is posted once, with exactly one chart in its own thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_step_reports_resume_after_the_steps_done_and_post_once() {
    let slack = Arc::new(fake_slack());
    let faults = Arc::new(Faults::new(slack.clone(), 0.3, 20261204));
    let fake = serve(faults.clone()).await;
    let mut config = config(1_000_000);
    config["routing"] = json!({"rules": [{"destinations": ["ops"]}]});
    let two_attempts = costwatch_dispatch::retry::RetryPolicy {
        max_attempts: 2,
        ..quick_retries()
    };
    let mut rig = Rig::new(config, &fake, Duration::from_millis(150), two_attempts).await;
    rig.settings.lease = chrono::Duration::zero();

    let queue: Vec<(String, String)> = (0..200)
        .map(|i| {
            let mut n = sample("report");
            n.id = format!("ntf_report_{i:03}");
            n.subject_id = format!("rep_drill_{i:03}");
            n.title = format!("Report #{i:03}");
            (n.id.clone(), serde_json::to_string(&n).unwrap())
        })
        .collect();
    let sqs = MemoryQueue::default();
    let rounds = redeliver_until_drained(&rig.dispatcher().await, &sqs, queue, 60)
        .await
        .unwrap_or_else(|left| panic!("{} messages still failing after 60 rounds", left.len()));
    assert!(sqs.dead.lock().unwrap().is_empty());
    assert!(rounds > 1, "some reports had to be redelivered");

    let messages = slack.messages();
    let posts: Vec<_> = messages
        .iter()
        .filter(|m| m.via == "chat.postMessage")
        .collect();
    let delivered = posts
        .iter()
        .map(|m| m.text.chars().take("Report #000".len()).collect::<String>());
    exactly_once(delivered, (0..200).map(|i| format!("Report #{i:03}"))).unwrap();
    // One chart per report, each in its report's thread.
    let files: Vec<_> = messages.iter().filter(|m| m.via == "file").collect();
    for post in &posts {
        let charts = files
            .iter()
            .filter(|f| f.thread_ts.as_ref() == Some(&post.ts))
            .count();
        assert_eq!(charts, 1, "{}: {charts} charts", post.text);
    }
    assert_eq!(files.len(), 200);
    eprintln!("faults: {:?}, redelivery rounds: {rounds}", faults.counts());
}
