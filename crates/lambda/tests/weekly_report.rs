//! The weekly report end to end, on the template-true stack: the chain runs (collect,
//! aggregate, detect, forecast) as template.yaml wires it, then the report Lambda takes the
//! weekly schedule's input (events/report/weekly.json, the template's own `Input`); the week's
//! HTML, JSON and CSV are archived, its envelope reaches the Slack queue through the template's
//! filter policy, and the real Slack dispatcher delivers that very message to the Slack fake.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, Utc};
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::entry;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch_slack::Slack;
use costwatch_lambda::handlers::report;
use costwatch_pipeline::Ports;
use costwatch_store::LakeReader;
use costwatch_store::memory::MemoryState;
use costwatch_testkit::repo_file;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::slack::FakeSlack;
use serde_json::{Value, json};

#[path = "support/archive_first.rs"]
#[allow(dead_code)] // the chain test uses its ArchiveFirst; this test only check_archived_data
mod archive_first;
#[path = "support/template_chain.rs"]
mod template_chain;
use archive_first::check_archived_data;
use template_chain::Chain;

const HOOK: &str = "/services/T0WEEKLY/B0WEEKLY/weeklyReportHookSecret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_report_is_archived_published_and_delivered_to_slack() {
    let chain = Chain::deploy().await;
    chain.collect().await;
    chain.aggregate().await;
    chain.detect_and_forecast().await;
    // The day's anomalies and forecasts went to Slack already; the report is what follows.
    let before = chain.envelopes("SlackQueueUrl").await;
    assert!(before.iter().all(|e| e["kind"] != "report"));

    let aws = chain.aws("ReportFunction");
    let (lake, rollups, state, bus) = (
        aws.lake().unwrap(),
        aws.rollups().unwrap(),
        aws.state().unwrap(),
        aws.notifications().unwrap(),
    );
    let ports = Ports {
        lake: &lake,
        rollups: &rollups,
        state: &state,
        bus: &bus,
    };
    let cfg = chain.cfg("ReportFunction");
    // The day's completions reach the report as in the chain: the daily report goes out.
    for done in chain.delivered("ReportFunction", "ChainDone", 2).await {
        report::handle(&ports, &lake, &cfg, done, Utc::now())
            .await
            .unwrap();
    }

    // Monday: the weekly schedule's input, as the template declares it.
    let input: Value = serde_json::from_str(&repo_file("events/report/weekly.json")).unwrap();
    let function = chain.stack.function("ReportFunction");
    assert_eq!(function.schedules["Weekly"], input);
    let reported = report::handle(&ports, &lake, &cfg, input, Utc::now())
        .await
        .unwrap();

    // The archive: the week's three files under reports/weekly/, the page with its chart.
    let week_end = chain.yesterday;
    let week_start = week_end - Days::new(6);
    assert_eq!(reported.as_of, Some(week_end));
    assert_eq!(
        reported.archived,
        ["html", "json", "csv"].map(|ext| format!("reports/weekly/dt={week_end}/report.{ext}"))
    );
    let html = lake.get(reported.html.as_ref().unwrap()).await.unwrap();
    let html = String::from_utf8(html.unwrap()).unwrap();
    assert!(html.contains("<svg"), "the weekly report has its chart");
    assert!(
        html.contains(&format!("weekly report, {week_start} to {week_end}")),
        "the page names the week"
    );
    check_archived_data(&lake, &reported.archived).await;
    // detect and forecast finished the week's last day: nothing is marked missing.
    assert!(reported.missing.is_empty(), "{:?}", reported.missing);

    // The envelope, on Slack's queue through the template's filter policy.
    let schema: Value = serde_json::from_str(&repo_file("schemas/notification.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let queued =
        costwatch_testkit::stack::drain(&chain.stack.config, chain.stack.output("SlackQueueUrl"))
            .await;
    // The daily report, then the weekly one.
    assert_eq!(queued.len(), 2, "{queued:?}");
    let daily: Value = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(daily["figures"]["period"], "daily");
    let weekly = &queued[1];
    let envelope: Value = serde_json::from_str(&weekly.body).unwrap();
    assert!(validator.is_valid(&envelope), "{envelope}");
    assert_eq!(envelope["kind"], "report");
    assert_eq!(
        Some(envelope["id"].as_str().unwrap()),
        reported.envelope.as_deref()
    );
    assert_eq!(envelope["figures"]["period"], "weekly");
    assert_eq!(envelope["figures"]["start"], week_start.to_string());
    assert_eq!(envelope["figures"]["end"], week_end.to_string());

    // That message, through the Slack dispatcher's SQS batch handler, to the Slack fake.
    let slack = Arc::new(FakeSlack::new().with_webhook(HOOK, "C0FINOPS"));
    let server = FakeServer::start(slack.clone()).await;
    let config = json!({"destinations": {"finops": {"webhook_url": format!("https://hooks.slack.com{HOOK}")}}});
    let ledger = MemoryState::default();
    let dispatcher = Dispatcher::builder(entry::<Slack>().load(config).unwrap(), &ledger)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .build()
        .await
        .unwrap();
    let dead_letters = MemoryQueue::default();
    let event = event_of(&[("m-weekly".to_owned(), weekly.body.clone(), 1)]);
    // A bound for a hung dispatcher, not a synchronisation: the batch returns when it is done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let response = handle_batch(&dispatcher, &dead_letters, &event, 5, Utc::now(), deadline).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(dead_letters.dead.lock().unwrap().is_empty());
    let messages = slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].channel, "C0FINOPS");
    let text = format!(
        "{} {}",
        messages[0].text,
        serde_json::to_string(&messages[0].blocks).unwrap()
    );
    assert!(
        text.contains(&format!("Weekly cost report {week_start} to {week_end}")),
        "{text}"
    );
}
