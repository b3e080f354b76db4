//! Cost Explorer's recommendations through the real SDK, paged, against a scripted AWS JSON
//! endpoint serving recorded answers (moto serves none of these calls). The answers follow the
//! AWS API reference's response syntax for GetRightsizingRecommendation,
//! GetSavingsPlansPurchaseRecommendation and GetReservationPurchaseRecommendation
//! (fixtures/ce/get-*-recommendation*.json).
#![cfg(feature = "aws-cost-explorer")]

use costwatch_core::Money;
use costwatch_core::recommend::{Kind, Source};
use costwatch_store::aws::{CeRecommendations, RESERVATION_SERVICES, RetryPolicy};
use costwatch_store::{RecommendationSource, RequestBudget};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/ce/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn usd(s: &str) -> Money {
    s.parse().unwrap()
}

/// Two rightsizing pages, one Savings Plans page, RDS with one reservation, the other three
/// reservation services empty: 7 requests.
fn full_script() -> Vec<Reply> {
    vec![
        Reply::ok(fixture("get-rightsizing-recommendation-p1.json")),
        Reply::ok(fixture("get-rightsizing-recommendation-p2.json")),
        Reply::ok(fixture("get-savings-plans-purchase-recommendation.json")),
        Reply::ok(fixture("get-reservation-purchase-recommendation-rds.json")),
        Reply::ok(fixture(
            "get-reservation-purchase-recommendation-empty.json",
        )),
        Reply::ok(fixture(
            "get-reservation-purchase-recommendation-empty.json",
        )),
        Reply::ok(fixture(
            "get-reservation-purchase-recommendation-empty.json",
        )),
    ]
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(2),
    }
}

#[tokio::test]
async fn every_source_paged_each_page_one_budgeted_request() {
    let fake = AwsJsonFake::start(full_script());
    let ce = CeRecommendations::new(&fake.sdk_config().await, retry());
    let budget = RequestBudget::new(20);
    let (found, complete) = ce.recommendations(&budget).await.unwrap();
    assert!(complete);
    assert_eq!(budget.used(), 7, "one $0.01 request per page");

    let requests = fake.requests();
    let targets: Vec<_> = requests.iter().map(|r| r.target.clone().unwrap()).collect();
    assert_eq!(
        targets[0],
        "AWSInsightsIndexService.GetRightsizingRecommendation"
    );
    assert_eq!(
        targets[2],
        "AWSInsightsIndexService.GetSavingsPlansPurchaseRecommendation"
    );
    assert!(
        targets[3..]
            .iter()
            .all(|t| t == "AWSInsightsIndexService.GetReservationPurchaseRecommendation")
    );
    let body = |i: usize| serde_json::from_str::<serde_json::Value>(&requests[i].body).unwrap();
    assert_eq!(body(0)["Service"], "AmazonEC2");
    assert_eq!(body(0)["Configuration"]["BenefitsConsidered"], true);
    assert_eq!(body(1)["NextPageToken"], "AAMA-cnMtcGFnZS0y");
    assert_eq!(body(2)["SavingsPlansType"], "COMPUTE_SP");
    assert_eq!(body(2)["AccountScope"], "LINKED");
    let services: Vec<_> = (3..7)
        .map(|i| body(i)["Service"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(services, RESERVATION_SERVICES);

    assert_eq!(found.len(), 4, "{found:#?}");
    let modify = &found[0];
    assert_eq!(
        (modify.source, modify.kind),
        (Source::CeRightsizing, Kind::Rightsizing)
    );
    assert_eq!(modify.resource, "i-0a1b2c3d4e5f60718");
    assert_eq!(modify.region.as_deref(), Some("us-east-1"));
    // The default target (m5.xlarge, $140.16), not the larger saving of the other target.
    assert_eq!(
        (modify.current_monthly_cost, modify.monthly_savings),
        (usd("280.32"), usd("140.16"))
    );
    assert!(modify.title.ends_with("m5.2xlarge → m5.xlarge"));
    assert_eq!(modify.tags.get("team").map(String::as_str), Some("data"));
    let terminate = &found[1];
    assert_eq!(terminate.monthly_savings, usd("73.0"));
    assert_eq!(
        terminate.action.cli,
        "aws ec2 terminate-instances --region eu-west-1 --instance-ids i-0fedcba9876543210"
    );
    let sp = &found[2];
    assert_eq!(sp.kind, Kind::SavingsPlansPurchase);
    // 0.7 $/h × 730 h = 511.00 of on-demand spend today.
    assert_eq!(
        (sp.current_monthly_cost, sp.monthly_savings),
        (usd("511.00"), usd("140.2"))
    );
    assert!(sp.action.cli.contains(
        "--savings-plan-offering-id 9f3c4c5e-1d2b-4a8f-9e6d-7c5b4a3f2e1d --commitment 0.5"
    ));
    let ri = &found[3];
    assert_eq!(ri.kind, Kind::ReservedInstancesPurchase);
    assert_eq!(
        ri.resource,
        "222233334444/reserved/RDS/db.r5.large/us-east-1"
    );
    assert_eq!(
        (ri.current_monthly_cost, ri.monthly_savings),
        (usd("373.76"), usd("116.8"))
    );
}

#[tokio::test]
async fn a_budget_that_runs_out_keeps_what_was_read_and_says_so() {
    let fake = AwsJsonFake::start(full_script());
    let ce = CeRecommendations::new(&fake.sdk_config().await, retry());
    let budget = RequestBudget::new(2);
    let (found, complete) = ce.recommendations(&budget).await.unwrap();
    assert!(!complete);
    assert_eq!(budget.used(), 2);
    assert_eq!(fake.requests().len(), 2, "no request past the cap");
    assert_eq!(found.len(), 2, "both rightsizing pages kept");
}

#[tokio::test]
async fn throttling_is_retried_and_every_attempt_is_counted() {
    let mut script = vec![Reply::ce_limit_exceeded()];
    script.extend(full_script());
    let fake = AwsJsonFake::start(script);
    let ce = CeRecommendations::new(&fake.sdk_config().await, retry());
    let budget = RequestBudget::new(20);
    let (found, complete) = ce.recommendations(&budget).await.unwrap();
    assert!(complete);
    assert_eq!(found.len(), 4);
    assert_eq!(budget.used(), 8, "the throttled attempt is a request too");
    assert_eq!(budget.throttled(), 1);
}
