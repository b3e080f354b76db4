//! The report's triggers over in-memory ports: the chain's two completions send one report,
//! the fallback schedule fills in and says what is missing, duplicates send nothing.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use costwatch_core::synth;
use costwatch_pipeline::aggregate::aggregate_records;
use costwatch_pipeline::{PipelineConfig, Ports};
use costwatch_store::{LakeReader, ManualClock, MemoryStore};
use serde_json::json;

use super::*;

struct World {
    store: MemoryStore,
    cfg: PipelineConfig,
    day: NaiveDate,
}

/// The morning the report runs. The state store's expiry is judged on this clock too: on the
/// system clock, the progress items' 35-day TTL counted from this fixed day ran out in
/// real time (2026-12-27) and every test here would have failed from then on.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

impl World {
    async fn new() -> World {
        let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let org = synth::generate(synth::DEFAULT_SEED, day, 40);
        let world = World {
            store: MemoryStore::with_clock(Arc::new(ManualClock::new(now()))),
            cfg: PipelineConfig::default(),
            day,
        };
        let days: Vec<NaiveDate> = org.start.iter_days().take_while(|d| *d <= day).collect();
        aggregate_records(
            &world.store.rollups,
            &world.store.state,
            &world.cfg,
            &days,
            &org.records,
        )
        .await
        .unwrap();
        world
    }

    async fn invoke(&self, event: serde_json::Value) -> Result<ReportSummary> {
        let ports = Ports {
            lake: &self.store.lake,
            rollups: &self.store.rollups,
            state: &self.store.state,
            bus: &self.store.bus,
        };
        handle(&ports, &self.store.lake, &self.cfg, event, now()).await
    }

    fn reports(&self) -> Vec<costwatch_core::Notification> {
        self.store.bus.published()
    }
}

fn sns(events: &[PipelineEvent]) -> serde_json::Value {
    let records: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "EventSource": "aws:sns", "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:pipeline:report",
                "Sns": {
                    "Type": "Notification", "MessageId": format!("m-{i}"),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:pipeline",
                    "Subject": null, "Message": serde_json::to_string(e).unwrap(),
                    "Timestamp": "2026-11-22T07:05:00.000Z", "SignatureVersion": "1",
                    "Signature": "x", "SigningCertUrl": "https://sns", "UnsubscribeUrl": "https://sns",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn the_second_completion_sends_the_report_once() {
    let w = World::new().await;
    let detected = sns(&[PipelineEvent::AnomaliesDetected { as_of: w.day }]);
    // What Lambda hands the report for forecast's completion (events/report/, for sam local).
    let forecasted: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../events/report/sns-forecasts-updated.json"
    ))
    .unwrap();

    let first = w.invoke(detected.clone()).await.unwrap();
    assert_eq!(first.skipped.as_deref(), Some("waiting for the other step"));
    assert!(w.reports().is_empty());

    let second = w.invoke(forecasted.clone()).await.unwrap();
    assert_eq!(second.as_of, Some(w.day));
    assert!(second.missing.is_empty());
    assert_eq!(second.archived.len(), 3);
    let sent = w.reports();
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].summary.contains("Incomplete"),
        "{}",
        sent[0].summary
    );

    // Duplicate deliveries of either completion, and the fallback schedule later: nothing more.
    for again in [detected, forecasted, json!({"period": "daily"})] {
        let summary = w.invoke(again).await.unwrap();
        assert!(summary.skipped.unwrap().contains("already reported"));
    }
    assert_eq!(w.reports().len(), 1);
}

#[tokio::test]
async fn both_completions_in_one_invocation_send_one_report() {
    let w = World::new().await;
    let both = sns(&[
        PipelineEvent::ForecastsUpdated { as_of: w.day },
        PipelineEvent::AnomaliesDetected { as_of: w.day },
    ]);
    let summary = w.invoke(both).await.unwrap();
    assert_eq!(summary.as_of, Some(w.day));
    assert_eq!(w.reports().len(), 1);
}

#[tokio::test]
async fn the_fallback_reports_what_it_has_and_names_the_missing_step() {
    let w = World::new().await;
    // forecast finished, detect never did.
    w.invoke(sns(&[PipelineEvent::ForecastsUpdated { as_of: w.day }]))
        .await
        .unwrap();
    let summary = w.invoke(json!({"period": "daily"})).await.unwrap();
    assert_eq!(summary.as_of, Some(w.day));
    assert_eq!(summary.missing, vec![Step::Detect]);
    let sent = w.reports();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .summary
            .starts_with("Incomplete: anomaly detection did not finish for 2026-11-21"),
        "{}",
        sent[0].summary
    );
    let html = w
        .store
        .lake
        .get(summary.html.as_ref().unwrap())
        .await
        .unwrap();
    let html = String::from_utf8(html.unwrap()).unwrap();
    assert!(
        html.contains("anomaly detection did not finish"),
        "the page says so too"
    );

    // detect finishing late completes the day but does not send a second report.
    let late = w
        .invoke(sns(&[PipelineEvent::AnomaliesDetected { as_of: w.day }]))
        .await
        .unwrap();
    assert_eq!(late.skipped.as_deref(), Some("already reported"));
    assert_eq!(w.reports().len(), 1);
}

#[tokio::test]
async fn the_weekly_schedule_and_a_rerun_always_report() {
    let w = World::new().await;
    let weekly = w.invoke(json!({"period": "weekly"})).await.unwrap();
    assert_eq!(weekly.missing, vec![Step::Detect, Step::Forecast]);
    assert!(weekly.envelope.is_some());
    // A re-run names its day: it is sent every time (the same envelope id each time).
    let rerun = json!({"period": "daily", "as_of": w.day.to_string()});
    let first = w.invoke(rerun.clone()).await.unwrap();
    let second = w.invoke(rerun).await.unwrap();
    assert!(first.envelope.is_some() && first.skipped.is_none());
    assert_eq!(second.envelope, first.envelope);
    assert_eq!(w.reports().len(), 2);
}

#[tokio::test]
async fn other_pipeline_events_are_malformed_here() {
    let w = World::new().await;
    let err = w
        .invoke(sns(&[PipelineEvent::AggregatesUpdated {
            days: vec![w.day],
            as_of: w.day,
        }]))
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("AggregatesUpdated"), "{err}");
    let err = w.invoke(json!({"period": "monthly"})).await.unwrap_err();
    assert!(err.to_string().contains("period"), "{err}");
}
