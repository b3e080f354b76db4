//! The recommend Lambda's handler on moto with the real SDK (state in DynamoDB, envelopes on SNS
//! to a dispatcher's queue), its CUR through the query the Lambda sends Athena: the real
//! Oct–Nov 2018 CUR of data/cost/cur linked into a Data Export's folder and run by the embedded
//! engine (the same SQL text). Every listed item opens one envelope, its lifecycle is stored, the
//! query is in the Athena ledger, and the same week again sends nothing. The query's usage lines
//! give the suite's rules the same findings as the CUR reader the function used before. Without
//! a CUR, or with a query that fails, the run says so and keeps the suite's items as they were.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use costwatch_core::notification::State;
use costwatch_core::shared::shared_path;
use costwatch_core::{Notification, UsageLine};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::recommend::{RecommendSettings, handle, settings};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::data_exports::LEDGER_MONTH_PREFIX;
use costwatch_pipeline::recommend::tracked;
use costwatch_pipeline::resource_causes::ExportLines;
use costwatch_query::embedded::EmbeddedEngine;
use costwatch_query::{Answer, Engine, ExportTable, QueryError};
use costwatch_store::StateStore;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::real_cur::{FILES, export_folder};
use costwatch_testkit::repo_file;
use costwatch_testkit::stack::{Stack, drain};
use serde_json::Value;

const DISPATCHER_FILTER: &str = r#"{"kind": ["anomaly", "budget", "forecast", "recommendation"],
     "severity": ["info", "low", "medium", "high", "critical"]}"#;

/// The weekly schedule's sample event, at `time`.
fn weekly_event(time: Option<&str>) -> Value {
    let mut event: Value =
        serde_json::from_str(&repo_file("events/recommend/weekly.json")).expect("sample event");
    if let Some(time) = time {
        event["time"] = time.into();
    }
    event
}

/// The reader's usage lines of both months: what the function read before the query.
fn reader_lines() -> Vec<UsageLine> {
    FILES
        .iter()
        .flat_map(|(_, f)| {
            costwatch_ingest::cur::read_usage(&shared_path(&format!("data/cost/cur/{f}"))).unwrap()
        })
        .collect()
}

/// The CUR's tag keys as the reader names them: the keys the query is asked to carry, so the
/// untagged-spend rule sees the same tags both ways.
fn tag_keys(lines: &[UsageLine]) -> Vec<String> {
    let keys: BTreeSet<&String> = lines.iter().flat_map(|l| l.tags.keys()).collect();
    keys.into_iter().cloned().collect()
}

async fn cur_lines(folder: &Path, tag_keys: Vec<String>) -> ExportLines {
    let engine = EmbeddedEngine::open(folder, "cur").await.unwrap();
    let table = ExportTable::legacy("cur", engine.columns("cur").await.unwrap());
    ExportLines::new(Arc::new(engine), table, tag_keys)
}

/// Every finding listed: the workshop accounts' savings are small.
fn list_everything() -> PipelineConfig {
    let mut cfg = PipelineConfig::default();
    cfg.recommend.thresholds.default.min_monthly_savings = costwatch_core::Money::ZERO;
    cfg.recommend.thresholds.default.min_savings_pct = 0.0;
    cfg
}

/// Findings as comparable facts: kind, resource, monthly cost and saving.
fn facts(lines: &[UsageLine], cfg: &PipelineConfig) -> BTreeSet<String> {
    costwatch_analytics::recommend::suite_findings(lines, &cfg.recommend.rules)
        .into_iter()
        .map(|f| {
            format!(
                "{:?} {} {} {} saves {}",
                f.kind, f.account, f.resource, f.current_monthly_cost, f.monthly_savings
            )
        })
        .collect()
}

