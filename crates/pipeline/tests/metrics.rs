//! The metrics step over the in-memory ports: incremental pulls into the lake with a ledger, the
//! stream detector on the stored series, and the anomaly lifecycle (one open, one resolve) with
//! the metric named in envelopes that pass the published schema.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_core::metric::MetricId;
use costwatch_core::{Notification, NotificationBody, ScopeKind, State};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::detect::LifecyclePorts;
use costwatch_pipeline::metrics::{
    LEDGER_MONTH_PREFIX, LEDGER_RUN_PREFIX, MetricsPorts, MetricsSettings, run,
};
use costwatch_store::memory::MemoryMetricSource;
use costwatch_store::{
    ManualClock, MemoryStore, MetricPoint, MetricQuery, MetricStore, StateStore,
};

fn cpu(instance: &str) -> MetricQuery {
    MetricQuery {
        metric: MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", instance)]),
        stat: "Average".into(),
        period_secs: 300,
    }
}

/// 2026-03-01T00:00Z.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_323_200, 0).expect("time")
}

/// A store whose expiry is judged at `t0`: on the system clock the ledger's 400-day run
/// items, written in March 2026, would expire in April 2027 and fail these tests from then on.
fn store() -> MemoryStore {
    MemoryStore::with_clock(Arc::new(ManualClock::new(t0())))
}

/// Points every 5 minutes from `t0`, `n` of them, value `f(i)`.
fn points(n: usize, f: impl Fn(usize) -> f64) -> Vec<MetricPoint> {
    (0..n)
        .map(|i| MetricPoint {
            time: t0() + Duration::minutes(5 * i as i64),
            value: f(i),
        })
        .collect()
}

/// A repeating shape: after its first cycle no value is new.
fn steady(i: usize) -> f64 {
    20.0 + 5.0 * ((i % 12) as f64 - 6.0).abs()
}

fn settings() -> MetricsSettings {
    MetricsSettings {
        watch: vec![cpu("i-spiky"), cpu("i-steady")],
        backfill_hours: 24,
        ..MetricsSettings::default()
    }
}

async fn run_at(store: &MemoryStore, source: &MemoryMetricSource, now: DateTime<Utc>) -> usize {
    let ports = MetricsPorts {
        source,
        store: &store.lake,
        lifecycle: LifecyclePorts {
            lake: None,
            state: &store.state,
            bus: &store.bus,
            resources: None,
        },
    };
    let outcome = run(&ports, &PipelineConfig::default(), &settings(), now)
        .await
        .expect("metrics run");
    outcome.published.len()
}

fn metric_envelopes(store: &MemoryStore) -> Vec<Notification> {
    store.bus.published()
}

