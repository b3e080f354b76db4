//! The anomaly lifecycle over the ports, on hand-built rollups: one open, updates under the same
//! id, exactly one resolve; feedback and snooze keep quiet what they cover and nothing more.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use costwatch_core::{DailyCost, Money, Notification, Scope, State};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::detect::{DetectPorts, detect};
use costwatch_pipeline::feedback::{Verdict, give_feedback, snooze};
use std::sync::atomic::{AtomicUsize, Ordering};

use costwatch_store::{MemoryStore, RollupRow, RollupStore, StateStore, StoreError, Versioned};

/// Days counted from 90 days ago: feedback expires by the store's (wall) clock.
fn day(i: u64) -> NaiveDate {
    Utc::now().date_naive() - Days::new(90) + Days::new(i)
}

fn at(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(7, 0, 0).unwrap())
}

fn scope(service: &str) -> Scope {
    Scope::AccountService {
        account: "111122223333".into(),
        service: service.into(),
    }
}

/// `days` days of ~$1000 usage on each scope, with `extra(scope index, day)` added.
async fn store_with(days: u64, extra: impl Fn(usize, u64) -> f64) -> MemoryStore {
    let store = MemoryStore::default();
    restate(&store, 0..days, extra).await;
    store
}

/// The days `days` as the cost source reports them now, with `extra(scope index, day)` added:
/// written over what the store had for them, as collection restates a day.
async fn restate(
    store: &MemoryStore,
    days: std::ops::Range<u64>,
    extra: impl Fn(usize, u64) -> f64,
) {
    let scopes = [scope("Amazon EC2"), scope("Amazon S3")];
    let mut rows = Vec::new();
    for i in days.clone() {
        for (k, s) in scopes.iter().enumerate() {
            let noise = ((i * 37 + k as u64 * 11) % 13) as f64 * 3.0;
            let usage = 1000.0 + noise + extra(k, i);
            rows.push(RollupRow {
                scope: s.clone(),
                day: day(i),
                cost: DailyCost {
                    usage: Money::from_f64_retain(usage).unwrap().round_dp(2),
                    ..Default::default()
                },
            });
        }
    }
    let all: Vec<NaiveDate> = days.map(day).collect();
    store.rollups.replace_days(&all, &rows).await.unwrap();
}

/// Runs detection for days `from..to`, returning the anomaly envelopes of each scope.
async fn run(store: &MemoryStore, from: u64, to: u64) -> Vec<Notification> {
    run_with(store, &PipelineConfig::default(), from, to).await
}

/// As [`run`], with `cfg`.
async fn run_with(
    store: &MemoryStore,
    cfg: &PipelineConfig,
    from: u64,
    to: u64,
) -> Vec<Notification> {
    let ports = DetectPorts {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
        resources: None,
    };
    let mut out = Vec::new();
    for i in from..to {
        let names = Default::default();
        out.extend(
            detect(&ports, cfg, &names, day(i), at(day(i)))
                .await
                .unwrap(),
        );
    }
    out
}

fn on(envelopes: &[Notification], service: &str) -> Vec<(State, u32)> {
    envelopes
        .iter()
        .filter(|n| n.scope.key == scope(service).key())
        .map(|n| (n.state, n.revision))
        .collect()
}

#[tokio::test]
async fn a_spike_opens_updates_and_resolves_exactly_once() {
    // EC2 triples on days 40 and 41.
    let store = store_with(60, |k, i| {
        if k == 0 && (40..42).contains(&i) {
            2000.0
        } else {
            0.0
        }
    })
    .await;
    let sent = run(&store, 30, 60).await;
    let ec2 = on(&sent, "Amazon EC2");
    assert_eq!(
        ec2,
        vec![(State::Open, 0), (State::Ongoing, 1), (State::Resolved, 2)],
        "one open, one update, one resolve"
    );
    let subjects: std::collections::BTreeSet<&str> =
        sent.iter().map(|n| n.subject_id.as_str()).collect();
    assert_eq!(subjects.len(), 1, "one id through the whole life");
    assert!(on(&sent, "Amazon S3").is_empty());
    // Re-running a day already handled publishes nothing.
    assert!(run(&store, 59, 60).await.is_empty());
}

