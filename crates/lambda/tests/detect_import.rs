//! The detect handler with the GetAnomalies import on: AWS Cost Anomaly Detection's recorded
//! answers (the store's fixtures, served over AWS JSON by a local endpoint, since moto does not
//! serve GetAnomalies) become envelopes beside ours, every request lands in the ledger, and a
//! failing import never stops our own detection.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use costwatch_core::Scope;
use costwatch_lambda::events::{MemoryPipelineBus, PipelineEvent};
use costwatch_lambda::handlers::detect::{self, Import};
use costwatch_pipeline::incremental::LEDGER_RUN_PREFIX;
use costwatch_pipeline::{PipelineConfig, Ports};
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};
use costwatch_store::{ManualClock, MemoryStore, StateStore};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};
use costwatch_testkit::repo_file;
use serde_json::Value;

/// The sample event of events/detect/, for the day the fixtures' anomalies end.
fn aggregates_updated(as_of: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(&repo_file("events/detect/sns-aggregates-updated.json")).unwrap();
    event["Records"][0]["Sns"]["Message"] = Value::String(format!(
        r#"{{"event":"AggregatesUpdated","days":["{as_of}"],"as_of":"{as_of}"}}"#
    ));
    event
}

fn fixture(name: &str) -> String {
    repo_file(&format!("crates/store/tests/fixtures/ce/{name}"))
}

/// The in-memory ports, their expiry judged at `now` (the tests' March 2026): on the system
/// clock the ledger's 400-day run items would expire in April 2027 and fail these tests.
fn memory(now: DateTime<Utc>) -> MemoryStore {
    MemoryStore::with_clock(Arc::new(ManualClock::new(now)))
}

fn ports(memory: &MemoryStore) -> Ports<'_> {
    Ports {
        lake: &memory.lake,
        rollups: &memory.rollups,
        state: &memory.state,
        bus: &memory.bus,
    }
}

#[tokio::test]
async fn imported_findings_are_published_and_their_requests_counted() {
    let fake = AwsJsonFake::start(vec![
        Reply::ok(fixture("get-anomalies-p1.json")),
        Reply::ok(fixture("get-anomalies-p2.json")),
    ]);
    let source =
        CostExplorerSource::new(&fake.sdk_config().await, CostExplorerOptions::default()).unwrap();
    let import = Import {
        source: &source,
        max_requests: 5,
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 7, 7, 0, 0).unwrap();
    let memory = memory(now);
    let done = MemoryPipelineBus::default();
    let cfg = PipelineConfig::default();

    let summary = detect::handle(
        &ports(&memory),
        &cfg,
        Some(&import),
        None,
        &done,
        aggregates_updated("2026-03-06"),
        now,
    )
    .await
    .unwrap();

    assert_eq!((summary.imported, summary.import_requests), (2, 2));
    // The daily report waits for this.
    assert_eq!(
        done.published().await,
        [PipelineEvent::AnomaliesDetected {
            as_of: "2026-03-06".parse().unwrap()
        }]
    );
    let requested: Value = serde_json::from_str(&fake.requests()[0].body).unwrap();
    assert_eq!(requested["DateInterval"]["EndDate"], "2026-03-06");
    let published = memory.bus.published();
    assert_eq!(published.len(), summary.published.len());
    let sagemaker = Scope::AccountService {
        account: "222233334444".into(),
        service: "Amazon SageMaker".into(),
    };
    assert!(
        published
            .iter()
            .any(|n| n.scope.key == sagemaker.key() && n.body.kind() == "anomaly"),
        "AWS's SageMaker finding was not published: {published:?}"
    );
    let runs = memory.state.list(LEDGER_RUN_PREFIX).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1.value["requests"], 2);
    assert_eq!(runs[0].1.value["text"], "2 Cost Explorer requests = $0.02");
}

#[tokio::test]
async fn a_failing_import_is_counted_and_detection_goes_on() {
    // Throttled on every attempt: the import gives up within its cap.
    let fake = AwsJsonFake::start(vec![Reply::ce_limit_exceeded(); 3]);
    let source =
        CostExplorerSource::new(&fake.sdk_config().await, CostExplorerOptions::default()).unwrap();
    let import = Import {
        source: &source,
        max_requests: 3,
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 7, 7, 0, 0).unwrap();
    let memory = memory(now);

    let summary = detect::handle(
        &ports(&memory),
        &PipelineConfig::default(),
        Some(&import),
        None,
        &MemoryPipelineBus::default(),
        aggregates_updated("2026-03-06"),
        now,
    )
    .await
    .unwrap();

    assert_eq!(summary.imported, 0);
    assert_eq!(summary.import_requests as usize, fake.requests().len());
    assert!(summary.import_requests >= 1);
    let runs = memory.state.list(LEDGER_RUN_PREFIX).await.unwrap();
    assert_eq!(runs[0].1.value["requests"], summary.import_requests);
}
