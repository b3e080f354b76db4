//! Collect cannot lose days when its announcement fails (issue 17): the first run writes the lake
//! and moves its watermark, then `CostDataCollected` cannot be published (the topic is gone);
//! the next run finds every day's total unchanged, pulls nothing, and still announces those
//! days — and aggregate, fed that announcement, builds their rollups. On moto, real SDK.

use chrono::{Days, NaiveDate, Utc};
use costwatch_core::Scope;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::events::SnsPipelineBus;
use costwatch_lambda::handlers::aggregate::AggregatePorts;
use costwatch_lambda::handlers::collect::CollectPorts;
use costwatch_lambda::handlers::{aggregate, collect};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::incremental::CollectSettings;
use costwatch_store::RollupStore;
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use costwatch_testkit::stack::{Stack, drain};
use costwatch_testkit::{ce_responses, repo_file};
use serde_json::Value;

const BACKFILL_DAYS: u32 = 14;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_whose_announcement_failed_are_announced_and_aggregated_by_the_next_run() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let stack = Stack::create(&config).await;
    let collected_q = stack
        .subscribe_queue(
            &stack.pipeline_topic_arn,
            "to-aggregate",
            Some(r#"{"event": ["CostDataCollected"]}"#),
        )
        .await;

    let scheduled: Value =
        serde_json::from_str(&repo_file("events/collect/scheduled.json")).unwrap();
    let today: NaiveDate = scheduled["time"].as_str().unwrap()[..10].parse().unwrap();
    let yesterday = today - Days::new(1);
    let org = costwatch_core::synth::generate(7, yesterday, BACKFILL_DAYS);
    let days: Vec<NaiveDate> = org
        .start
        .iter_days()
        .take_while(|d| *d <= yesterday)
        .collect();
    // Run 1: the probe and the weekly pulls. Run 2: the probe alone, every total unchanged.
    let mut answers = vec![ce_responses::totals(&org.records, &days)];
    answers.extend(
        days.chunks(7)
            .map(|week| ce_responses::by_account_and_service(&org.records, week)),
    );
    answers.push(ce_responses::totals(&org.records, &days));
    queue_cost_and_usage(&moto, &serde_json::to_string(&answers).unwrap());

    let aws = Aws::with_config(config.clone(), Env::from_pairs(stack.env()));
    let (lake, rollups, state) = (
        aws.lake().unwrap(),
        aws.rollups().unwrap(),
        aws.state().unwrap(),
    );
    let source = CostExplorerSource::new(&config, CostExplorerOptions::default()).unwrap();
    let settings = CollectSettings {
        backfill_days: BACKFILL_DAYS,
        ..CollectSettings::default()
    };

    // Run 1: SNS refuses the publish (no such topic): the handler fails, as Lambda would see it.
    let missing_topic = format!("{}-deleted", stack.pipeline_topic_arn);
    let broken = SnsPipelineBus::new(&config, missing_topic);
    let ports = |events| CollectPorts {
        source: &source,
        lake: &lake,
        state: &state,
        events,
    };
    let failed = collect::handle(&ports(&broken), &settings, scheduled.clone(), Utc::now()).await;
    assert!(failed.is_err(), "the publish should have failed");
    assert!(drain(&config, &collected_q).await.is_empty());

    // Run 2: nothing new to pull, but the unannounced days go out.
    let pipeline: SnsPipelineBus = aws.pipeline_events().unwrap();
    let outcome = collect::handle(&ports(&pipeline), &settings, scheduled, Utc::now())
        .await
        .unwrap();
    assert!(outcome.days.is_empty(), "pulled again: {outcome:?}");
    assert_eq!(outcome.requests, 1, "only the probe: {outcome:?}");
    assert_eq!(outcome.announce, days);
    let collected = drain(&config, &collected_q).await;
    assert_eq!(collected.len(), 1, "{collected:?}");
    let message: Value = serde_json::from_str(&collected[0].body).unwrap();
    assert_eq!(message["days"].as_array().unwrap().len(), days.len());

    // aggregate, fed that announcement, has every day.
    let mut event: Value =
        serde_json::from_str(&repo_file("events/aggregate/sns-cost-data-collected.json")).unwrap();
    event["Records"][0]["Sns"]["Message"] = Value::String(collected[0].body.clone());
    let aggregate_ports = AggregatePorts {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        events: &pipeline,
    };
    aggregate::handle(&aggregate_ports, &PipelineConfig::default(), event)
        .await
        .unwrap();
    let series = rollups
        .series(&Scope::Org, days[0], yesterday)
        .await
        .unwrap();
    for day in &days {
        assert!(series.get(*day).is_some(), "{day} was never aggregated");
    }

    // Run 3 (the next hour; moto answers the same probe as before): announced once, so
    // nothing more goes out.
    let scheduled: Value =
        serde_json::from_str(&repo_file("events/collect/scheduled.json")).unwrap();
    let again = collect::handle(&ports(&pipeline), &settings, scheduled, Utc::now())
        .await
        .unwrap();
    assert!(again.announce.is_empty(), "{again:?}");
    assert!(drain(&config, &collected_q).await.is_empty());
}