/// Cost Explorer revises a day after detection judged it: each run looks again at the days
/// before the one it judges, so a one-day spike that only a revision shows opens once, as that
/// day's anomaly, and resolves; an older day, and the days before detection began, are not
/// looked at again.
#[tokio::test]
async fn a_spike_a_revision_reveals_opens_once_as_its_days_anomaly() {
    use costwatch_core::NotificationBody;
    use costwatch_pipeline::detect::SECOND_LOOK;
    let store = store_with(62, |_, _| 0.0).await;
    assert!(run(&store, 45, 56).await.is_empty());
    // Day 54 restated with $2,000 of EC2 usage that arrived late.
    restate(&store, 54..55, |k, _| if k == 0 { 2000.0 } else { 0.0 }).await;
    let sent = run(&store, 56, 57).await;
    assert_eq!(on(&sent, "Amazon EC2"), vec![(State::Open, 0)], "{sent:#?}");
    assert_eq!(sent.len(), 1, "S3 is quiet: {sent:#?}");
    let NotificationBody::Anomaly(figures) = &sent[0].body else {
        panic!("not an anomaly: {:?}", sent[0].body)
    };
    assert_eq!((figures.start_date, figures.date), (day(54), day(54)));
    assert!(figures.impact > Money::from(1900), "{:?}", figures.impact);
    assert!(
        sent[0]
            .summary
            .starts_with(&format!("Spend on {} was ", day(54))),
        "{}",
        sent[0].summary
    );
    assert!(
        sent[0].summary.ends_with(SECOND_LOOK),
        "{}",
        sent[0].summary
    );
    assert!(run(&store, 56, 57).await.is_empty(), "the same run again");
    // Days 55 and 56 were in band, 57 is the third: resolved, under the same subject.
    let next = run(&store, 57, 58).await;
    assert_eq!(on(&next, "Amazon EC2"), vec![(State::Resolved, 1)]);
    assert_eq!(next[0].subject_id, sent[0].subject_id);
    assert!(
        !next[0].summary.contains(SECOND_LOOK),
        "{}",
        next[0].summary
    );
    assert!(run(&store, 58, 59).await.is_empty(), "told once");

    // Three days before the run: past the days Cost Explorer revises.
    restate(&store, 56..57, |k, _| if k == 0 { 2000.0 } else { 0.0 }).await;
    assert!(run(&store, 59, 60).await.is_empty());

    // A spike on the day before detection first ran is not news to look again at.
    let fresh = store_with(62, |k, i| if k == 0 && i == 54 { 2000.0 } else { 0.0 }).await;
    assert!(run(&fresh, 55, 58).await.is_empty());
}

/// Collection set to restate more days (`collect.restate_days`, which the CLI passes on as
/// `recheck_days`): detection looks again at as many, so a late charge four days back opens as
/// that day's anomaly, where the default three days do not reach it.
#[tokio::test]
async fn detection_looks_again_at_the_days_collection_restates() {
    let late_charge = |k: usize, _| if k == 0 { 2000.0 } else { 0.0 };
    let wider = PipelineConfig {
        recheck_days: 5,
        ..PipelineConfig::default()
    };
    for (cfg, opens) in [(PipelineConfig::default(), false), (wider, true)] {
        let store = store_with(62, |_, _| 0.0).await;
        assert!(run_with(&store, &cfg, 45, 56).await.is_empty());
        // Day 52, four days before the run for day 56, restated with late EC2 usage.
        restate(&store, 52..53, late_charge).await;
        let sent = run_with(&store, &cfg, 56, 57).await;
        if !opens {
            assert!(sent.is_empty(), "{sent:#?}");
            continue;
        }
        assert_eq!(on(&sent, "Amazon EC2"), vec![(State::Open, 0)], "{sent:#?}");
        assert_eq!(sent.len(), 1, "S3 is quiet: {sent:#?}");
        let costwatch_core::NotificationBody::Anomaly(figures) = &sent[0].body else {
            panic!("not an anomaly: {:?}", sent[0].body)
        };
        assert_eq!((figures.start_date, figures.date), (day(52), day(52)));
    }
}

