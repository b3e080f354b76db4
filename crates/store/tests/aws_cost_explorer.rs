//! The Cost Explorer source through the real SDK: against moto (GetCostAndUsage answers queued
//! through its canned-results endpoint) for paging, breakdowns, the probe and the budget, and
//! against a scripted AWS JSON endpoint for LimitExceededException, which moto never returns.
#![cfg(feature = "aws-cost-explorer")]

use std::time::Duration;

use chrono::NaiveDate;
use costwatch_core::Money;
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource, RetryPolicy};
use costwatch_store::{CostSource, RequestBudget, StoreError};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use serde_json::{Value, json};

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
}

fn metrics(amount: &str) -> Value {
    let money = json!({"Amount": amount, "Unit": "USD"});
    json!({
        "UnblendedCost": money, "AmortizedCost": money, "NetUnblendedCost": money,
        "UsageQuantity": {"Amount": "1", "Unit": "N/A"}
    })
}

fn period(d: NaiveDate) -> Value {
    json!({"Start": d.to_string(), "End": d.succ_opt().unwrap().to_string()})
}

/// (account, service, amount)
type Group<'a> = (&'a str, &'a str, &'a str);

/// A LINKED_ACCOUNT × SERVICE page: (day, groups) per day.
fn account_service_page(days: &[(NaiveDate, &[Group])], next: Option<&str>) -> Value {
    let results: Vec<Value> = days
        .iter()
        .map(|(d, groups)| {
            let groups: Vec<Value> = groups
                .iter()
                .map(|(a, s, amount)| json!({"Keys": [a, s], "Metrics": metrics(amount)}))
                .collect();
            json!({"TimePeriod": period(*d), "Total": {}, "Groups": groups, "Estimated": true})
        })
        .collect();
    let mut page = json!({
        "GroupDefinitions": [
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
            {"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [
            {"Value": "111111111111", "Attributes": {"description": "web"}}]
    });
    if let Some(token) = next {
        page["NextPageToken"] = json!(token);
    }
    page
}

fn one_group_page(kind: &str, key: &str, d: NaiveDate, values: &[(&str, &str)]) -> Value {
    let groups: Vec<Value> = values
        .iter()
        .map(|(v, amount)| json!({"Keys": [format!("{key}${v}")], "Metrics": metrics(amount)}))
        .collect();
    json!({
        "GroupDefinitions": [{"Type": kind, "Key": key}],
        "ResultsByTime": [{"TimePeriod": period(d), "Total": {}, "Groups": groups, "Estimated": false}],
        "DimensionValueAttributes": []
    })
}

fn queue(moto: &Moto, pages: &[Value]) {
    queue_cost_and_usage(moto, &Value::Array(pages.to_vec()).to_string());
}

fn source(config: &costwatch_store::aws::sdk::aws_config::SdkConfig) -> CostExplorerSource {
    source_with(config, CostExplorerOptions::default())
}

fn source_with(
    config: &costwatch_store::aws::sdk::aws_config::SdkConfig,
    options: CostExplorerOptions,
) -> CostExplorerSource {
    CostExplorerSource::new(
        config,
        CostExplorerOptions {
            billing_account_id: "999999999999".into(),
            ..options
        },
    )
    .unwrap()
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn every_page_is_fetched_and_each_page_is_one_request() {
    let moto = Moto::start();
    let pages = [
        account_service_page(
            &[(day(2), &[("111111111111", "Amazon S3", "1.25")])],
            Some("p2"),
        ),
        account_service_page(
            &[(day(2), &[("222222222222", "AWS Lambda", "2.5")])],
            Some("p3"),
        ),
        account_service_page(&[(day(2), &[("333333333333", "Amazon EC2", "4")])], None),
    ];
    queue(&moto, &pages);
    let ce = source(&moto.sdk_config().await);
    let budget = RequestBudget::new(20);
    let pull = ce.fetch_days(&[day(2)], &budget).await.unwrap();

    assert_eq!(budget.used(), 3, "one request per page");
    assert!(!budget.capped());
    assert_eq!(pull.complete, vec![day(2)]);
    let mut accounts: Vec<&str> = pull
        .records
        .iter()
        .map(|r| r.sub_account_id.as_str())
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["111111111111", "222222222222", "333333333333"]);
    let web = pull
        .records
        .iter()
        .find(|r| r.sub_account_id == "111111111111")
        .unwrap();
    assert_eq!(web.sub_account_name.as_deref(), Some("web"));
    assert_eq!(web.billing_account_id, "999999999999");
    assert_eq!(web.billing_currency, "USD");
    assert_eq!(web.billed_cost, "1.25".parse::<Money>().unwrap());
    assert!(pull.breakdown.is_empty());

    assert_eq!(pull.raw_source, "ce");
    let names: Vec<(NaiveDate, &str)> = pull.raw.iter().map(|(d, n, _)| (*d, n.as_str())).collect();
    assert_eq!(
        names,
        [
            (day(2), "account-service-p000.json"),
            (day(2), "account-service-p001.json"),
            (day(2), "account-service-p002.json"),
        ]
    );
    for ((_, _, body), page) in pull.raw.iter().zip(&pages) {
        let kept: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(&kept, page, "the page as received");
    }
}

#[tokio::test]
async fn a_page_over_several_days_is_kept_per_day() {
    let moto = Moto::start();
    queue(
        &moto,
        &[account_service_page(
            &[
                (day(3), &[("111111111111", "Amazon S3", "1")]),
                (day(4), &[("111111111111", "Amazon S3", "2")]),
            ],
            None,
        )],
    );
    let ce = source(&moto.sdk_config().await);
    let fetched = ce.fetch(day(3), day(4)).await.unwrap();
    assert_eq!(fetched.requests, 1);
    let names: Vec<&str> = fetched.raw.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ce/dt=2026-03-03/account-service-p000.json",
            "ce/dt=2026-03-04/account-service-p000.json"
        ]
    );
    let day4: Value = serde_json::from_slice(&fetched.raw[1].1).unwrap();
    assert_eq!(day4["ResultsByTime"].as_array().unwrap().len(), 1);
    assert_eq!(
        day4["ResultsByTime"][0]["TimePeriod"]["Start"],
        "2026-03-04"
    );
    let mut days: Vec<NaiveDate> = fetched.records.iter().map(|r| r.day()).collect();
    days.sort();
    assert_eq!(days, [day(3), day(4)]);
}

