//! Incremental collection with the real Cost Explorer source, through the AWS SDK, against moto:
//! GetCostAndUsage answers queued through moto's canned-results endpoint (one per distinct
//! request body, in the order the requests arrive), the lake on S3 and the ledger in DynamoDB.
//! Every queued answer must be asked for in order, so an extra or missing request shows.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use costwatch_core::{Money, Scope};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::aggregate::aggregate;
use costwatch_pipeline::incremental::{
    CollectSettings, IncrementalOutcome, LEDGER_RUN_PREFIX, collect_incremental,
};
use costwatch_pipeline::lake::{breakdown_key, curated_key, read_breakdown, read_day};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_dynamodb;
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource, DynamoState, S3Lake};
use costwatch_store::memory::MemoryRollups;
use costwatch_store::{LakeReader, ManualClock, RollupStore, StateStore};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use costwatch_testkit::stack::{BUCKET, TABLE, create_bucket, create_table};
use serde_json::{Value, json};

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
}

fn at(today: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&today.and_hms_opt(6, 0, 0).unwrap())
}

fn money(amount: &str) -> Value {
    json!({"Amount": amount, "Unit": "USD"})
}

fn metrics(amount: &str) -> Value {
    json!({"UnblendedCost": money(amount), "AmortizedCost": money(amount),
           "NetUnblendedCost": money(amount), "UsageQuantity": {"Amount": "1", "Unit": "N/A"}})
}

fn period(d: NaiveDate) -> Value {
    json!({"Start": d.to_string(), "End": d.succ_opt().unwrap().to_string()})
}

/// The ungrouped probe's answer: each day's total.
fn probe(days: &[(NaiveDate, &str)]) -> Value {
    let results: Vec<Value> = days
        .iter()
        .map(|(d, amount)| {
            json!({"TimePeriod": period(*d), "Total": metrics(amount), "Groups": [], "Estimated": true})
        })
        .collect();
    json!({"GroupDefinitions": [], "ResultsByTime": results, "DimensionValueAttributes": []})
}

/// (account, service, amount)
type Line<'a> = (&'a str, &'a str, &'a str);

