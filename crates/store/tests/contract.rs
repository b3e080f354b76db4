//! One behaviour suite per port, run against the memory and the local adapter alike. Each
//! contract takes an `open` function returning a handle; for memory it hands back the same
//! instance, for local it reopens the data directory, so every check after a write also proves
//! the write reached the disk.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use costwatch_core::notification::{ScopeRef, TestFigures};
use costwatch_core::{DailyCost, Money, Notification, NotificationBody, Scope, Severity, State};
use costwatch_store::local::{
    LocalBus, LocalCostSource, LocalLake, LocalRollups, LocalSecrets, LocalState,
};
use costwatch_store::memory::{
    MemoryBus, MemoryCostSource, MemoryLake, MemoryRollups, MemorySecrets, MemoryState,
};
use costwatch_store::{
    Clock, CostSource, LakeReader, LakeWriter, ManualClock, NotificationBus, RollupRow,
    RollupStore, SecretStore, StateStore, StoreError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
}

fn cost(cents: i64) -> DailyCost {
    DailyCost {
        usage: Money::new(cents, 2),
        ..Default::default()
    }
}

fn assert_invalid_key<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::InvalidKey(..))),
        "{what}: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------- lake

async fn lake_contract<L: LakeWriter + LakeReader>(open: impl Fn() -> Arc<L>) {
    let p0 = "curated/daily/dt=2026-01-02/part-0.json";
    let p1 = "curated/daily/dt=2026-01-02/part-1.json";
    let q0 = "curated/daily/dt=2026-01-03/part-0.json";
    let raw = "raw/ce/2026-01-02.json";

    assert_eq!(open().get(p0).await.unwrap(), None);
    assert_eq!(open().list("").await.unwrap(), Vec::<String>::new());

    let lake = open();
    for key in [q0, raw, p1, p0] {
        lake.put(key, key.as_bytes().to_vec()).await.unwrap();
    }
    lake.put(p0, b"second".to_vec()).await.unwrap();
    lake.put("empty", Vec::new()).await.unwrap();

    let lake = open();
    assert_eq!(
        lake.get(p0).await.unwrap().as_deref(),
        Some(&b"second"[..]),
        "put overwrites"
    );
    assert_eq!(lake.get("empty").await.unwrap(), Some(Vec::new()));
    assert_eq!(
        lake.get("curated/daily").await.unwrap(),
        None,
        "a folder is not an object"
    );
    assert_eq!(
        lake.list("").await.unwrap(),
        vec![p0, p1, q0, "empty", raw],
        "recursive, sorted"
    );
    assert_eq!(
        lake.list("curated/daily/dt=2026-01-02/").await.unwrap(),
        vec![p0, p1]
    );
    assert_eq!(
        lake.list("curated/daily/dt=2026-01").await.unwrap(),
        vec![p0, p1, q0],
        "partial segment"
    );
    assert_eq!(
        lake.list("curated/daily/dt=2026-01-02").await.unwrap(),
        vec![p0, p1]
    );
    assert_eq!(lake.list("nothing/").await.unwrap(), Vec::<String>::new());

    lake.delete_prefix("curated/daily/dt=2026-01-02/")
        .await
        .unwrap();
    lake.delete_prefix("curated/daily/dt=2026-01-02/")
        .await
        .unwrap(); // nothing left: still fine
    let lake = open();
    assert_eq!(lake.get(p0).await.unwrap(), None);
    assert_eq!(lake.list("curated/").await.unwrap(), vec![q0]);
    assert_eq!(lake.list("").await.unwrap(), vec![q0, "empty", raw]);
    lake.put(p0, b"again".to_vec()).await.unwrap(); // a deleted partition can be rewritten
    assert_eq!(
        lake.list("curated/daily/dt=2026-01-02/").await.unwrap(),
        vec![p0]
    );

    for key in [
        "", "/abs", "a/../b", "..", "a//b", "a/", "./a", ".hidden", "a\\b",
    ] {
        assert_invalid_key(lake.put(key, Vec::new()).await, &format!("put {key:?}"));
        assert_invalid_key(lake.get(key).await, &format!("get {key:?}"));
    }
    for prefix in ["/", "/abs/", "../", "a//", "a/../"] {
        assert_invalid_key(lake.list(prefix).await, &format!("list {prefix:?}"));
        assert_invalid_key(
            lake.delete_prefix(prefix).await,
            &format!("delete {prefix:?}"),
        );
    }
    assert_invalid_key(lake.delete_prefix("").await, "delete everything");
    assert_eq!(
        open().list("").await.unwrap().len(),
        4,
        "refused deletes deleted nothing"
    );
}