/// An open anomaly's day revised up after it was announced: its figures follow the revision,
/// and an update goes out when the revision raises its severity (a spike first reported at a
/// twentieth of its size is told at its real size); a revision within the same grade updates the
/// figures quietly, and the resolve carries them.
#[tokio::test]
async fn a_revision_that_raises_an_open_spikes_severity_is_announced() {
    use costwatch_core::notification::Severity;
    use costwatch_core::{Notification, NotificationBody};
    use costwatch_pipeline::detect::REVISED_UP;
    let impact = |n: &Notification| match &n.body {
        NotificationBody::Anomaly(figures) => (figures.date, figures.impact),
        other => panic!("not an anomaly: {other:?}"),
    };
    let store = store_with(62, |k, i| if k == 0 && i == 54 { 300.0 } else { 0.0 }).await;
    let sent = run(&store, 45, 55).await;
    assert_eq!(on(&sent, "Amazon EC2"), vec![(State::Open, 0)], "{sent:#?}");
    assert_eq!(sent[0].severity, Severity::Medium);

    // The day restated with $6,000 more EC2 than first reported.
    restate(&store, 54..55, |k, _| if k == 0 { 6000.0 } else { 0.0 }).await;
    let update = run(&store, 55, 56).await;
    assert_eq!(on(&update, "Amazon EC2"), vec![(State::Ongoing, 1)]);
    assert_eq!(update[0].subject_id, sent[0].subject_id);
    assert_eq!(update[0].severity, Severity::Critical);
    let (date, revised) = impact(&update[0]);
    assert_eq!(date, day(54));
    assert!(revised > Money::from(5900), "{revised}");
    assert!(
        update[0].summary.ends_with(REVISED_UP),
        "{}",
        update[0].summary
    );
    assert!(run(&store, 55, 56).await.is_empty(), "the same run again");

    // Revised again within the grade: nothing is sent until the resolve, which carries it.
    restate(&store, 54..55, |k, _| if k == 0 { 6500.0 } else { 0.0 }).await;
    let rest = run(&store, 56, 58).await;
    assert_eq!(on(&rest, "Amazon EC2"), vec![(State::Resolved, 2)]);
    let (_, settled) = impact(&rest[0]);
    assert!(
        settled > revised + Money::from(400),
        "{settled} after {revised}"
    );
}

/// A one-day spike that Cost Explorer revises away (usage first reported twice, say): the
/// anomaly resolves on the first run that sees the settled day, not `resolve_after_days` later,
/// under the same id, with the settled figures and a summary that says why. A revision that
/// leaves the day out of its band only updates the figures.
#[tokio::test]
async fn a_spike_revised_back_into_its_band_resolves_on_the_next_run() {
    use costwatch_core::NotificationBody;
    use costwatch_pipeline::detect::REVISED_AWAY;
    let store = store_with(62, |k, i| if k == 0 && i == 54 { 2000.0 } else { 0.0 }).await;
    let sent = run(&store, 45, 55).await;
    assert_eq!(on(&sent, "Amazon EC2"), vec![(State::Open, 0)], "{sent:#?}");

    // Restated lower, still far out of its band: no news.
    restate(&store, 54..55, |k, _| if k == 0 { 1200.0 } else { 0.0 }).await;
    assert!(run(&store, 55, 56).await.is_empty());

    // Settled at its usual level: taken back at once.
    restate(&store, 54..55, |_, _| 0.0).await;
    let next = run(&store, 56, 57).await;
    assert_eq!(
        on(&next, "Amazon EC2"),
        vec![(State::Resolved, 1)],
        "{next:#?}"
    );
    assert_eq!(next[0].subject_id, sent[0].subject_id);
    assert!(
        next[0].summary.ends_with(REVISED_AWAY),
        "{}",
        next[0].summary
    );
    let NotificationBody::Anomaly(settled) = &next[0].body else {
        panic!("not an anomaly: {:?}", next[0].body)
    };
    assert_eq!(settled.date, day(54));
    assert!(
        settled.actual < Money::from(1100) && settled.impact < Money::from(100),
        "the settled day: {settled:?}"
    );
    assert!(run(&store, 57, 62).await.is_empty(), "told once");
}

