//! The whole AWS chain on moto, through the real SDK: the collect handler takes the scheduled
//! event of events/collect/, pulls 60 days from Cost Explorer (moto's canned results, built from
//! a synthetic organisation with a planted spike), and each pipeline event it publishes is read
//! back off an SQS queue subscribed to the pipeline topic — as Lambda would receive it over SNS —
//! and handed to the next handler: aggregate, then detect and forecast, then report. The
//! envelopes arrive on queues subscribed to the notifications topic, one of them with a filter
//! policy on the `kind` and `severity` attributes.

use chrono::{Days, NaiveDate, Utc};
use costwatch_analytics::budget::planted_budgets;
use costwatch_core::{Money, Scope};
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::events::SnsPipelineBus;
use costwatch_lambda::handlers::aggregate::AggregatePorts;
use costwatch_lambda::handlers::collect::CollectPorts;
use costwatch_lambda::handlers::forecast::ForecastPorts;
use costwatch_lambda::handlers::{aggregate, collect, detect, forecast, report};
use costwatch_pipeline::incremental::{CollectSettings, LEDGER_RUN_PREFIX};
use costwatch_pipeline::{PipelineConfig, Ports};
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};
use costwatch_store::{LakeReader, RollupStore, StateStore};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use costwatch_testkit::stack::{Stack, drain};
use costwatch_testkit::{ce_responses, repo_file};
use serde_json::Value;

#[path = "support/archive_first.rs"]
mod archive_first;
use archive_first::{ArchiveFirst, check_archived_data};

const BACKFILL_DAYS: u32 = 60;
/// CostExplorerOptions::default().days_per_request: the grouped pull is cut into weeks.
const DAYS_PER_REQUEST: usize = 7;