#[tokio::test]
async fn memory_lake_contract() {
    let lake = Arc::new(MemoryLake::new());
    lake_contract(|| lake.clone()).await;
}

#[tokio::test]
async fn local_lake_contract() {
    let dir = tempfile::tempdir().unwrap();
    lake_contract(|| Arc::new(LocalLake::open(dir.path()))).await;
    let lake_dir = dir.path().join("lake");
    assert!(
        lake_dir
            .join("curated/daily/dt=2026-01-03/part-0.json")
            .is_file(),
        "key = path under lake/"
    );
    assert!(
        hidden_files(&lake_dir).is_empty(),
        "temporary files left: {:?}",
        hidden_files(&lake_dir)
    );
    assert!(!dir.path().join("x").exists());
}

fn hidden_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            found.push(name);
        } else if entry.file_type().unwrap().is_dir() {
            found.extend(hidden_files(&entry.path()));
        }
    }
    found
}

// ------------------------------------------------------------------------------------- rollups

async fn rollups_contract(open: impl Fn() -> Arc<dyn RollupStore>) {
    let web = Scope::Account("111".into());
    let ec2 = Scope::Service("Amazon EC2".into());
    let row = |scope: &Scope, d: u32, cents: i64| RollupRow {
        scope: scope.clone(),
        day: day(d),
        cost: cost(cents),
    };

    let store = open();
    assert_eq!(store.scopes().await.unwrap(), Vec::<Scope>::new());
    assert_eq!(store.day_range().await.unwrap(), None);
    assert_eq!(
        store
            .series(&Scope::Org, day(1), day(2))
            .await
            .unwrap()
            .days,
        vec![None, None]
    );

    let first = [
        row(&Scope::Org, 2, 1000),
        row(&web, 2, 400),
        row(&Scope::Org, 3, 1100),
        row(&ec2, 3, 700),
    ];
    store.replace_days(&[day(2), day(3)], &first).await.unwrap();

    let store = open();
    let org = store.series(&Scope::Org, day(1), day(4)).await.unwrap();
    assert_eq!((org.scope.clone(), org.start), (Scope::Org, day(1)));
    assert_eq!(
        org.days,
        vec![None, Some(cost(1000)), Some(cost(1100)), None],
        "missing days are None"
    );
    assert_eq!(
        store.series(&web, day(2), day(3)).await.unwrap().days,
        vec![Some(cost(400)), None]
    );
    assert_eq!(
        store.scopes().await.unwrap(),
        vec![Scope::Org, web.clone(), ec2.clone()]
    );
    assert_eq!(store.day_range().await.unwrap(), Some((day(2), day(3))));
    assert!(
        store
            .series(&Scope::Org, day(4), day(1))
            .await
            .unwrap()
            .is_empty(),
        "inverted range"
    );

    // Re-importing day 2: its org value changes and `web`, absent from the replay, is gone.
    let replay = [row(&Scope::Org, 2, 900)];
    store.replace_days(&[day(2)], &replay).await.unwrap();
    store.replace_days(&[day(2)], &replay).await.unwrap(); // idempotent
    let store = open();
    assert_eq!(
        store
            .series(&Scope::Org, day(2), day(3))
            .await
            .unwrap()
            .days,
        vec![Some(cost(900)), Some(cost(1100))],
        "day 3 untouched"
    );
    assert_eq!(
        store.series(&web, day(2), day(2)).await.unwrap().days,
        vec![None]
    );
    assert_eq!(store.scopes().await.unwrap(), vec![Scope::Org, ec2.clone()]);

    // A row outside the replaced days is refused and changes nothing.
    assert_invalid_key(
        store.replace_days(&[day(2)], &[row(&web, 5, 1)]).await,
        "row outside days",
    );
    assert_eq!(open().day_range().await.unwrap(), Some((day(2), day(3))));

    // Replacing a day with nothing empties it; an unrelated empty day is a no-op.
    store.replace_days(&[day(3), day(9)], &[]).await.unwrap();
    let store = open();
    assert_eq!(store.day_range().await.unwrap(), Some((day(2), day(2))));
    assert_eq!(store.scopes().await.unwrap(), vec![Scope::Org]);
}