fn validate(n: &Notification) {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../schemas/notification.v1.json"))
            .expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let json = serde_json::to_value(n).expect("json");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{json:#}");
}

#[tokio::test]
async fn a_spike_opens_one_anomaly_naming_the_metric_and_a_steady_series_none() {
    let store = store();
    let source = MemoryMetricSource::new();
    // 20 hours of shape, then three points at ~95 %, on the spiky instance only.
    source.insert(
        &cpu("i-spiky"),
        &points(243, |i| {
            if i >= 240 {
                95.0 + i as f64 - 240.0
            } else {
                steady(i)
            }
        }),
    );
    source.insert(&cpu("i-steady"), &points(243, steady));
    let now = t0() + Duration::minutes(5 * 243);
    assert_eq!(run_at(&store, &source, now).await, 1);
    let sent = metric_envelopes(&store);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let n = &sent[0];
    assert_eq!(n.state, State::Open);
    assert_eq!(n.scope.kind, ScopeKind::Metric);
    assert_eq!(n.scope.metric.as_ref(), Some(&cpu("i-spiky").metric));
    assert!(n.title.contains("CPUUtilization"), "{}", n.title);
    assert!(n.summary.contains("InstanceId=i-spiky"), "{}", n.summary);
    validate(n);

    // The lake holds both series, readable by range for the recommender.
    let stored = store
        .lake
        .metric_series(&cpu("i-steady"), t0(), now)
        .await
        .expect("read");
    assert_eq!(stored.len(), 243);

    // The same run again: nothing new to pull past the overlap, nothing new to say.
    assert_eq!(run_at(&store, &source, now).await, 0);
    assert_eq!(metric_envelopes(&store).len(), 1);
}

/// The shape of the CI run that met the testkit's spike at 01:27Z: high points either side of
/// midnight, judged by one run, are one envelope that starts on the first day (not an open and
/// an update at once).
#[tokio::test]
async fn a_spike_across_midnight_is_one_envelope() {
    let store = store();
    let source = MemoryMetricSource::new();
    // Point 288 is 2026-03-02 00:00: two high points on the 1st, one on the 2nd.
    let spiky = |i: usize| {
        if (286..289).contains(&i) {
            97.0
        } else {
            steady(i)
        }
    };
    source.insert(&cpu("i-spiky"), &points(300, spiky));
    source.insert(&cpu("i-steady"), &points(300, steady));
    let now = t0() + Duration::minutes(5 * 300);
    assert_eq!(run_at(&store, &source, now).await, 1);
    let sent = metric_envelopes(&store);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].state, State::Open);
    let NotificationBody::Anomaly(figures) = &sent[0].body else {
        panic!("an anomaly: {:?}", sent[0]);
    };
    assert_eq!(figures.start_date, t0().date_naive(), "{figures:?}");
    validate(&sent[0]);
}

#[tokio::test]
async fn runs_pull_only_the_window_since_the_last_and_record_the_requests() {
    let store = store();
    let source = MemoryMetricSource::new();
    source.insert(&cpu("i-steady"), &points(300, steady));
    let first = t0() + Duration::hours(20);
    run_at(&store, &source, first).await;
    let progress = store
        .state
        .get("metrics/progress")
        .await
        .expect("get")
        .expect("progress saved");
    assert_eq!(
        progress.value["pulled_until"],
        serde_json::json!(first),
        "{progress:?}"
    );
    let second = first + Duration::hours(1);
    run_at(&store, &source, second).await;
    let runs = store.state.list(LEDGER_RUN_PREFIX).await.expect("ledger");
    assert_eq!(runs.len(), 2);
    let window = &runs[1].1.value["window"];
    // The second run starts 15 minutes (the overlap) before the first one's end.
    assert_eq!(window[0], serde_json::json!(first - Duration::minutes(15)));
    assert_eq!(window[1], serde_json::json!(second));
    assert_eq!(runs[1].1.value["requests"], 1);
    assert_eq!(runs[1].1.value["metrics"], 2);
    let month = store.state.list(LEDGER_MONTH_PREFIX).await.expect("month");
    assert_eq!(month.len(), 1);
    assert_eq!(month[0].1.value["requests"], 2);
    assert_eq!(month[0].1.value["metrics"], 4);
    assert_eq!(month[0].1.value["runs"], 2);
    assert_eq!(month[0].1.value["dollars"], "$0.00004");
}

#[tokio::test]
async fn an_anomaly_resolves_once_after_quiet_days() {
    let store = store();
    let source = MemoryMetricSource::new();
    // Five days: the spike late on day one, the shape ever after.
    let n = 5 * 288;
    source.insert(
        &cpu("i-spiky"),
        &points(n, |i| {
            if (240..243).contains(&i) {
                96.0
            } else {
                steady(i)
            }
        }),
    );
    source.insert(&cpu("i-steady"), &points(n, steady));
    let mut now = t0() + Duration::hours(21);
    while now <= t0() + Duration::days(5) {
        run_at(&store, &source, now).await;
        now += Duration::hours(6);
    }
    let sent = metric_envelopes(&store);
    let states: Vec<State> = sent.iter().map(|n| n.state).collect();
    assert_eq!(states, [State::Open, State::Resolved], "{sent:#?}");
    assert_eq!(sent[0].subject_id, sent[1].subject_id);
    validate(&sent[1]);
}