#[tokio::test]
async fn the_budget_stops_a_request_before_passing_and_its_days_are_not_returned() {
    let moto = Moto::start();
    let pages: Vec<Value> = (0..5)
        .map(|i| {
            let next = (i < 4).then(|| format!("p{}", i + 1));
            account_service_page(
                &[(day(2), &[("111111111111", "Amazon S3", "1")])],
                next.as_deref(),
            )
        })
        .collect();
    queue(&moto, &pages);
    let ce = source(&moto.sdk_config().await);
    let budget = RequestBudget::new(3);
    let pull = ce.fetch_days(&[day(2)], &budget).await.unwrap();
    assert_eq!(budget.used(), 3);
    assert!(budget.capped());
    assert!(pull.complete.is_empty());
    assert!(pull.records.is_empty() && pull.raw.is_empty());
}

#[tokio::test]
async fn tag_and_cost_category_breakdowns_come_back_apart() {
    let moto = Moto::start();
    queue(
        &moto,
        &[
            account_service_page(
                &[(
                    day(2),
                    &[
                        ("111111111111", "Amazon S3", "6"),
                        ("222222222222", "AWS Lambda", "4"),
                    ],
                )],
                None,
            ),
            one_group_page("TAG", "team", day(2), &[("web", "7"), ("", "3")]),
            one_group_page("COST_CATEGORY", "env", day(2), &[("prod", "10")]),
        ],
    );
    let options = CostExplorerOptions {
        tag_keys: vec!["team".into()],
        cost_categories: vec!["env".into()],
        ..CostExplorerOptions::default()
    };
    let ce = source_with(&moto.sdk_config().await, options);
    let budget = RequestBudget::new(20);
    let pull = ce.fetch_days(&[day(2)], &budget).await.unwrap();
    assert_eq!(
        budget.used(),
        3,
        "account × service, one tag key, one cost category"
    );
    assert_eq!(pull.records.len(), 2);
    assert!(pull.records.iter().all(|r| r.tags.is_empty()));
    let total: Money = pull.records.iter().map(|r| r.billed_cost).sum();
    assert_eq!(total, Money::from(10));

    let web = pull
        .breakdown
        .iter()
        .find(|r| r.tags.get("team").is_some_and(|v| v == "web"));
    assert_eq!(web.map(|r| r.billed_cost), Some(Money::from(7)));
    let untagged = pull
        .breakdown
        .iter()
        .find(|r| r.tags.is_empty() && r.x_cost_categories.is_empty());
    assert_eq!(untagged.map(|r| r.billed_cost), Some(Money::from(3)));
    let prod = pull
        .breakdown
        .iter()
        .find(|r| r.x_cost_categories.get("env").is_some_and(|v| v == "prod"));
    assert_eq!(prod.map(|r| r.billed_cost), Some(Money::from(10)));
    let names: Vec<&str> = pull.raw.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "account-service-p000.json",
            "tag-team-p000.json",
            "cost-category-env-p000.json"
        ]
    );
}

