//! The built `detect` binary under the Runtime API emulator on moto (costwatch_testkit::deployed):
//! the sample AggregatesUpdated of events/detect/ over 30 days of rollups publishes the planted
//! spike's anomaly; the malformed sample of events/aggregate/ is dead-lettered with its reason;
//! with the state table gone, the sample is dead-lettered naming the missing resource.

use costwatch_testkit::deployed::Deployed;
use costwatch_testkit::repo_file;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_binary_answers_success_malformed_and_a_missing_table() {
    let mut detect = Deployed::start(env!("CARGO_BIN_EXE_detect"), "detect", &[]).await;
    let as_of = "2026-11-21".parse().unwrap(); // the sample's `as_of`
    detect
        .seed(&costwatch_core::synth::generate(7, as_of, 30))
        .await;
    let sample = repo_file("events/detect/sns-aggregates-updated.json");

    let summary = detect.summary(&sample);
    assert_eq!(summary["as_of"], "2026-11-21", "{summary}");
    let published = summary["published"].as_array().unwrap();
    let envelopes = detect.notifications().await;
    assert!(!published.is_empty(), "{summary}");
    assert_eq!(envelopes.len(), published.len(), "{envelopes:?}");
    assert!(
        envelopes.iter().all(|e| e["kind"] == "anomaly"),
        "{envelopes:?}"
    );

    let malformed = repo_file("events/aggregate/sns-malformed.json");
    detect.assert_dead_lettered(&malformed, "Records[0]").await;

    detect.delete_table().await;
    detect
        .assert_dead_lettered(&sample, "ResourceNotFound")
        .await;
    assert!(detect.notifications().await.is_empty());
}
