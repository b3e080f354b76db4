//! AWS Cost Anomaly Detection's findings through the real SDK, paged, against a scripted AWS
//! JSON endpoint serving recorded GetAnomalies answers (moto does not serve GetAnomalies). The
//! answers follow the AWS API reference's response syntax (fixtures/ce/get-anomalies-p*.json).
#![cfg(feature = "aws-cost-explorer")]

use chrono::NaiveDate;
use costwatch_core::findings::Direction;
use costwatch_core::{Money, Scope};
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};
use costwatch_store::{AnomalySource, RequestBudget};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/ce/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
}

#[tokio::test]
async fn pages_are_followed_and_findings_mapped_to_our_scopes() {
    let fake = AwsJsonFake::start(vec![
        Reply::ok(fixture("get-anomalies-p1.json")),
        Reply::ok(fixture("get-anomalies-p2.json")),
    ]);
    let ce =
        CostExplorerSource::new(&fake.sdk_config().await, CostExplorerOptions::default()).unwrap();
    let budget = RequestBudget::new(10);
    let (found, complete) = ce.anomalies(day(1), day(7), &budget).await.unwrap();
    assert!(complete);
    assert_eq!(budget.used(), 2, "one request per page");
    let requests = fake.requests();
    assert_eq!(
        requests[0].target.as_deref(),
        Some("AWSInsightsIndexService.GetAnomalies")
    );
    let first: serde_json::Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(first["DateInterval"]["StartDate"], "2026-03-01");
    assert_eq!(first["DateInterval"]["EndDate"], "2026-03-07");
    let second: serde_json::Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(
        second["NextPageToken"],
        "AAMA-EFRSURBSGh2dGhQb2JpSzZ2c0RtdW9QSHZDWTdLSg"
    );

    assert_eq!(found.len(), 2);
    let sm = &found[0];
    assert_eq!(sm.source_id, "7f2b1c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d");
    assert_eq!(
        sm.anomaly.scope,
        Scope::AccountService {
            account: "222233334444".into(),
            service: "Amazon SageMaker".into()
        }
    );
    assert_eq!((sm.anomaly.start_date, sm.anomaly.date), (day(4), day(6)));
    assert_eq!(sm.anomaly.direction, Direction::Rise);
    assert_eq!(sm.anomaly.impact, "430.77".parse::<Money>().unwrap());
    assert_eq!(sm.anomaly.expected, Money::from(222));
    assert_eq!(sm.anomaly.impact_pct, Some(194.04));
    let top = &sm.anomaly.root_causes[0];
    assert_eq!(
        (top.dimension.as_str(), top.value.as_str()),
        ("usage_type", "USE1-ml.p3.2xlarge-Training")
    );
    assert!((top.share - 412.37 / 430.77).abs() < 1e-9);
    // No account in the root cause: a service scope.
    assert_eq!(
        found[1].anomaly.scope,
        Scope::Service("Amazon Elastic Compute Cloud - Compute".into())
    );
}

#[tokio::test]
async fn a_budget_that_runs_out_stops_before_the_next_page() {
    let fake = AwsJsonFake::start(vec![Reply::ok(fixture("get-anomalies-p1.json"))]);
    let ce =
        CostExplorerSource::new(&fake.sdk_config().await, CostExplorerOptions::default()).unwrap();
    let budget = RequestBudget::new(1);
    let (found, complete) = ce.anomalies(day(1), day(7), &budget).await.unwrap();
    assert!(!complete);
    assert_eq!(found.len(), 1);
    assert_eq!(
        fake.requests().len(),
        1,
        "the second page was never asked for"
    );
    assert!(budget.capped());
}

/// ProvideAnomalyFeedback through the real SDK: AWS's request shape (the API reference's
/// `AnomalyId`, `Feedback` in YES | NO | PLANNED_ACTIVITY), retried once throttled, and a
/// refusal reported rather than swallowed.
#[tokio::test]
async fn feedback_reaches_cost_anomaly_detection_in_its_words() {
    use costwatch_store::{AnomalyFeedbackSink, AwsVerdict};
    let answer = r#"{"AnomalyId":"7f2b1c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d"}"#;
    let fake = AwsJsonFake::start(vec![
        Reply::ok(answer),
        Reply::ce_limit_exceeded(),
        Reply::ok(answer),
        Reply::error(
            400,
            "com.amazonaws.ce",
            "UnknownMonitorException",
            "no such anomaly",
        ),
    ]);
    let ce =
        CostExplorerSource::new(&fake.sdk_config().await, CostExplorerOptions::default()).unwrap();
    let id = "7f2b1c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d";
    ce.provide_feedback(id, AwsVerdict::PlannedActivity)
        .await
        .unwrap();
    ce.provide_feedback(id, AwsVerdict::No).await.unwrap();
    let refused = ce.provide_feedback("gone", AwsVerdict::Yes).await;
    assert!(refused.is_err(), "a refusal is an error");
    let requests = fake.requests();
    assert_eq!(requests.len(), 4, "one throttled attempt retried");
    assert_eq!(
        requests[0].target.as_deref(),
        Some("AWSInsightsIndexService.ProvideAnomalyFeedback")
    );
    let bodies: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies[0],
        serde_json::json!({"AnomalyId": id, "Feedback": "PLANNED_ACTIVITY"})
    );
    assert_eq!(bodies[2]["Feedback"], "NO");
    assert_eq!(bodies[3]["Feedback"], "YES");
}