/// A day a revision took back that Cost Explorer then revises out of its band again is told of
/// again, as a new subject: the first was resolved in every integration (its ticket closed).
#[tokio::test]
async fn a_day_taken_back_and_revised_up_again_opens_anew() {
    use costwatch_pipeline::detect::{REVISED_AWAY, SECOND_LOOK};
    let spike = |k: usize, i: u64| if k == 0 && i == 54 { 2000.0 } else { 0.0 };
    let store = store_with(62, spike).await;
    let sent = run(&store, 45, 55).await;
    assert_eq!(on(&sent, "Amazon EC2"), vec![(State::Open, 0)], "{sent:#?}");
    restate(&store, 54..55, |_, _| 0.0).await;
    let back = run(&store, 55, 56).await;
    assert_eq!(on(&back, "Amazon EC2"), vec![(State::Resolved, 1)]);
    assert!(back[0].summary.ends_with(REVISED_AWAY));

    restate(&store, 54..55, |k, _| spike(k, 54)).await;
    let again = run(&store, 56, 57).await;
    assert_eq!(
        on(&again, "Amazon EC2"),
        vec![(State::Open, 0)],
        "{again:#?}"
    );
    assert_ne!(again[0].subject_id, sent[0].subject_id);
    assert!(
        again[0].summary.ends_with(SECOND_LOOK),
        "{}",
        again[0].summary
    );
    // Its in-band days since count, as for any day found on a second look; told once.
    let rest = run(&store, 57, 62).await;
    assert_eq!(
        on(&rest, "Amazon EC2"),
        vec![(State::Resolved, 1)],
        "{rest:#?}"
    );
    assert_eq!(rest[0].subject_id, again[0].subject_id);
}

/// A two-day spike whose second day Cost Explorer revises into its band ends on its first: the
/// open anomaly takes that day's figures (not the settled day's, which say nothing was wrong)
/// and resolves three in-band days after it, a day sooner. Both days revised away take it back
/// at once.
#[tokio::test]
async fn a_run_whose_last_day_settles_ends_on_the_day_before() {
    use costwatch_core::NotificationBody;
    use costwatch_pipeline::detect::REVISED_AWAY;
    let figures = |n: &Notification| match &n.body {
        NotificationBody::Anomaly(figures) => figures.clone(),
        other => panic!("not an anomaly: {other:?}"),
    };
    let two_days = |k: usize, i: u64| {
        if k == 0 && (53..55).contains(&i) {
            2000.0
        } else {
            0.0
        }
    };

    let store = store_with(62, two_days).await;
    let sent = run(&store, 45, 55).await;
    assert_eq!(
        on(&sent, "Amazon EC2"),
        vec![(State::Open, 0), (State::Ongoing, 1)],
        "{sent:#?}"
    );
    restate(&store, 54..55, |_, _| 0.0).await;
    assert!(run(&store, 55, 56).await.is_empty(), "two days in band");
    let resolved = run(&store, 56, 57).await;
    assert_eq!(on(&resolved, "Amazon EC2"), vec![(State::Resolved, 2)]);
    assert_eq!(resolved[0].subject_id, sent[0].subject_id);
    let settled = figures(&resolved[0]);
    assert_eq!((settled.start_date, settled.date), (day(53), day(53)));
    assert!(settled.impact > Money::from(1900), "{settled:?}");
    assert!(!resolved[0].summary.contains(REVISED_AWAY));

    let store = store_with(62, two_days).await;
    run(&store, 45, 55).await;
    restate(&store, 53..55, |_, _| 0.0).await;
    let next = run(&store, 55, 56).await;
    assert_eq!(
        on(&next, "Amazon EC2"),
        vec![(State::Resolved, 2)],
        "{next:#?}"
    );
    assert!(
        next[0].summary.ends_with(REVISED_AWAY),
        "{}",
        next[0].summary
    );
    assert!(figures(&next[0]).impact < Money::from(100));
}