/// A LINKED_ACCOUNT × SERVICE page.
fn grouped(days: &[(NaiveDate, &[Line])], next: Option<&str>) -> Value {
    let results: Vec<Value> = days
        .iter()
        .map(|(d, lines)| {
            let groups: Vec<Value> = lines
                .iter()
                .map(|(a, s, amount)| json!({"Keys": [a, s], "Metrics": metrics(amount)}))
                .collect();
            json!({"TimePeriod": period(*d), "Total": {}, "Groups": groups, "Estimated": true})
        })
        .collect();
    let mut page = json!({
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                             {"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [{"Value": "111111111111", "Attributes": {"description": "web"}}]
    });
    if let Some(token) = next {
        page["NextPageToken"] = json!(token);
    }
    page
}

fn tag_page(d: NaiveDate, values: &[(&str, &str)]) -> Value {
    let groups: Vec<Value> = values
        .iter()
        .map(|(v, amount)| json!({"Keys": [format!("team${v}")], "Metrics": metrics(amount)}))
        .collect();
    json!({"GroupDefinitions": [{"Type": "TAG", "Key": "team"}],
           "ResultsByTime": [{"TimePeriod": period(d), "Total": {}, "Groups": groups, "Estimated": false}],
           "DimensionValueAttributes": []})
}

const S3: &str = "Amazon Simple Storage Service";
const LAMBDA: &str = "AWS Lambda";

struct Aws {
    _moto: Moto,
    config: SdkConfig,
    lake: S3Lake,
    state: DynamoState,
}

async fn aws(results: &[Value]) -> Aws {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    create_table(&config).await;
    queue_cost_and_usage(&moto, &Value::Array(results.to_vec()).to_string());
    Aws {
        lake: S3Lake::new(&config, BUCKET),
        // Expiry judged on the tests' own clock (the end of their March): on the system clock the
        // ledger's 400-day run items, written on fixed March 2026 days, expire in April 2027.
        state: DynamoState::with_clock(&config, TABLE, Arc::new(ManualClock::new(at(day(31))))),
        config,
        _moto: moto,
    }
}

fn source(aws: &Aws, options: CostExplorerOptions) -> CostExplorerSource {
    CostExplorerSource::new(
        &aws.config,
        CostExplorerOptions {
            billing_account_id: "999999999999".into(),
            ..options
        },
    )
    .unwrap()
}

fn settings(backfill_days: u32, max_requests_per_run: u32) -> CollectSettings {
    CollectSettings {
        restate_days: 3,
        backfill_days,
        max_requests_per_run,
    }
}

async fn collect(
    aws: &Aws,
    ce: &CostExplorerSource,
    settings: &CollectSettings,
    today: NaiveDate,
) -> IncrementalOutcome {
    collect_incremental(ce, &aws.lake, &aws.state, settings, today, at(today))
        .await
        .unwrap()
}

async fn billed(lake: &S3Lake, d: NaiveDate) -> Money {
    read_day(lake, d)
        .await
        .unwrap()
        .iter()
        .map(|r| r.billed_cost)
        .sum()
}

#[tokio::test]
async fn a_quiet_day_costs_two_requests_and_a_revised_day_is_pulled_again() {
    let aws = aws(&[
        // Run 1 (today 10th): probe 7th–9th, one grouped request for 7th–9th.
        probe(&[(day(7), "3"), (day(8), "3"), (day(9), "3")]),
        grouped(
            &[
                (
                    day(7),
                    &[("111111111111", S3, "2"), ("222222222222", LAMBDA, "1")],
                ),
                (
                    day(8),
                    &[("111111111111", S3, "2"), ("222222222222", LAMBDA, "1")],
                ),
                (
                    day(9),
                    &[("111111111111", S3, "2"), ("222222222222", LAMBDA, "1")],
                ),
            ],
            None,
        ),
        // Run 2 (11th): nothing revised, the 10th is new.
        probe(&[(day(7), "3"), (day(8), "3"), (day(9), "3"), (day(10), "4")]),
        grouped(&[(day(10), &[("111111111111", S3, "4")])], None),
        // Run 3 (12th): Cost Explorer revised the 9th; the 11th is new.
        probe(&[
            (day(8), "3"),
            (day(9), "5.5"),
            (day(10), "4"),
            (day(11), "1"),
        ]),
        grouped(&[(day(9), &[("111111111111", S3, "5.5")])], None),
        grouped(&[(day(11), &[("222222222222", LAMBDA, "1")])], None),
    ])
    .await;
    let ce = source(&aws, CostExplorerOptions::default());

    let first = collect(&aws, &ce, &settings(3, 20), day(10)).await;
    assert_eq!(first.days, vec![day(7), day(8), day(9)]);
    assert_eq!((first.requests, first.records), (2, 6));
    assert_eq!(billed(&aws.lake, day(9)).await, Money::from(3));

    let quiet = collect(&aws, &ce, &settings(3, 20), day(11)).await;
    assert_eq!(quiet.days, vec![day(10)]);
    assert_eq!(quiet.requests, 2, "the probe and the new day");
    assert_eq!(quiet.ledger_line, "2 Cost Explorer requests = $0.02");
    assert_eq!(billed(&aws.lake, day(10)).await, Money::from(4));

    let revised = collect(&aws, &ce, &settings(3, 20), day(12)).await;
    assert_eq!(revised.days, vec![day(9), day(11)]);
    assert_eq!(revised.requests, 3, "probe + the 9th + the 11th");
    let ninth = read_day(&aws.lake, day(9)).await.unwrap();
    assert_eq!(ninth.len(), 1, "the partition is replaced, not added to");
    assert_eq!(ninth[0].billed_cost, "5.5".parse::<Money>().unwrap());
    let raw = aws.lake.list("raw/ce/dt=2026-03-09/").await.unwrap();
    assert_eq!(raw, ["raw/ce/dt=2026-03-09/account-service-p000.json"]);
    let kept = aws.lake.get(&raw[0]).await.unwrap().unwrap();
    let kept: Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(
        kept["ResultsByTime"][0]["Groups"][0]["Metrics"]["UnblendedCost"]["Amount"],
        "5.5"
    );
    assert_eq!(revised.month_requests, 7);

    // The ledger in DynamoDB: one entry per run, with a TTL, and the month's total.
    let runs = aws.state.list(LEDGER_RUN_PREFIX).await.unwrap();
    let texts: Vec<&str> = runs
        .iter()
        .map(|(_, v)| v.value["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "2 Cost Explorer requests = $0.02",
            "2 Cost Explorer requests = $0.02",
            "3 Cost Explorer requests = $0.03"
        ]
    );
    let month = aws
        .state
        .get("ledger/cost-explorer/month/2026-03")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(month.value["text"], "7 Cost Explorer requests = $0.07");
    assert_eq!(month.value["runs"], 3);
    let item = aws_sdk_dynamodb::Client::new(&aws.config)
        .get_item()
        .table_name(TABLE)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("state".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(runs[0].0.clone()),
        )
        .send()
        .await
        .unwrap();
    let expires: i64 = item.item.unwrap()["expires_at"]
        .as_n()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        expires,
        (at(day(10)) + chrono::Duration::days(400)).timestamp()
    );
}