#[tokio::test]
async fn memory_rollups_contract() {
    let store: Arc<dyn RollupStore> = Arc::new(MemoryRollups::new());
    rollups_contract(|| store.clone()).await;
}

#[tokio::test]
async fn local_rollups_contract_holds_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    rollups_contract(|| Arc::new(LocalRollups::open(dir.path()))).await;
    let files: Vec<String> = std::fs::read_dir(dir.path().join("rollups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        vec!["dt=2026-01-02.json"],
        "emptied days lose their file"
    );
    let text = std::fs::read_to_string(dir.path().join("rollups/dt=2026-01-02.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["org"]["usage"], "9.00",
        "scope key → DailyCost, money as exact strings"
    );
}

#[tokio::test]
async fn local_rollups_report_a_corrupt_day_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rollups")).unwrap();
    std::fs::write(dir.path().join("rollups/dt=2026-01-02.json"), "not json").unwrap();
    std::fs::write(dir.path().join("rollups/README"), "strays are ignored").unwrap();
    let err = LocalRollups::open(dir.path()).scopes().await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { path, .. } if path.ends_with("dt=2026-01-02.json")),
        "{err}"
    );
}

// --------------------------------------------------------------------------------------- state

async fn state_contract<S: StateStore>(clock: &ManualClock, open: impl Fn() -> Arc<S>) {
    let store = open();
    let key = "anomaly/org/2026-01-02";
    assert_eq!(store.get(key).await.unwrap(), None);

    let err = store.put(key, json!(1), Some(1), None).await.unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Conflict {
                expected: Some(1),
                found: None,
                ..
            }
        ),
        "update of an absent item: {err}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        store.put(key, json!({"n": 1}), None, None).await.unwrap(),
        1,
        "versions start at 1"
    );

    let store = open();
    let got = store.get(key).await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (json!({"n": 1}), 1));
    let err = store.put(key, json!(0), None, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: None,
                found: Some(1),
                ..
            }
        ),
        "create-only"
    );
    assert_eq!(
        store
            .put(key, json!({"n": 2}), Some(1), None)
            .await
            .unwrap(),
        2,
        "version increments"
    );
    let err = store
        .put(key, json!({"n": 3}), Some(1), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: Some(1),
                found: Some(2),
                ..
            }
        ),
        "stale version"
    );
    assert_eq!(
        open().get(key).await.unwrap().unwrap().value,
        json!({"n": 2}),
        "loser wrote nothing"
    );

    // Expiry: live until `expires_at`, absent from then on, for reads, lists and conditions.
    let ttl = "ledger/ntf_1";
    let expires = clock.now() + TimeDelta::hours(1);
    assert_eq!(
        store
            .put(ttl, json!("sent"), None, Some(expires))
            .await
            .unwrap(),
        1
    );
    assert!(open().get(ttl).await.unwrap().is_some());
    clock.advance(TimeDelta::minutes(59));
    assert_eq!(open().list("ledger/").await.unwrap().len(), 1);
    clock.advance(TimeDelta::minutes(1));
    let store = open();
    assert_eq!(store.get(ttl).await.unwrap(), None);
    assert_eq!(store.list("ledger/").await.unwrap(), vec![]);
    let err = store.put(ttl, json!("x"), Some(1), None).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { found: None, .. }),
        "expired reads as absent: {err}"
    );
    let recreated = store.put(ttl, json!("again"), None, None).await.unwrap();
    assert_eq!(
        recreated, 2,
        "recreating an expired item continues its version count"
    );

    // Listing: by prefix, sorted by key, any characters in keys.
    for k in [
        "anomaly/svc=EC2|acct=1",
        "anomaly/org/2026-01-01",
        "budget/monthly",
        "anomalyx",
        "a.b %/c",
    ] {
        store.put(k, json!(k), None, None).await.unwrap();
    }
    let store = open();
    let keys = |items: Vec<(String, costwatch_store::Versioned)>| {
        items.into_iter().map(|(k, _)| k).collect::<Vec<_>>()
    };
    assert_eq!(
        keys(store.list("anomaly/").await.unwrap()),
        vec![
            "anomaly/org/2026-01-01",
            "anomaly/org/2026-01-02",
            "anomaly/svc=EC2|acct=1"
        ]
    );
    assert_eq!(keys(store.list("a.b").await.unwrap()), vec!["a.b %/c"]);
    let all = store.list("").await.unwrap();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
    let (_, budget) = all.iter().find(|(k, _)| k == "budget/monthly").unwrap();
    assert_eq!(
        (budget.value.clone(), budget.version),
        (json!("budget/monthly"), 1)
    );
    assert_invalid_key(store.put("", json!(1), None, None).await, "empty state key");
}