/// A run longer than the days looked at again, whose re-checked days all settle, ends on its
/// latest day before them (which stands as judged, its costs not restated), with that day's
/// figures; the settled days count toward its resolve.
#[tokio::test]
async fn a_longer_run_whose_rechecked_days_settle_ends_before_them() {
    use costwatch_core::NotificationBody;
    use costwatch_pipeline::detect::REVISED_AWAY;
    let four_days = |k: usize, i: u64| {
        if k == 0 && (51..55).contains(&i) {
            2000.0
        } else {
            0.0
        }
    };
    let store = store_with(62, four_days).await;
    let sent = run(&store, 45, 55).await;
    assert_eq!(on(&sent, "Amazon EC2").first(), Some(&(State::Open, 0)));
    // Days 53 and 54 are the ones looked at again on day 55: both settle.
    restate(&store, 53..55, |_, _| 0.0).await;
    let resolved = run(&store, 55, 56).await;
    assert_eq!(
        on(&resolved, "Amazon EC2"),
        vec![(State::Resolved, 4)],
        "{resolved:#?}"
    );
    assert_eq!(resolved[0].subject_id, sent[0].subject_id);
    assert!(!resolved[0].summary.contains(REVISED_AWAY));
    let NotificationBody::Anomaly(settled) = &resolved[0].body else {
        panic!("not an anomaly: {:?}", resolved[0].body)
    };
    assert_eq!((settled.start_date, settled.date), (day(51), day(52)));
    assert!(settled.impact > Money::from(1900), "{settled:?}");
    assert!(run(&store, 56, 62).await.is_empty(), "told once");
}

#[tokio::test]
async fn a_level_shift_alerts_once_then_is_the_new_normal() {
    let store = store_with(80, |k, i| if k == 0 && i >= 40 { 800.0 } else { 0.0 }).await;
    let sent = run(&store, 30, 80).await;
    let ec2 = on(&sent, "Amazon EC2");
    assert_eq!(
        ec2.iter().filter(|(s, _)| *s == State::Open).count(),
        1,
        "{ec2:?}"
    );
    assert_eq!(
        ec2.last().map(|(s, _)| *s),
        Some(State::Resolved),
        "{ec2:?}"
    );
}

#[tokio::test]
async fn feedback_closes_the_anomaly_and_quiets_its_pattern_only() {
    // EC2: +2000 on days 40–41 (judged "not an anomaly"), +1500 on 50 (same pattern), +6000 on
    // 56 (three times larger: not the same pattern). S3: +2000 on 50.
    let store = store_with(62, |k, i| match (k, i) {
        (0, 40 | 41) => 2000.0,
        (0, 50) => 1500.0,
        (0, 56) => 6000.0,
        (1, 50) => 2000.0,
        _ => 0.0,
    })
    .await;
    let opened = run(&store, 30, 41).await;
    let subject = opened[0].subject_id.clone();
    assert_eq!(on(&opened, "Amazon EC2"), vec![(State::Open, 0)]);
    give_feedback(&store.state, &subject, Verdict::NotAnomaly, at(day(40)))
        .await
        .unwrap();
    let later = run(&store, 41, 62).await;
    let ec2: Vec<&Notification> = later
        .iter()
        .filter(|n| n.scope.key == scope("Amazon EC2").key())
        .collect();
    assert_eq!(ec2[0].subject_id, subject);
    assert_eq!(
        ec2[0].state,
        State::Resolved,
        "feedback closes it with one resolve"
    );
    assert_eq!(
        ec2.iter().filter(|n| n.state == State::Open).count(),
        1,
        "day 50 (same pattern) stays quiet, day 56 (larger) alerts: {:?}",
        ec2.iter().map(|n| (&n.title, n.state)).collect::<Vec<_>>()
    );
    let opened_again = ec2.iter().find(|n| n.state == State::Open).unwrap();
    let costwatch_core::NotificationBody::Anomaly(fig) = &opened_again.body else {
        panic!("not an anomaly")
    };
    assert!(
        fig.impact > Money::from(4000),
        "the larger move: {}",
        opened_again.title
    );
    assert_eq!(
        on(&later, "Amazon S3").first(),
        Some(&(State::Open, 0)),
        "other scopes alert"
    );
}