#[tokio::test]
async fn the_cap_stops_before_passing_and_the_next_run_resumes() {
    let page = |d: NaiveDate, account: &str, next: Option<&str>| {
        grouped(&[(d, &[(account, S3, "1")])], next)
    };
    let aws = aws(&[
        probe(&[(day(8), "2"), (day(9), "2")]),
        page(day(8), "111111111111", Some("8-2")),
        page(day(8), "222222222222", None),
        page(day(9), "111111111111", Some("9-2")),
        page(day(9), "222222222222", None),
    ])
    .await;
    // One day per request, two pages a day: 5 requests in all, the cap allows 3.
    let ce = source(
        &aws,
        CostExplorerOptions {
            days_per_request: 1,
            ..CostExplorerOptions::default()
        },
    );
    let capped = collect(&aws, &ce, &settings(2, 3), day(10)).await;
    assert_eq!(capped.requests, 3);
    assert!(capped.capped);
    assert_eq!(capped.days, vec![day(8)]);
    assert_eq!(capped.pending, vec![day(9)]);
    assert_eq!(capped.watermark, Some(day(8)));
    assert_eq!(
        read_day(&aws.lake, day(8)).await.unwrap().len(),
        2,
        "both pages"
    );
    assert_eq!(aws.lake.get(&curated_key(day(9))).await.unwrap(), None);
    assert!(
        aws.lake
            .list("raw/ce/dt=2026-03-09/")
            .await
            .unwrap()
            .is_empty()
    );
    let runs = aws.state.list(LEDGER_RUN_PREFIX).await.unwrap();
    assert_eq!(runs[0].1.value["capped"], true);
    assert_eq!(runs[0].1.value["text"], "3 Cost Explorer requests = $0.03");

    // The same window asks the same probe (moto answers it again) and only the 9th remains.
    let resumed = collect(&aws, &ce, &settings(2, 20), day(10)).await;
    assert_eq!(resumed.days, vec![day(9)]);
    assert_eq!(resumed.requests, 3, "probe + the 9th's two pages");
    assert!(!resumed.capped);
    assert_eq!(resumed.watermark, Some(day(9)));
    assert_eq!(read_day(&aws.lake, day(9)).await.unwrap().len(), 2);
    assert_eq!(resumed.month_requests, 6);
}

#[tokio::test]
async fn a_tag_breakdown_never_adds_to_the_organisation_total() {
    let aws = aws(&[
        probe(&[(day(9), "10")]),
        grouped(
            &[(
                day(9),
                &[("111111111111", S3, "6"), ("222222222222", LAMBDA, "4")],
            )],
            None,
        ),
        tag_page(day(9), &[("web", "7"), ("", "3")]),
    ])
    .await;
    let ce = source(
        &aws,
        CostExplorerOptions {
            tag_keys: vec!["team".into()],
            ..CostExplorerOptions::default()
        },
    );
    let out = collect(&aws, &ce, &settings(1, 20), day(10)).await;
    assert_eq!(out.requests, 3, "probe, account × service, one tag key");
    assert_eq!((out.records, out.breakdown_records), (2, 2));
    assert!(
        aws.lake
            .get(&breakdown_key(day(9)))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(read_breakdown(&aws.lake, day(9)).await.unwrap().len(), 2);
    assert_eq!(billed(&aws.lake, day(9)).await, Money::from(10));

    let rollups = MemoryRollups::default();
    aggregate(
        &aws.lake,
        &rollups,
        &aws.state,
        &PipelineConfig::default(),
        &out.days,
    )
    .await
    .unwrap();
    let total = |scope: Scope| {
        let rollups = &rollups;
        async move {
            rollups
                .series(&scope, day(9), day(9))
                .await
                .unwrap()
                .totals_f64()[0]
        }
    };
    assert_eq!(
        total(Scope::Org).await,
        Some(10.0),
        "not 20: the tag request is the same spend"
    );
    assert_eq!(
        total(Scope::Account("111111111111".into())).await,
        Some(6.0)
    );
    let web = Scope::Tag {
        key: "team".into(),
        value: "web".into(),
    };
    assert_eq!(total(web).await, Some(7.0));
}
