//! The port contracts (support/contracts.rs) run against the memory and the local adapter, plus
//! what only those adapters promise. For memory `open` hands back the same instance; for local it
//! reopens the data directory, so every check after a write also proves it reached the disk.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use costwatch_core::Money;
use costwatch_store::local::{
    LocalBus, LocalCostSource, LocalLake, LocalRollups, LocalSecrets, LocalState,
};
use costwatch_store::memory::{
    MemoryBus, MemoryCostSource, MemoryLake, MemoryRollups, MemorySecrets, MemoryState,
};
use costwatch_store::{
    CostSource, LakeReader, LakeWriter, NotificationBus, RollupStore, SecretStore, StateStore,
    StoreError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::contracts::*;

// ---------------------------------------------------------------------------------------- lake

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