fn test_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 2, 6, 0, 0).unwrap(),
    ))
}

#[tokio::test]
async fn memory_state_contract() {
    let clock = test_clock();
    let store = Arc::new(MemoryState::with_clock(clock.clone()));
    state_contract(&clock, || store.clone()).await;
}

#[tokio::test]
async fn local_state_contract_holds_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = test_clock();
    state_contract(&clock, || {
        Arc::new(LocalState::with_clock(dir.path(), clock.clone()))
    })
    .await;
    let file = dir.path().join("state/anomaly%2Forg%2F2026-01-02.json");
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(stored, json!({"value": {"n": 2}, "version": 2}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conditional_writes_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let stores: [Arc<dyn StateStore>; 2] = [
        Arc::new(MemoryState::new()),
        Arc::new(LocalState::open(dir.path())),
    ];
    for store in stores {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.put("race", json!(i), None, None).await })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            wins += usize::from(task.await.unwrap().is_ok());
        }
        assert_eq!(wins, 1);
    }
}

// ----------------------------------------------------------------------------------------- bus

fn envelope(subject: &str, summary: &str) -> Notification {
    Notification::new(
        subject.to_owned(),
        0,
        NotificationBody::Test(TestFigures {
            message: "hello".into(),
        }),
        Severity::Info,
        State::Open,
        "Test".into(),
        summary.into(),
        ScopeRef::new(&Scope::Org, None),
        Utc.with_ymd_and_hms(2026, 1, 2, 6, 0, 0).unwrap(),
    )
}

async fn bus_contract(bus: &dyn NotificationBus, published: impl Fn() -> Vec<Notification>) {
    let a = envelope("sub_a", "first");
    let a_again = envelope("sub_a", "redelivered");
    let b = envelope("sub_b", "other");
    assert_eq!(a.id, a_again.id);
    bus.publish(&a).await.unwrap();
    bus.publish(&b).await.unwrap();
    bus.publish(&a_again).await.unwrap();
    let mut got = published();
    got.sort_by(|x, y| x.id.cmp(&y.id));
    let mut want = vec![a_again, b];
    want.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(got, want, "one envelope per id, the latest publish kept");
}

#[tokio::test]
async fn memory_bus_contract() {
    let bus = MemoryBus::new();
    bus_contract(&bus, || bus.published()).await;
}

#[tokio::test]
async fn local_bus_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("costwatch-out/notifications");
    let bus = LocalBus::new(&out);
    bus_contract(&bus, || {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
            .collect()
    })
    .await;
    let a = envelope("sub_a", "x");
    let path = out.join(format!("test-{}.json", a.id));
    assert_eq!(bus.path_of(&a).unwrap(), path);
    assert!(
        std::fs::read_to_string(path)
            .unwrap()
            .contains("\n  \"version\": 1"),
        "pretty JSON"
    );
    let mut bad = a;
    bad.id = "../escape".into();
    assert_invalid_key(bus.publish(&bad).await, "id with a path");
}

// ------------------------------------------------------------------------------------- secrets