#[tokio::test]
async fn snooze_quiets_a_scope_until_its_date_and_nothing_else() {
    // EC2 +2000 on days 40–43 and again on 52; S3 +2000 on 42.
    let store = store_with(60, |k, i| match (k, i) {
        (0, 40..=43) | (0, 52) => 2000.0,
        (1, 42) => 2000.0,
        _ => 0.0,
    })
    .await;
    let opened = run(&store, 30, 41).await;
    let subject = opened[0].subject_id.clone();
    snooze(&store.state, &subject, day(47), day(40))
        .await
        .unwrap();
    let later = run(&store, 41, 60).await;
    let ec2 = on(&later, "Amazon EC2");
    assert_eq!(
        ec2,
        vec![(State::Resolved, 4), (State::Open, 0), (State::Resolved, 1)],
        "no updates while snoozed; the resolve closes the posted message; day 52 alerts again"
    );
    assert_eq!(on(&later, "Amazon S3").first(), Some(&(State::Open, 0)));
    assert!(
        snooze(&store.state, &subject, day(1), day(40))
            .await
            .is_err(),
        "past date"
    );
}

#[tokio::test]
async fn imported_aws_findings_merge_under_our_ids() {
    use costwatch_core::findings::{Anomaly, Direction};
    use costwatch_pipeline::detect::detect_merged;
    use costwatch_store::ImportedAnomaly;

    let store = store_with(45, |k, i| if k == 0 && i == 40 { 2000.0 } else { 0.0 }).await;
    run(&store, 30, 40).await;
    let imported = |service: &str, id: &str| ImportedAnomaly {
        source_id: id.into(),
        anomaly: Anomaly {
            scope: scope(service),
            start_date: day(40),
            date: day(40),
            direction: Direction::Rise,
            actual: Money::from(3000),
            expected: Money::from(1000),
            lower: Money::ZERO,
            upper: Money::from(1000),
            impact: Money::from(2000),
            impact_pct: Some(200.0),
            score: 0.9,
            root_causes: Vec::new(),
            resources: Vec::new(),
        },
    };
    let ports = DetectPorts {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
        resources: None,
    };
    let aws = [
        imported("Amazon EC2", "aws-ec2"),
        imported("Amazon S3", "aws-s3"),
    ];
    let names = Default::default();
    let cfg = PipelineConfig::default();
    let sent = detect_merged(&ports, &cfg, &names, day(40), at(day(40)), &aws)
        .await
        .unwrap();
    assert_eq!(
        on(&sent, "Amazon EC2"),
        vec![(State::Open, 0)],
        "both saw it: one alert"
    );
    assert_eq!(
        on(&sent, "Amazon S3"),
        vec![(State::Open, 0)],
        "only AWS saw it"
    );
    let ec2 = sent
        .iter()
        .find(|n| n.scope.key == scope("Amazon EC2").key())
        .unwrap();
    assert_eq!(
        ec2.subject_id,
        costwatch_core::envelopes::anomaly_subject(&scope("Amazon EC2"), day(40)),
        "the id ours would have had"
    );

    // S3's day, looked at again, is in our band, as it always was: AWS's finding is neither
    // rewritten with our figures nor taken back, and resolves on its in-band days.
    let later = run(&store, 41, 45).await;
    assert_eq!(
        on(&later, "Amazon S3"),
        vec![(State::Resolved, 1)],
        "{later:#?}"
    );
    let s3 = later
        .iter()
        .find(|n| n.scope.key == scope("Amazon S3").key())
        .unwrap();
    assert_eq!(s3.created_at, at(day(43)), "resolve_after_days in band");
    let costwatch_core::NotificationBody::Anomaly(figures) = &s3.body else {
        panic!("not an anomaly: {:?}", s3.body)
    };
    assert_eq!(figures.actual, Money::from(3000), "AWS's figures");
}

