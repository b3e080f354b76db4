//! Cost Optimization Hub's ListRecommendations through the real SDK, paged, against a scripted
//! AWS JSON endpoint (moto does not serve the hub). The answers are written to the AWS API
//! reference's ListRecommendations response syntax (fixtures/coh/list-recommendations-p*.json);
//! the errors are the hub's own: ThrottlingException, InternalServerException and the
//! AccessDeniedException "AWS account is not enrolled for recommendations." an account that has
//! not opted in gets.
#![cfg(feature = "aws-cost-optimization-hub")]

use costwatch_core::Money;
use costwatch_core::recommend::{Finding, Kind, Source};
use costwatch_store::aws::{CostOptimizationHub, RetryPolicy};
use costwatch_store::{RecommendationSource, RequestBudget, StoreError};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};

const TARGET: &str = "CostOptimizationHubService.ListRecommendations";
const PAGE_2_TOKEN: &str = "eyJvZmZzZXQiOjMsInBhZ2UiOjJ9";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/coh/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn usd(s: &str) -> Money {
    s.parse().unwrap()
}

fn two_pages() -> Vec<Reply> {
    vec![
        Reply::ok(fixture("list-recommendations-p1.json")),
        Reply::ok(fixture("list-recommendations-p2.json")),
    ]
}

/// An AWS JSON 1.0 error as the hub sends it (`message` in lower case, as its model names it).
fn hub_error(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        body: serde_json::json!({
            "__type": format!("com.amazonaws.costoptimizationhub#{code}"),
            "message": message,
        })
        .to_string(),
        error_type: Some(code.to_owned()),
    }
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(2),
    }
}

async fn hub(fake: &AwsJsonFake) -> CostOptimizationHub {
    CostOptimizationHub::new(&fake.sdk_config().await, retry())
}

fn body(fake: &AwsJsonFake, i: usize) -> serde_json::Value {
    serde_json::from_str(&fake.requests()[i].body).unwrap()
}

fn by_resource<'a>(found: &'a [Finding], resource: &str) -> &'a Finding {
    found
        .iter()
        .find(|f| f.resource == resource)
        .unwrap_or_else(|| panic!("no finding for {resource}: {found:#?}"))
}

#[tokio::test]
async fn two_pages_every_item_mapped_and_the_token_followed() {
    let fake = AwsJsonFake::start(two_pages());
    let hub = hub(&fake).await;
    assert_eq!(
        hub.enrolled(),
        None,
        "nothing known before the first answer"
    );
    let budget = RequestBudget::new(20);
    let (found, complete) = hub.recommendations(&budget).await.unwrap();
    assert!(complete);
    assert_eq!(hub.enrolled(), Some(true));
    assert_eq!(
        budget.used(),
        0,
        "the hub is free: nothing taken from Cost Explorer's budget"
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.target.as_deref() == Some(TARGET)));
    let first = body(&fake, 0);
    assert_eq!(first["includeAllRecommendations"], false);
    assert_eq!(first["maxResults"], 1000);
    assert!(first.get("nextToken").is_none(), "{first}");
    assert_eq!(body(&fake, 1)["nextToken"], PAGE_2_TOKEN);

    assert_eq!(found.len(), 7, "{found:#?}");
    assert!(
        found
            .iter()
            .all(|f| f.source == Source::CostOptimizationHub)
    );
    assert!(found.iter().all(|f| f.evidence.is_empty()));

    let rightsize = &found[0];
    assert_eq!(rightsize.kind, Kind::Rightsizing);
    assert_eq!(rightsize.resource, "i-0a1b2c3d4e5f60718");
    assert_eq!(rightsize.account, "111122223333");
    assert_eq!(rightsize.region.as_deref(), Some("us-east-1"));
    assert_eq!(rightsize.service, "AmazonEC2");
    assert_eq!(
        (rightsize.current_monthly_cost, rightsize.monthly_savings),
        (usd("280.32"), usd("140.16"))
    );
    assert_eq!(
        rightsize.title,
        "i-0a1b2c3d4e5f60718: rightsize m5.2xlarge → m5.xlarge"
    );
    assert!(
        rightsize
            .formula
            .contains("estimatedMonthlySavings $140.16")
            && rightsize.formula.contains("estimatedMonthlyCost $280.32")
            && rightsize.formula.contains("effort Medium")
            && rightsize.formula.contains("restart needed: yes")
            && rightsize.formula.contains("rollback possible: yes"),
        "{}",
        rightsize.formula
    );
    assert_eq!(
        rightsize.action.cli,
        "aws cost-optimization-hub get-recommendation --recommendation-id \
         MTExMTIyMjIzMzMzXzBhMWIyYzNkLTRlNWYtNjA3MS04MjkzLWE0YjVjNmQ3ZThmOQ== --region us-east-1"
    );
    assert_eq!(
        rightsize.action.console_url,
        "https://console.aws.amazon.com/costmanagement/home#/cost-optimization-hub"
    );
    assert_eq!(rightsize.tags.len(), 2);
    assert_eq!(rightsize.tags.get("team").map(String::as_str), Some("data"));
    assert_eq!(rightsize.tags.get("env").map(String::as_str), Some("prod"));

    let idle = by_resource(&found, "vol-0123456789abcdef0");
    assert_eq!(idle.kind, Kind::VolumeWithoutInstance);
    assert_eq!(idle.region.as_deref(), Some("eu-west-1"));
    assert_eq!(idle.service, "AmazonEC2");
    assert_eq!(idle.monthly_savings, usd("44.00"));
    assert_eq!(idle.title, "vol-0123456789abcdef0: delete gp2 400 GiB");
    assert!(
        idle.formula
            .contains("restart needed: no; rollback possible: no")
    );
    assert!(idle.tags.is_empty());

    let gp3 = by_resource(&found, "vol-0fedcba9876543210");
    assert_eq!(gp3.kind, Kind::Gp2ToGp3);
    assert_eq!(gp3.account, "222233334444");
    assert_eq!(
        (gp3.current_monthly_cost, gp3.monthly_savings),
        (usd("50"), usd("10"))
    );

    // Commitments: resourceId names the account, so the recommendation id makes it one purchase.
    let sp = by_resource(
        &found,
        "111122223333/MTExMTIyMjIzMzMzXzNlNGY1YTZiLTdjOGQtNGU5Zi0wYTFiLTJjM2Q0ZTVmNmE3Yg==",
    );
    assert_eq!(sp.kind, Kind::SavingsPlansPurchase);
    assert_eq!(sp.service, "Savings Plans");
    assert_eq!(sp.region, None, "the hub's \"Global\" is no region");
    assert_eq!(
        (sp.current_monthly_cost, sp.monthly_savings),
        (usd("511.00"), usd("140.20"))
    );
    assert_eq!(
        sp.title,
        "111122223333: buy Savings Plans $0.50/hour, 1 year, No upfront"
    );
    let ri = by_resource(
        &found,
        "222233334444/MjIyMjMzMzM0NDQ0XzRmNWE2YjdjLThkOWUtNGYwYS0xYjJjLTNkNGU1ZjZhN2I4Yw==",
    );
    assert_eq!(ri.kind, Kind::ReservedInstancesPurchase);
    assert_eq!(ri.service, "AmazonRDS");
    assert_eq!(ri.monthly_savings, usd("116.80"));

    let graviton = by_resource(&found, "i-0123abcd4567ef890");
    assert_eq!(graviton.kind, Kind::Other);
    assert_eq!(graviton.region.as_deref(), Some("us-west-2"));
    // 28.032 → cents.
    assert_eq!(graviton.monthly_savings, usd("28.03"));
    assert_eq!(
        graviton.title,
        "i-0123abcd4567ef890: migrate to Graviton m5.xlarge → m6g.xlarge"
    );

    let lambda = by_resource(
        &found,
        "arn:aws:lambda:us-east-1:111122223333:function:resize-images",
    );
    assert_eq!(lambda.kind, Kind::Rightsizing);
    assert_eq!(lambda.service, "AWSLambda");
    // 12.345678 and 41.15226 from the SDK's f64, rounded to cents.
    assert_eq!(
        (lambda.current_monthly_cost, lambda.monthly_savings),
        (usd("41.15"), usd("12.35"))
    );
    assert_eq!(lambda.monthly_savings.scale(), 2);

    let total: Money = found.iter().map(|f| f.monthly_savings).sum();
    assert_eq!(total, usd("491.54"));
}

