//! The built `report` binary under the Runtime API emulator on moto
//! (costwatch_testkit::deployed): both schedule inputs of events/report/ over 30 days of rollups
//! archive the report in the bucket and publish its envelope; a period the schedule never sends
//! is dead-lettered with its reason; with the state table gone, the daily input is
//! dead-lettered naming the missing resource.

use costwatch_testkit::deployed::Deployed;
use costwatch_testkit::repo_file;
use costwatch_testkit::stack::{BUCKET, s3};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_binary_answers_both_schedules_malformed_and_a_missing_table() {
    let mut report = Deployed::start(env!("CARGO_BIN_EXE_report"), "report", &[]).await;
    let last = "2026-11-21".parse().unwrap();
    report
        .seed(&costwatch_core::synth::generate(7, last, 30))
        .await;

    for sample in ["events/report/daily.json", "events/report/weekly.json"] {
        let summary = report.summary(&repo_file(sample));
        assert_eq!(summary["as_of"], "2026-11-21", "{sample}: {summary}");
        let html = summary["html"].as_str().unwrap();
        let object = s3(&report.config)
            .get_object()
            .bucket(BUCKET)
            .key(html)
            .send()
            .await
            .unwrap();
        let page = object.body.collect().await.unwrap().into_bytes();
        assert!(String::from_utf8_lossy(&page).contains("<html"), "{html}");
        let envelopes = report.notifications().await;
        assert_eq!(envelopes.len(), 1, "{sample}: {envelopes:?}");
        assert_eq!(envelopes[0]["kind"], "report");
        assert_eq!(envelopes[0]["id"], summary["envelope"]);
    }

    report
        .assert_dead_lettered(r#"{"period": "hourly"}"#, "report takes")
        .await;

    report.delete_table().await;
    report
        .assert_dead_lettered(&repo_file("events/report/daily.json"), "ResourceNotFound")
        .await;
    assert!(report.notifications().await.is_empty());
}