#[tokio::test]
async fn the_query_gives_the_rules_what_the_cur_reader_gave() {
    let read = reader_lines();
    let folder = export_folder();
    let cur = cur_lines(folder.path(), tag_keys(&read)).await;
    let day = |s: &str| s.parse().unwrap();
    let queried = costwatch_pipeline::resource_causes::ResourceLines::lines(
        &cur,
        &costwatch_core::Scope::Org,
        day("2018-09-30"),
        day("2018-12-02"),
    )
    .await
    .unwrap();
    let cfg = list_everything();
    let (from_query, from_reader) = (facts(&queried, &cfg), facts(&read, &cfg));
    assert!(from_reader.len() >= 2, "{from_reader:#?}");
    assert_eq!(from_query, from_reader);
    let cost = |lines: &[UsageLine]| lines.iter().map(|l| l.cost).sum::<costwatch_core::Money>();
    assert_eq!(cost(&queried), cost(&read));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_cur_opens_each_recommendation_once() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Stack::create(&config).await;
    let queue = stack
        .subscribe_queue(
            &stack.notifications_topic_arn,
            "dispatcher",
            Some(DISPATCHER_FILTER),
        )
        .await;
    let aws = Aws::with_config(config.clone(), Env::from_pairs(stack.env()));
    let settings = settings(&aws.env).expect("settings");
    let (state, bus) = (aws.state().unwrap(), aws.notifications().unwrap());
    let folder = export_folder();
    let cur = cur_lines(folder.path(), tag_keys(&reader_lines())).await;
    let cfg = list_everything();
    // Monday 2018-12-03: the query asks for the 62 days to Sunday, Oct 1 – Dec 2.
    let event = || weekly_event(Some("2018-12-03T06:00:00Z"));

    let summary = handle(&state, &bus, &cfg, &settings, Some(&cur), &[], event())
        .await
        .expect("weekly run");
    assert_eq!(summary.cur_queries, 1, "{summary:?}");
    assert_eq!(summary.as_of.to_string(), "2018-11-30");
    assert!(
        summary.usage_lines > 0 && summary.listed >= 2,
        "{summary:?}"
    );
    assert_eq!(summary.published.len(), summary.listed);
    assert!(summary.unheard.is_empty(), "{:?}", summary.unheard);
    let received: Vec<Notification> = drain(&config, &queue)
        .await
        .into_iter()
        .map(|m| serde_json::from_str(&m.body).expect("an envelope"))
        .collect();
    assert_eq!(received.len(), summary.listed, "{received:#?}");
    assert!(
        received
            .iter()
            .all(|n| n.kind() == "recommendation" && n.state == State::Open)
    );
    assert_eq!(tracked(&state).await.unwrap().len(), summary.listed);
    // The query is billed like collect's and detect's: in the Athena ledger of the run's month.
    let month = state
        .get(&format!("{LEDGER_MONTH_PREFIX}2018-12"))
        .await
        .unwrap()
        .expect("the month's Athena ledger")
        .value;
    assert_eq!(month["requests"], 1, "{month}");

    let again = handle(&state, &bus, &cfg, &settings, Some(&cur), &[], event())
        .await
        .unwrap();
    assert!(again.published.is_empty(), "{again:?}");
    assert!(drain(&config, &queue).await.is_empty());
}

/// An engine that fails every query, as Athena does when the table is gone.
struct Refusing;

#[async_trait::async_trait]
impl Engine for Refusing {
    async fn run(&self, _: &str) -> Result<Answer, QueryError> {
        Err(QueryError::Failed("TABLE_NOT_FOUND: cur2".into()))
    }
}

async fn run_without_lines(
    cur: Option<&ExportLines>,
) -> costwatch_lambda::handlers::recommend::RecommendSummary {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Stack::create(&config).await;
    let aws = Aws::with_config(config.clone(), Env::from_pairs(stack.env()));
    let settings: RecommendSettings = settings(&aws.env).unwrap();
    let (state, bus) = (aws.state().unwrap(), aws.notifications().unwrap());
    let cfg = PipelineConfig::default();
    let summary = handle(&state, &bus, &cfg, &settings, cur, &[], weekly_event(None))
        .await
        .unwrap();
    assert_eq!((summary.cur_queries, summary.listed), (0, 0));
    assert!(summary.published.is_empty());
    // The run's date is the schedule's, not the clock's.
    assert_eq!(summary.as_of.to_string(), "2026-11-23");
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cur_the_run_says_so_and_sends_nothing() {
    let summary = run_without_lines(None).await;
    assert_eq!(summary.unheard["cur"], "no CUR usage lines");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_query_is_reported_and_sends_nothing() {
    let cur = ExportLines::new(
        Arc::new(Refusing),
        ExportTable::cur2("cur2", Vec::new(), Vec::new()),
        Vec::new(),
    );
    let summary = run_without_lines(Some(&cur)).await;
    let why = &summary.unheard["cur"];
    assert!(why.contains("TABLE_NOT_FOUND"), "{why}");
}