/// AWS's feedback API as a port: what was sent, in order.
#[derive(Default)]
struct SentToAws(std::sync::Mutex<Vec<(String, costwatch_store::AwsVerdict)>>);

#[async_trait::async_trait]
impl costwatch_store::AnomalyFeedbackSink for SentToAws {
    async fn provide_feedback(
        &self,
        anomaly_id: &str,
        verdict: costwatch_store::AwsVerdict,
    ) -> Result<(), costwatch_store::StoreError> {
        self.0
            .lock()
            .unwrap()
            .push((anomaly_id.to_owned(), verdict));
        Ok(())
    }
}

#[tokio::test]
async fn an_acknowledgement_is_announced_once_and_later_updates_keep_it() {
    use costwatch_pipeline::actions::{Action, ActionPorts, apply};
    // EC2 +2000 on days 40–43.
    let store = store_with(60, |k, i| {
        if k == 0 && (40..44).contains(&i) {
            2000.0
        } else {
            0.0
        }
    })
    .await;
    let opened = run(&store, 30, 41).await;
    let subject = opened[0].subject_id.clone();
    let ports = ActionPorts {
        state: &store.state,
        bus: &store.bus,
        aws: None,
    };
    let by = Some("@ana in Slack".to_owned());
    let first = apply(
        &ports,
        &subject,
        &Action::Acknowledge,
        by.clone(),
        at(day(40)),
    )
    .await
    .unwrap();
    let n = first.announced.expect("the acknowledgement is announced");
    assert_eq!(
        (n.state, n.revision, n.subject_id.as_str()),
        (State::Acknowledged, 1, subject.as_str())
    );
    assert!(
        n.summary.starts_with("Acknowledged by @ana in Slack."),
        "{}",
        n.summary
    );
    // A second click (or a retried request) changes nothing and sends nothing.
    let again = apply(&ports, &subject, &Action::Acknowledge, by, at(day(40)))
        .await
        .unwrap();
    assert!(again.announced.is_none());
    let snoozed = apply(
        &ports,
        &subject,
        &Action::Snooze(day(41)),
        None,
        at(day(40)),
    )
    .await
    .unwrap();
    assert!(
        snoozed.announced.is_none(),
        "already in hand: no second envelope"
    );
    let on_bus = on(&store.bus.published(), "Amazon EC2");
    assert_eq!(on_bus, vec![(State::Open, 0), (State::Acknowledged, 1)]);
    // Detection carries on: after the snooze, updates stay `acknowledged` until the resolve.
    let later = on(&run(&store, 41, 60).await, "Amazon EC2");
    assert_eq!(
        later.last().map(|(s, _)| *s),
        Some(State::Resolved),
        "{later:?}"
    );
    assert!(
        later[..later.len() - 1]
            .iter()
            .all(|(s, _)| *s == State::Acknowledged),
        "{later:?}"
    );
    let revisions: Vec<u32> = later.iter().map(|(_, r)| *r).collect();
    assert!(
        revisions.windows(2).all(|w| w[0] < w[1]) && revisions[0] > 1,
        "{revisions:?}"
    );
}