/// An SNS invocation carrying `message`, shaped like the sample in events/ (what Lambda gets).
fn as_sns_event(sample: &str, message: &str) -> Value {
    let mut event: Value = serde_json::from_str(&repo_file(sample)).unwrap();
    event["Records"][0]["Sns"]["Message"] = Value::String(message.to_owned());
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_event_ends_as_envelopes_on_the_notification_queues() {
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
    let updated_q = stack
        .subscribe_queue(
            &stack.pipeline_topic_arn,
            "to-detect-and-forecast",
            Some(r#"{"event": ["AggregatesUpdated"]}"#),
        )
        .await;
    let all_q = stack
        .subscribe_queue(&stack.notifications_topic_arn, "everything", None)
        .await;
    let pager_q = stack
        .subscribe_queue(
            &stack.notifications_topic_arn,
            "pager",
            Some(r#"{"kind": ["anomaly"], "severity": ["high", "critical"]}"#),
        )
        .await;

    // The scheduled event says which day it is; Cost Explorer answers for the 60 days before.
    let scheduled: Value =
        serde_json::from_str(&repo_file("events/collect/scheduled.json")).unwrap();
    let today: NaiveDate = scheduled["time"].as_str().unwrap()[..10].parse().unwrap();
    let yesterday = today - Days::new(1);
    let org = costwatch_core::synth::generate(42, yesterday, BACKFILL_DAYS);
    let days: Vec<NaiveDate> = org
        .start
        .iter_days()
        .take_while(|d| *d <= yesterday)
        .collect();
    let mut answers = vec![ce_responses::totals(&org.records, &days)];
    answers.extend(
        days.chunks(DAYS_PER_REQUEST)
            .map(|week| ce_responses::by_account_and_service(&org.records, week)),
    );
    queue_cost_and_usage(&moto, &serde_json::to_string(&answers).unwrap());

    let env = Env::from_pairs(stack.env());
    let aws = Aws::with_config(config.clone(), env);
    let (lake, rollups, state) = (
        aws.lake().unwrap(),
        aws.rollups().unwrap(),
        aws.state().unwrap(),
    );
    let pipeline: SnsPipelineBus = aws.pipeline_events().unwrap();
    let notifications = aws.notifications().unwrap();
    let cfg = PipelineConfig {
        budgets: planted_budgets(&org),
        ..PipelineConfig::default()
    };

    // collect
    let source = CostExplorerSource::new(&config, CostExplorerOptions::default()).unwrap();
    let settings = CollectSettings {
        backfill_days: BACKFILL_DAYS,
        ..CollectSettings::default()
    };
    let ports = CollectPorts {
        source: &source,
        lake: &lake,
        state: &state,
        events: &pipeline,
    };
    let outcome = collect::handle(&ports, &settings, scheduled, Utc::now())
        .await
        .unwrap();
    let expected_requests = 1 + days.len().div_ceil(DAYS_PER_REQUEST) as u32;
    assert_eq!(outcome.requests, expected_requests, "{outcome:?}");
    assert_eq!(outcome.days, days);
    assert!(!outcome.capped);
    assert_eq!(
        outcome.ledger_line,
        format!("{expected_requests} Cost Explorer requests = $0.{expected_requests:02}")
    );

    // The lake: each day's part of the raw answers, and its curated partition.
    let raw = lake.list("raw/ce/").await.unwrap();
    assert_eq!(raw.len(), days.len(), "{raw:?}");
    for day in &days {
        assert!(
            raw.iter()
                .any(|k| k.starts_with(&format!("raw/ce/dt={day}/"))),
            "{day}"
        );
        let key = format!("curated/daily/dt={day}/records.jsonl");
        assert!(lake.get(&key).await.unwrap().is_some(), "{key}");
    }
    // The ledger in DynamoDB holds the run.
    let runs = state.list(LEDGER_RUN_PREFIX).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1.value["requests"], expected_requests);

    // aggregate, from what SNS delivered
    let collected = drain(&config, &collected_q).await;
    assert_eq!(collected.len(), 1, "{collected:?}");
    assert_eq!(collected[0].attributes["event"], "CostDataCollected");
    let event = as_sns_event(
        "events/aggregate/sns-cost-data-collected.json",
        &collected[0].body,
    );
    let ports = AggregatePorts {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        events: &pipeline,
    };
    let summary = aggregate::handle(&ports, &cfg, event).await.unwrap();
    assert_eq!(summary.as_of, Some(yesterday));
    let org_series = rollups
        .series(&Scope::Org, days[0], yesterday)
        .await
        .unwrap();
    let billed: Money = org
        .records
        .iter()
        .filter(|r| r.day() == yesterday)
        .map(|r| r.billed_cost)
        .sum();
    assert_eq!(org_series.get(yesterday).unwrap().total(), billed);

    // detect and forecast, both subscribed to AggregatesUpdated
    let updated = drain(&config, &updated_q).await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    let now = Utc::now();
    let event = as_sns_event(
        "events/detect/sns-aggregates-updated.json",
        &updated[0].body,
    );
    let ports = Ports {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        bus: &notifications,
    };
    let detected = detect::handle(&ports, &cfg, None, event, now)
        .await
        .unwrap();
    assert!(
        !detected.published.is_empty(),
        "the planted spike was not found"
    );
    let event = as_sns_event(
        "events/forecast/sns-aggregates-updated.json",
        &updated[0].body,
    );
    let fports = ForecastPorts {
        rollups: &rollups,
        state: &state,
        bus: &notifications,
    };
    let forecasted = forecast::handle(&fports, &cfg, event, now).await.unwrap();
    assert_eq!(forecasted.budgets, cfg.budgets.len());

    // report, on the daily schedule's input; its envelope goes out only once the archive holds
    // the report's three files (an archive integration reacting to it reads them).
    let input: Value = serde_json::from_str(&repo_file("events/report/daily.json")).unwrap();
    let archive_checked = ArchiveFirst {
        inner: &notifications,
        lake: &lake,
        found: std::sync::Mutex::new(Vec::new()),
    };
    let report_ports = Ports {
        bus: &archive_checked,
        ..ports
    };
    let reported = report::handle(&report_ports, &lake, &cfg, input, now)
        .await
        .unwrap();
    let html_key = reported.html.unwrap();
    let html = String::from_utf8(lake.get(&html_key).await.unwrap().unwrap()).unwrap();
    assert!(html.contains("<svg"), "the report has its chart");
    let as_of = reported.as_of.unwrap();
    assert_eq!(
        reported.archived,
        ["html", "json", "csv"].map(|ext| format!("reports/daily/dt={as_of}/report.{ext}"))
    );
    assert_eq!(
        *archive_checked.found.lock().unwrap(),
        [true, true, true],
        "the envelope was published before the archive was written"
    );
    check_archived_data(&lake, &reported.archived).await;

    // The notifications: every envelope valid against the published schema, in order of
    // publication, the spike's anomaly among them, the pager queue only what its filter allows.
    let schema: Value = serde_json::from_str(&repo_file("schemas/notification.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let all = drain(&config, &all_q).await;
    let published = detected.published.len() + forecasted.published.len() + 1;
    assert_eq!(all.len(), published);
    let envelopes: Vec<Value> = all
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    for (m, e) in all.iter().zip(&envelopes) {
        assert!(validator.is_valid(e), "{e}");
        assert_eq!(m.attributes["kind"], e["kind"].as_str().unwrap());
    }
    let spike = &org.planted;
    assert!(
        envelopes.iter().any(|e| e["kind"] == "anomaly"
            && e.to_string().contains(&spike.spike_service)
            && e.to_string().contains(&spike.spike_account)),
        "no anomaly for {} in {}",
        spike.spike_service,
        spike.spike_account
    );
    assert!(envelopes.iter().any(|e| e["kind"] == "budget"));
    assert_eq!(envelopes.last().unwrap()["kind"], "report");
    let paged = drain(&config, &pager_q).await;
    let expected_paged = envelopes
        .iter()
        .filter(|e| {
            e["kind"] == "anomaly" && matches!(e["severity"].as_str(), Some("high" | "critical"))
        })
        .count();
    assert!(expected_paged > 0, "the spike should page someone");
    assert_eq!(paged.len(), expected_paged);
}
