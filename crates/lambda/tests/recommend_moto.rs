//! The recommend Lambda's handler on moto with the real SDK: a Data Export's CUR files (the real
//! Oct–Nov 2018 Parquet of data/cost/cur, with the export's manifest beside them) in the S3
//! lake under `COSTWATCH_CUR_PREFIX`, the weekly schedule's sample event: every listed item opens
//! one envelope that reaches a queue subscribed to the notifications topic as a dispatcher's is,
//! its lifecycle is in DynamoDB, and the same week again sends nothing. Without the prefix the
//! run says the CUR is missing and sends nothing.

use costwatch_core::Notification;
use costwatch_core::notification::State;
use costwatch_core::shared::shared_path;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::recommend::{CUR_PREFIX, handle, settings};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::recommend::tracked;
use costwatch_store::LakeWriter;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::repo_file;
use costwatch_testkit::stack::{Stack, drain};
use serde_json::Value;

const DISPATCHER_FILTER: &str = r#"{"kind": ["anomaly", "budget", "forecast", "recommendation"],
     "severity": ["info", "low", "medium", "high", "critical"]}"#;

const CUR: [(&str, &str); 2] = [
    (
        "BILLING_PERIOD=2018-10/Oct2018-WorkshopCUR-00001.snappy.parquet",
        "Oct2018-WorkshopCUR-00001.snappy.parquet",
    ),
    (
        "BILLING_PERIOD=2018-11/Nov2018-WorkshopCUR-00001.snappy.parquet",
        "Nov2018-WorkshopCUR-00001.snappy.parquet",
    ),
];

fn weekly_event() -> Value {
    serde_json::from_str(&repo_file("events/recommend/weekly.json")).expect("sample event")
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
    let mut env = stack.env();
    env.push((CUR_PREFIX.to_owned(), "/cur/costwatch/".to_owned()));
    let aws = Aws::with_config(config.clone(), Env::from_pairs(env));
    let settings = settings(&aws.env).expect("settings");
    assert_eq!(settings.cur_prefix.as_deref(), Some("cur/costwatch/"));
    let (lake, state, bus) = (
        aws.lake().unwrap(),
        aws.state().unwrap(),
        aws.notifications().unwrap(),
    );
    for (key, file) in CUR {
        let bytes = std::fs::read(shared_path(&format!("data/cost/cur/{file}"))).unwrap();
        lake.put(&format!("cur/costwatch/data/{key}"), bytes)
            .await
            .unwrap();
    }
    lake.put(
        "cur/costwatch/metadata/BILLING_PERIOD=2018-11/costwatch-Manifest.json",
        br#"{"dataFiles": []}"#.to_vec(),
    )
    .await
    .unwrap();
    // Every finding listed: the workshop account's savings are small.
    let mut cfg = PipelineConfig::default();
    cfg.recommend.thresholds.default.min_monthly_savings = costwatch_core::Money::ZERO;
    cfg.recommend.thresholds.default.min_savings_pct = 0.0;

    let summary = handle(&lake, &state, &bus, &cfg, &settings, &[], weekly_event())
        .await
        .expect("weekly run");
    assert_eq!(summary.cur_files, 2, "the manifest is skipped: {summary:?}");
    assert_eq!(summary.as_of.to_string(), "2018-11-30");
    assert!(summary.listed >= 2, "{summary:?}");
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
    let stored = tracked(&state).await.unwrap();
    assert_eq!(stored.len(), summary.listed);

    let again = handle(&lake, &state, &bus, &cfg, &settings, &[], weekly_event())
        .await
        .unwrap();
    assert!(again.published.is_empty(), "{again:?}");
    assert!(drain(&config, &queue).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cur_prefix_the_run_says_so_and_sends_nothing() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Stack::create(&config).await;
    let aws = Aws::with_config(config.clone(), Env::from_pairs(stack.env()));
    let settings = settings(&aws.env).unwrap();
    assert_eq!(settings.cur_prefix, None);
    let (lake, state, bus) = (
        aws.lake().unwrap(),
        aws.state().unwrap(),
        aws.notifications().unwrap(),
    );
    let summary = handle(
        &lake,
        &state,
        &bus,
        &PipelineConfig::default(),
        &settings,
        &[],
        weekly_event(),
    )
    .await
    .unwrap();
    assert_eq!((summary.cur_files, summary.listed), (0, 0));
    assert!(summary.published.is_empty());
    assert!(summary.unheard.contains_key("cur"), "{:?}", summary.unheard);
    // The run's date is the schedule's, not the clock's.
    assert_eq!(summary.as_of.to_string(), "2026-11-23");
}