#[tokio::test]
async fn feedback_resolves_at_once_reaches_aws_and_the_next_run_stays_quiet() {
    use costwatch_core::findings::{Anomaly, Direction};
    use costwatch_pipeline::actions::{Action, ActionPorts, apply};
    use costwatch_pipeline::detect::detect_merged;
    use costwatch_store::{AwsVerdict, ImportedAnomaly};

    let store = store_with(50, |k, i| {
        if k == 0 && (40..43).contains(&i) {
            2000.0
        } else {
            0.0
        }
    })
    .await;
    run(&store, 30, 40).await;
    let aws = [ImportedAnomaly {
        source_id: "aws-ec2-1".into(),
        anomaly: Anomaly {
            scope: scope("Amazon EC2"),
            start_date: day(40),
            date: day(40),
            direction: Direction::Rise,
            actual: Money::from(3000),
            expected: Money::from(1000),
            lower: Money::ZERO,
            upper: Money::from(1000),
            impact: Money::from(2000),
            impact_pct: Some(200.0),
            score: 0.9,
            root_causes: Vec::new(),
            resources: Vec::new(),
        },
    }];
    let detect_ports = DetectPorts {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
        resources: None,
    };
    let cfg = PipelineConfig::default();
    let names = Default::default();
    let sent = detect_merged(&detect_ports, &cfg, &names, day(40), at(day(40)), &aws)
        .await
        .unwrap();
    let subject = sent[0].subject_id.clone();
    let aws_sink = SentToAws::default();
    let ports = ActionPorts {
        state: &store.state,
        bus: &store.bus,
        aws: Some(&aws_sink),
    };
    let verdict = Action::Feedback(Verdict::Expected);
    let done = apply(
        &ports,
        &subject,
        &verdict,
        Some("ana@example.com".into()),
        at(day(40)),
    )
    .await
    .unwrap();
    let n = done
        .announced
        .expect("the resolve goes out now, not at the next run");
    assert_eq!((n.state, n.revision), (State::Resolved, 1));
    assert!(
        n.summary.starts_with("Marked expected by ana@example.com;"),
        "{}",
        n.summary
    );
    assert_eq!(
        *aws_sink.0.lock().unwrap(),
        vec![("aws-ec2-1".to_owned(), AwsVerdict::PlannedActivity)],
        "AWS hears the verdict on its own anomaly"
    );
    assert!(
        on(&run(&store, 41, 50).await, "Amazon EC2").is_empty(),
        "the same incident on the next days: nothing more"
    );
}

/// The state store, counting the lifecycles detection reads one at a time.
struct CountingState<'a> {
    inner: &'a dyn StateStore,
    gets: AtomicUsize,
}

#[async_trait::async_trait]
impl StateStore for CountingState<'_> {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        if key.starts_with("anomaly/") {
            self.gets.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        self.inner.put(key, value, expected, expires_at).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>, StoreError> {
        self.inner.list(prefix).await
    }
}

#[tokio::test]
async fn a_quiet_scope_costs_no_lifecycle_read() {
    // EC2 triples on day 40; S3 stays quiet throughout.
    let store = store_with(45, |k, i| if k == 0 && i == 40 { 2000.0 } else { 0.0 }).await;
    let state = CountingState {
        inner: &store.state,
        gets: AtomicUsize::new(0),
    };
    let ports = DetectPorts {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &state,
        bus: &store.bus,
        resources: None,
    };
    let (cfg, names) = (PipelineConfig::default(), Default::default());
    let mut sent = Vec::new();
    let mut gets = Vec::new();
    for i in 38..43 {
        sent.extend(
            detect(&ports, &cfg, &names, day(i), at(day(i)))
                .await
                .unwrap(),
        );
        gets.push(state.gets.swap(0, Ordering::Relaxed));
    }
    assert_eq!(on(&sent, "Amazon EC2"), vec![(State::Open, 0)]);
    assert_eq!(gets[..2], [0, 0], "quiet days read no lifecycle: {gets:?}");
    assert!(
        gets[2..].iter().all(|g| *g >= 1),
        "from the spike on, EC2's lifecycle is read each day: {gets:?}"
    );
}