const WEBHOOK: &str = "https://hooks.example/T000/B000/XXXXXXXX";
const TOKEN: &str = "tok-9f8e7d6c";

/// Expects `slack-webhook` = WEBHOOK and `api_token` = TOKEN, and no `pagerduty`.
async fn secrets_contract<S: SecretStore + std::fmt::Debug>(store: &S) {
    let webhook = store.get("slack-webhook").await.unwrap();
    assert_eq!(webhook.expose_secret(), WEBHOOK);
    assert_eq!(store.get("api_token").await.unwrap().expose_secret(), TOKEN);

    let err = store.get("pagerduty").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::SecretNotFound(name) if name == "pagerduty"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "secret `pagerduty` not found");
    assert!(!err.is_retryable());

    for shown in [
        format!("{webhook:?}"),
        format!("{store:?}"),
        format!("{err:?}"),
    ] {
        assert!(
            !shown.contains(WEBHOOK) && !shown.contains(TOKEN),
            "secret in Debug: {shown}"
        );
    }
}

#[tokio::test]
async fn memory_secrets_contract() {
    let store = MemorySecrets::new()
        .with("slack-webhook", WEBHOOK)
        .with("api_token", TOKEN);
    secrets_contract(&store).await;
}

/// `slack-webhook` from the environment, `api_token` from its file.
fn local_secrets(dir: &Path, env: &'static [(&'static str, &'static str)]) -> LocalSecrets {
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/api_token"), format!("{TOKEN}\n")).unwrap();
    LocalSecrets::with_env(dir, move |var| {
        env.iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| v.to_string())
    })
}

#[tokio::test]
async fn local_secrets_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = local_secrets(dir.path(), &[("COSTWATCH_SECRET_SLACK_WEBHOOK", WEBHOOK)]);
    secrets_contract(&store).await;
}

#[tokio::test]
async fn local_secrets_prefer_the_environment_and_refuse_path_names() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        LocalSecrets::env_var("api_token"),
        "COSTWATCH_SECRET_API_TOKEN"
    );
    assert_eq!(
        LocalSecrets::env_var("slack.webhook-2"),
        "COSTWATCH_SECRET_SLACK_WEBHOOK_2"
    );
    let store = local_secrets(dir.path(), &[("COSTWATCH_SECRET_API_TOKEN", "from-env")]);
    assert_eq!(
        store.get("api_token").await.unwrap().expose_secret(),
        "from-env"
    );
    let store = local_secrets(dir.path(), &[("COSTWATCH_SECRET_API_TOKEN", "")]);
    assert_eq!(
        store.get("api_token").await.unwrap().expose_secret(),
        TOKEN,
        "empty variable = unset"
    );
    for name in ["../api_token", "", ".hidden", "a/b"] {
        assert_invalid_key(store.get(name).await, name);
    }
}

#[test]
fn bundles_do_not_debug_print_secrets() {
    let memory = costwatch_store::MemoryStore::default();
    memory
        .secrets
        .insert("slack-webhook", SecretString::from(WEBHOOK));
    let dir = tempfile::tempdir().unwrap();
    let local = costwatch_store::LocalStore::open(dir.path().join("data")).unwrap();
    assert!(
        dir.path().join("data").is_dir(),
        "open creates the data directory"
    );
    for shown in [format!("{memory:?}"), format!("{local:?}")] {
        assert!(!shown.contains(WEBHOOK), "{shown}");
    }
}

// ---------------------------------------------------------------------------------- cost source

const FOCUS_CSV: &str = "\
ChargePeriodStart,ChargePeriodEnd,BillingAccountId,SubAccountId,ServiceName,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency
2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,999999999999,111111111111,Amazon EC2,Usage,10.00,10.00,USD
2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,999999999999,111111111111,Amazon EC2,Usage,11.00,11.00,USD
2026-01-03T23:00:00Z,2026-01-04T00:00:00Z,999999999999,111111111111,Amazon S3,Usage,2.50,2.50,USD
";