#[tokio::test]
async fn throttling_is_retried_then_the_read_completes() {
    let mut script = vec![hub_error(400, "ThrottlingException", "Rate exceeded")];
    script.extend(two_pages());
    let fake = AwsJsonFake::start(script);
    let hub = hub(&fake).await;
    let budget = RequestBudget::new(20);
    let (found, complete) = hub.recommendations(&budget).await.unwrap();
    assert!(complete);
    assert_eq!(found.len(), 7);
    assert_eq!(
        fake.requests().len(),
        3,
        "one throttled send, then both pages"
    );
    assert!(
        body(&fake, 1).get("nextToken").is_none(),
        "the retry asks for page 1 again"
    );
    assert_eq!(body(&fake, 2)["nextToken"], PAGE_2_TOKEN);
    assert_eq!(
        (budget.used(), budget.throttled()),
        (0, 0),
        "not Cost Explorer's budget"
    );
}

#[tokio::test]
async fn an_account_not_enrolled_reads_as_an_empty_complete_list() {
    let fake = AwsJsonFake::start(vec![hub_error(
        400,
        "AccessDeniedException",
        "AWS account is not enrolled for recommendations.",
    )]);
    let hub = hub(&fake).await;
    let (found, complete) = hub.recommendations(&RequestBudget::new(20)).await.unwrap();
    assert!(found.is_empty());
    assert!(complete);
    assert_eq!(
        hub.enrolled(),
        Some(false),
        "the caller can tell it from no savings"
    );
    assert_eq!(fake.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_plain_access_denial_is_an_error_not_a_switched_off_source() {
    let fake = AwsJsonFake::start(vec![hub_error(
        400,
        "AccessDeniedException",
        "User: arn:aws:sts::111122223333:assumed-role/costwatch-recommend/fn is not authorized \
         to perform: cost-optimization-hub:ListRecommendations",
    )]);
    let hub = hub(&fake).await;
    let err = hub
        .recommendations(&RequestBudget::new(20))
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("not authorized"), "{err}");
    assert_eq!(hub.enrolled(), None);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_server_error_that_never_ends_fails_after_max_attempts() {
    let fake = AwsJsonFake::start(
        (0..5)
            .map(|_| hub_error(500, "InternalServerException", "internal error"))
            .collect(),
    );
    let hub = hub(&fake).await;
    let err = hub
        .recommendations(&RequestBudget::new(20))
        .await
        .unwrap_err();
    match &err {
        StoreError::Aws {
            operation,
            retryable,
            ..
        } => {
            assert_eq!(*operation, "cost-optimization-hub:ListRecommendations");
            assert!(*retryable);
        }
        other => panic!("expected an AWS error, got {other:?}"),
    }
    assert_eq!(fake.requests().len(), 3, "max_attempts sends, no more");
}
