//! The whole AWS chain on moto, as template.yaml deploys it (costwatch_testkit::template): the
//! collect handler takes the scheduled event of events/collect/, pulls 60 days from Cost Explorer
//! (moto's canned results, built from a synthetic organisation with a planted spike), and each
//! pipeline event it publishes is read back from the subscription the template gives the next
//! function, with that subscription's own filter policy, and handed to that function's handler
//! with the environment the template gives it: aggregate, then detect and forecast, then —
//! once both have said they are done — the daily report. The envelopes arrive on the Slack and
//! PagerDuty queues of the template's nested dispatcher stacks, through their own filter
//! policies.

use costwatch_core::{Money, Scope};
use costwatch_lambda::handlers::report;
use costwatch_pipeline::Ports;
use costwatch_pipeline::incremental::LEDGER_RUN_PREFIX;
use costwatch_store::{LakeReader, RollupStore, StateStore};
use costwatch_testkit::repo_file;
use serde_json::Value;

#[path = "support/archive_first.rs"]
mod archive_first;
#[path = "support/template_chain.rs"]
mod template_chain;
use archive_first::{ArchiveFirst, check_archived_data};
use template_chain::{Chain, DAYS_PER_REQUEST};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_event_ends_as_envelopes_on_the_integration_queues() {
    let chain = Chain::deploy().await;
    let (org, days, yesterday) = (&chain.org, &chain.days, chain.yesterday);

    // collect
    let outcome = chain.collect().await;
    let expected_requests = 1 + days.len().div_ceil(DAYS_PER_REQUEST) as u32;
    assert_eq!(outcome.requests, expected_requests, "{outcome:?}");
    assert_eq!(&outcome.days, days);
    assert!(!outcome.capped);
    assert_eq!(
        outcome.ledger_line,
        format!("{expected_requests} Cost Explorer requests = $0.{expected_requests:02}")
    );

    // The lake: each day's part of the raw answers, and its curated partition.
    let aws = chain.aws("ReportFunction");
    let (lake, rollups, state) = (
        aws.lake().unwrap(),
        aws.rollups().unwrap(),
        aws.state().unwrap(),
    );
    let raw = lake.list("raw/ce/").await.unwrap();
    assert_eq!(raw.len(), days.len(), "{raw:?}");
    for day in days {
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

    // aggregate, from what SNS delivered to its subscription
    let summary = chain.aggregate().await;
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
    let (detected, forecasted) = chain.detect_and_forecast().await;
    assert!(
        !detected.published.is_empty(),
        "the planted spike was not found"
    );
    let cfg = chain.cfg("ReportFunction");
    assert_eq!(forecasted.budgets, cfg.budgets.len());
    assert!(!cfg.budgets.is_empty(), "BudgetsJson reached the functions");

    // report, subscribed to both completions: the first waits, the second reports. Its
    // envelope goes out only once the archive holds the report's three files (an archive
    // integration reacting to it reads them).
    let done = chain.delivered("ReportFunction", "ChainDone", 2).await;
    let notifications = aws.notifications().unwrap();
    let archive_checked = ArchiveFirst {
        inner: &notifications,
        lake: &lake,
        found: std::sync::Mutex::new(Vec::new()),
    };
    let report_ports = Ports {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        bus: &archive_checked,
    };
    let now = chrono::Utc::now();
    let waiting = report::handle(&report_ports, &lake, &cfg, done[0].clone(), now)
        .await
        .unwrap();
    assert_eq!(
        waiting.skipped.as_deref(),
        Some("waiting for the other step")
    );
    let reported = report::handle(&report_ports, &lake, &cfg, done[1].clone(), now)
        .await
        .unwrap();
    assert!(reported.missing.is_empty());
    let html_key = reported.html.unwrap();
    let html = String::from_utf8(lake.get(&html_key).await.unwrap().unwrap()).unwrap();
    assert!(html.contains("<svg"), "the report has its chart");
    let as_of = reported.as_of.unwrap();
    assert_eq!(as_of, yesterday);
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
    // The fallback schedule, later that day, finds the day reported.
    let input: Value = serde_json::from_str(&repo_file("events/report/daily.json")).unwrap();
    assert_eq!(
        chain.stack.function("ReportFunction").schedules["Daily"],
        input
    );
    let fallback = report::handle(&report_ports, &lake, &cfg, input, now)
        .await
        .unwrap();
    assert!(fallback.envelope.is_none(), "{fallback:?}");

    // The notifications: every envelope valid against the published schema, in order of
    // publication, the spike's anomaly among them; Slack (from info) gets every one, PagerDuty
    // (from high) only what its filter allows.
    let schema: Value = serde_json::from_str(&repo_file("schemas/notification.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let envelopes = chain.envelopes("SlackQueueUrl").await;
    let published = detected.published.len() + forecasted.published.len() + 1;
    assert_eq!(envelopes.len(), published);
    for e in &envelopes {
        assert!(validator.is_valid(e), "{e}");
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
    let paged = chain.envelopes("PagerDutyQueueUrl").await;
    let expected_paged: Vec<&Value> = envelopes
        .iter()
        .filter(|e| {
            e["kind"] == "report" || matches!(e["severity"].as_str(), Some("high" | "critical"))
        })
        .collect();
    assert!(
        expected_paged.iter().any(|e| e["kind"] == "anomaly"),
        "the spike should page someone"
    );
    assert_eq!(paged.iter().collect::<Vec<_>>(), expected_paged);
}