/// Expects one record on each of days 1, 2 and 3.
async fn source_contract(source: &dyn CostSource) {
    let all = source.fetch(day(1), day(3)).await.unwrap();
    assert_eq!(all.requests, 0);
    let days: BTreeSet<NaiveDate> = all.records.iter().map(|r| r.day()).collect();
    assert_eq!(days, BTreeSet::from([day(1), day(2), day(3)]));
    assert_eq!(all.records.len(), 3);

    let middle = source.fetch(day(2), day(2)).await.unwrap();
    assert_eq!(middle.records.len(), 1);
    assert_eq!(middle.records[0].day(), day(2));
    assert_eq!(middle.records[0].billed_cost, Money::new(1100, 2));
    assert_eq!(
        source.fetch(day(3), day(9)).await.unwrap().records.len(),
        1,
        "inclusive end"
    );
    assert!(
        source
            .fetch(day(4), day(9))
            .await
            .unwrap()
            .records
            .is_empty()
    );
}

fn write_focus_dir(dir: &Path) {
    // Split over two files, one in a subdirectory, to exercise the walk.
    let (header, rows) = FOCUS_CSV.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    std::fs::create_dir_all(dir.join("2026-01")).unwrap();
    std::fs::write(dir.join("a.csv"), format!("{header}\n{}\n", rows[0])).unwrap();
    std::fs::write(
        dir.join("2026-01/b.csv"),
        format!("{header}\n{}\n{}\n", rows[1], rows[2]),
    )
    .unwrap();
}

#[tokio::test]
async fn memory_cost_source_contract() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("focus.csv");
    std::fs::write(&file, FOCUS_CSV).unwrap();
    let records = costwatch_ingest::read_path(&file).unwrap();
    source_contract(&MemoryCostSource::new(records)).await;
}

#[tokio::test]
async fn local_cost_source_contract() {
    let dir = tempfile::tempdir().unwrap();
    write_focus_dir(dir.path());
    source_contract(&LocalCostSource::new(dir.path())).await;
    // A single file works too.
    let one = LocalCostSource::new(dir.path().join("a.csv"));
    assert_eq!(one.fetch(day(1), day(3)).await.unwrap().records.len(), 1);
}

#[tokio::test]
async fn local_cost_source_reports_ingest_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_focus_dir(dir.path());
    std::fs::write(dir.path().join("z.csv"), "not,a,cost,file\n1,2,3,4\n").unwrap();
    let err = LocalCostSource::new(dir.path())
        .fetch(day(1), day(3))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Source(msg) if msg.contains("z.csv")),
        "{err}"
    );
    let missing = LocalCostSource::new(dir.path().join("nope"))
        .fetch(day(1), day(3))
        .await;
    assert!(matches!(missing, Err(StoreError::Io { .. })));
}

// ------------------------------------------------------------------------------- object safety

#[test]
fn adapters_are_send_sync_trait_objects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let _: Vec<Arc<dyn CostSource>> = vec![
        Arc::new(MemoryCostSource::default()),
        Arc::new(LocalCostSource::new(path)),
    ];
    let _: Vec<Arc<dyn LakeWriter>> =
        vec![Arc::new(MemoryLake::new()), Arc::new(LocalLake::open(path))];
    let _: Vec<Arc<dyn LakeReader>> =
        vec![Arc::new(MemoryLake::new()), Arc::new(LocalLake::open(path))];
    let _: Vec<Arc<dyn RollupStore>> = vec![
        Arc::new(MemoryRollups::new()),
        Arc::new(LocalRollups::open(path)),
    ];
    let _: Vec<Arc<dyn StateStore>> = vec![
        Arc::new(MemoryState::new()),
        Arc::new(LocalState::open(path)),
    ];
    let _: Vec<Arc<dyn NotificationBus>> =
        vec![Arc::new(MemoryBus::new()), Arc::new(LocalBus::new(path))];
    let _: Vec<Arc<dyn SecretStore>> = vec![
        Arc::new(MemorySecrets::new()),
        Arc::new(LocalSecrets::open(path)),
    ];
    let store = costwatch_store::MemoryStore::default();
    let _: (&dyn LakeWriter, &dyn LakeReader, &dyn StateStore) =
        (&store.lake, &store.lake, &store.state);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<costwatch_store::MemoryStore>();
    send_sync::<costwatch_store::LocalStore>();
}