#[tokio::test]
async fn the_probe_reads_daily_totals_in_one_request() {
    let moto = Moto::start();
    let total = |d: NaiveDate, unblended: &str, amortized: &str| {
        json!({"TimePeriod": period(d), "Groups": [], "Estimated": true, "Total": {
            "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
            "AmortizedCost": {"Amount": amortized, "Unit": "USD"},
            "NetUnblendedCost": {"Amount": unblended, "Unit": "USD"},
            "UsageQuantity": {"Amount": "12", "Unit": "N/A"}}})
    };
    queue(
        &moto,
        &[
            json!({"GroupDefinitions": [], "DimensionValueAttributes": [], "ResultsByTime": [
            total(day(1), "10.5", "11"), total(day(2), "0", "0"), total(day(3), "7.25", "7.25")]}),
        ],
    );
    let ce = source(&moto.sdk_config().await);
    let budget = RequestBudget::new(20);
    let totals = ce
        .probe_totals(day(1), day(3), &budget)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(budget.used(), 1);
    assert_eq!(totals.len(), 3);
    assert_eq!(totals[&day(1)].billed, "10.5".parse::<Money>().unwrap());
    assert_eq!(totals[&day(1)].effective, Money::from(11));
    assert_eq!(totals[&day(2)].billed, Money::ZERO);
}

#[tokio::test]
async fn limit_exceeded_is_backed_off_retried_and_every_attempt_counted() {
    let page = account_service_page(&[(day(2), &[("111111111111", "Amazon S3", "1")])], None);
    let fake = AwsJsonFake::start(vec![
        Reply::ce_limit_exceeded(),
        Reply::ce_limit_exceeded(),
        Reply::ok(page.to_string()),
    ]);
    let options = CostExplorerOptions {
        retry: fast_retry(5),
        ..CostExplorerOptions::default()
    };
    let ce = source_with(&fake.sdk_config().await, options);
    let budget = RequestBudget::new(20);
    let started = std::time::Instant::now();
    let pull = ce.fetch_days(&[day(2)], &budget).await.unwrap();
    assert_eq!(pull.complete, vec![day(2)]);
    assert_eq!(pull.records.len(), 1);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(budget.used(), 3, "retries are requests too");
    assert_eq!(budget.throttled(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(10 + 20),
        "backed off at least half of 20 ms and 40 ms"
    );
    for r in &requests {
        assert_eq!(
            r.target.as_deref(),
            Some("AWSInsightsIndexService.GetCostAndUsage")
        );
        assert_eq!(r.body, requests[0].body, "the same request again");
    }
    let sent: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(sent["Granularity"], "DAILY");
    assert_eq!(
        sent["TimePeriod"],
        json!({"Start": "2026-03-02", "End": "2026-03-03"})
    );
    assert_eq!(
        sent["Metrics"],
        json!([
            "UnblendedCost",
            "AmortizedCost",
            "NetUnblendedCost",
            "UsageQuantity"
        ])
    );
    assert_eq!(
        sent["GroupBy"],
        json!([{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "SERVICE"}])
    );
}

#[tokio::test]
async fn retries_never_pass_the_cap() {
    let fake = AwsJsonFake::start(vec![Reply::ce_limit_exceeded(); 5]);
    let options = CostExplorerOptions {
        retry: fast_retry(5),
        ..CostExplorerOptions::default()
    };
    let ce = source_with(&fake.sdk_config().await, options);
    let budget = RequestBudget::new(2);
    let pull = ce.fetch_days(&[day(2)], &budget).await.unwrap();
    assert!(pull.complete.is_empty());
    assert!(budget.capped());
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(budget.used(), 2);
}

#[tokio::test]
async fn persistent_throttling_gives_up_with_a_retryable_error() {
    let fake = AwsJsonFake::start(vec![Reply::ce_limit_exceeded(); 5]);
    let options = CostExplorerOptions {
        retry: fast_retry(3),
        ..CostExplorerOptions::default()
    };
    let ce = source_with(&fake.sdk_config().await, options);
    let budget = RequestBudget::new(20);
    let err = ce.fetch_days(&[day(2)], &budget).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("LimitExceededException"), "{err}");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(budget.used(), 3);
}

#[tokio::test]
async fn a_refused_request_is_not_retried() {
    let fake = AwsJsonFake::start(vec![Reply::error(
        400,
        "com.amazonaws.ce",
        "DataUnavailableException",
        "Data is not available. Please try to adjust the time period.",
    )]);
    let ce = source_with(
        &fake.sdk_config().await,
        CostExplorerOptions {
            retry: fast_retry(5),
            ..CostExplorerOptions::default()
        },
    );
    let budget = RequestBudget::new(20);
    let err = ce.fetch_days(&[day(2)], &budget).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(matches!(err, StoreError::Aws { .. }));
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(budget.used(), 1);
}
