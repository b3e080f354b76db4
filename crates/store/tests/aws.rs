//! The port contracts of support/contracts.rs, asserted on the AWS adapters through the real SDK
//! against a real moto server (one per test, started by costwatch_testkit::moto), plus what only the AWS
//! adapters have to get right: paging, batching, the stored item shapes, message attributes.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use costwatch_core::{Notification, Scope, ScopeKind};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::AttributeValue;
use costwatch_store::aws::sdk::{
    aws_sdk_dynamodb, aws_sdk_secretsmanager, aws_sdk_sns, aws_sdk_ssm,
};
use costwatch_store::aws::{
    DynamoRollups, DynamoState, S3Lake, SecretsManagerSecrets, SnsBus, SsmSecrets,
};
use costwatch_store::{
    Clock, LakeReader, LakeWriter, RollupRow, RollupStore, SecretStore, StateStore, StoreError,
};
use costwatch_testkit::http_sink::HttpSink;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::stack::{BUCKET, TABLE, create_bucket, create_table};
use secrecy::ExposeSecret;
use serde_json::json;
use support::contracts::*;

async fn raw_item(
    config: &SdkConfig,
    pk: &str,
    sk: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    aws_sdk_dynamodb::Client::new(config)
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
}

// ---------------------------------------------------------------------------------------- lake

#[tokio::test]
async fn s3_lake_contract() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    lake_contract(|| Arc::new(S3Lake::new(&config, BUCKET))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_lake_pages_lists_and_batches_deletes_past_1000_keys() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_bucket(&config).await;
    let lake = S3Lake::new(&config, BUCKET);
    // 1,000 is both the ListObjectsV2 page size and the DeleteObjects limit.
    let keys: Vec<String> = (0..1003).map(|i| format!("raw/p/{i:05}.json")).collect();
    let mut puts = tokio::task::JoinSet::new();
    for chunk in keys.chunks(100) {
        let (lake, chunk) = (lake.clone(), chunk.to_vec());
        puts.spawn(async move {
            for key in chunk {
                lake.put(&key, b"{}".to_vec()).await.unwrap();
            }
        });
    }
    puts.join_all().await;
    lake.put("raw/q/keep.json", Vec::new()).await.unwrap();
    assert_eq!(
        lake.list("raw/p/").await.unwrap(),
        keys,
        "every page, sorted"
    );
    lake.delete_prefix("raw/p/").await.unwrap();
    assert_eq!(lake.list("raw/").await.unwrap(), vec!["raw/q/keep.json"]);
}

// ------------------------------------------------------------------------------------- rollups

#[tokio::test]
async fn dynamo_rollups_contract() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    rollups_contract(|| Arc::new(DynamoRollups::new(&config, TABLE))).await;
    let item = raw_item(&config, "rollup#org", "2026-01-02").await.unwrap();
    let cost: serde_json::Value = serde_json::from_str(item["cost"].as_s().unwrap()).unwrap();
    assert_eq!(cost["usage"], "9.00", "money as exact decimal strings");
    let manifest = raw_item(&config, "rollup-days", "2026-01-02#000")
        .await
        .unwrap();
    assert_eq!(
        manifest["scopes"].as_l().unwrap(),
        &vec![AttributeValue::S("org".into())]
    );
    assert_eq!(
        sks(&raw_partition(&config, "rollup-days").await),
        vec!["2026-01-02#000"],
        "an emptied day loses its manifest"
    );
}

#[tokio::test]
async fn dynamo_rollups_batch_past_25_items_and_drop_stale_scopes() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let store = DynamoRollups::new(&config, TABLE);
    let rows = |n: usize, cents: i64| -> Vec<RollupRow> {
        (0..n)
            .map(|i| RollupRow {
                scope: Scope::Account(format!("{i:012}")),
                day: day(5),
                cost: cost(cents),
            })
            .collect()
    };
    store.replace_days(&[day(5)], &rows(60, 100)).await.unwrap();
    assert_eq!(store.scopes().await.unwrap().len(), 60);
    store.replace_days(&[day(5)], &rows(7, 200)).await.unwrap();
    let scopes = store.scopes().await.unwrap();
    assert_eq!(scopes.len(), 7);
    for stale in 7..60 {
        let pk = format!("rollup#account={stale:012}");
        assert!(raw_item(&config, &pk, "2026-01-05").await.is_none(), "{pk}");
    }
    let series = store.series(&scopes[0], day(5), day(5)).await.unwrap();
    assert_eq!(series.days, vec![Some(cost(200))]);
}

/// A restated day keeps its scopes, so only the day's revision tells a row the index still
/// holds at its previous value: every replace counts the day's revision up (`rollup-rev`) and
/// writes it into each of its rows, and the day reads back at its restated values.
#[tokio::test]
async fn dynamo_rollups_count_each_replace_on_the_day_and_its_rows() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let store = DynamoRollups::new(&config, TABLE);
    let rows = |cents: i64| -> Vec<RollupRow> {
        [Scope::Org, Scope::Account("111122223333".into())]
            .map(|scope| RollupRow {
                scope,
                day: day(5),
                cost: cost(cents),
            })
            .into()
    };
    let day_rev = || async {
        let item = raw_item(&config, "rollup-rev", "2026-01-05").await.unwrap();
        item["rev"].as_n().unwrap().parse::<u64>().unwrap()
    };
    let row_rev = |pk: &'static str| async {
        let item = raw_item(&config, pk, "2026-01-05").await.unwrap();
        let stored: serde_json::Value = serde_json::from_str(item["cost"].as_s().unwrap()).unwrap();
        stored["rev"].as_u64().unwrap()
    };
    store.replace_days(&[day(5)], &rows(100)).await.unwrap();
    assert_eq!((day_rev().await, row_rev("rollup#org").await), (1, 1));
    store.replace_days(&[day(5)], &rows(200)).await.unwrap();
    assert_eq!(day_rev().await, 2);
    for pk in ["rollup#org", "rollup#account=111122223333"] {
        assert_eq!(row_rev(pk).await, 2, "{pk}");
    }
    let read = store
        .all_series(day(5), day(5), &[ScopeKind::Org])
        .await
        .unwrap();
    assert_eq!(read[0].days, vec![Some(cost(200))]);
}

/// Every item of a partition, in `sk` order.
async fn raw_partition(config: &SdkConfig, pk: &str) -> Vec<HashMap<String, AttributeValue>> {
    let mut pages = aws_sdk_dynamodb::Client::new(config)
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .into_paginator()
        .send();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        items.extend(page.unwrap().items.unwrap_or_default());
    }
    items
}

/// Every item of the table.
async fn raw_scan(config: &SdkConfig) -> Vec<HashMap<String, AttributeValue>> {
    let mut pages = aws_sdk_dynamodb::Client::new(config)
        .scan()
        .table_name(TABLE)
        .into_paginator()
        .send();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        items.extend(page.unwrap().items.unwrap_or_default());
    }
    items
}

fn sks(items: &[HashMap<String, AttributeValue>]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["sk"].as_s().unwrap().as_str())
        .collect()
}

/// An item's size as DynamoDB counts it against the 400 KB limit: attribute names and strings in
/// UTF-8 bytes, a list 3 bytes plus 1 per element.
fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value(v)).sum::<usize>(),
            other => panic!("unexpected attribute {other:?}"),
        }
    }
    item.iter().map(|(name, v)| name.len() + value(v)).sum()
}

#[tokio::test]
async fn dynamo_rollups_shard_a_manifest_past_the_item_limit() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let store = DynamoRollups::new(&config, TABLE);
    // 400 accounts × 15 services with long-ish names: 6,000 scope keys of ~80 bytes, ~490 KB,
    // which one item cannot hold (DynamoDB's limit is 400 KB; moto refuses past 405,000 bytes).
    let all: Vec<Scope> = (0..400)
        .flat_map(|a| {
            (0..15).map(move |s| Scope::AccountService {
                account: format!("{a:012}"),
                service: format!("Amazon Example Service {s:02} - Some Long-ish Name"),
            })
        })
        .collect();
    let key_bytes: usize = all.iter().map(|s| s.key().len()).sum();
    assert!(key_bytes > 405_000, "{key_bytes}");
    assert!(
        key_bytes > 2 * DynamoRollups::MANIFEST_SHARD_BYTES,
        "needs at least three shards: {key_bytes}"
    );
    let rows = |scopes: &[Scope], d: u32, cents: i64| -> Vec<RollupRow> {
        scopes
            .iter()
            .map(|scope| RollupRow {
                scope: scope.clone(),
                day: day(d),
                cost: cost(cents),
            })
            .collect()
    };
    let manifests = || raw_partition(&config, "rollup-days");
    let rollup_rows = || async {
        raw_scan(&config)
            .await
            .into_iter()
            .filter(|i| i["pk"].as_s().unwrap().starts_with("rollup#"))
            .count()
    };

    // Day 5 keeps one scope throughout; day 6 grows from 10 scopes to 6,000.
    let few = &all[..10];
    let first = [rows(&all[..1], 5, 100), rows(few, 6, 100)].concat();
    store.replace_days(&[day(5), day(6)], &first).await.unwrap();
    assert_eq!(
        sks(&manifests().await),
        vec!["2026-01-05#000", "2026-01-06#000"]
    );
    store
        .replace_days(&[day(6)], &rows(&all, 6, 200))
        .await
        .unwrap();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(store.scopes().await.unwrap(), sorted, "every shard read");
    // The day read back whole from the index, checked against all of its shards.
    let window = store
        .all_series(day(5), day(6), &[ScopeKind::AccountService])
        .await
        .unwrap();
    assert_eq!(window.len(), sorted.len());
    assert!(window.iter().map(|s| &s.scope).eq(sorted.iter()));
    assert_eq!(window[0].days, vec![Some(cost(100)), Some(cost(200))]);
    assert_eq!(window[1].days, vec![None, Some(cost(200))]);
    let items = manifests().await;
    let day6: Vec<_> = items
        .iter()
        .filter(|i| i["sk"].as_s().unwrap().starts_with("2026-01-06#"))
        .collect();
    assert!(day6.len() >= 3, "{:?}", sks(&items));
    assert_eq!(
        sks(&items),
        ["2026-01-05#000"]
            .into_iter()
            .chain(["2026-01-06#000", "2026-01-06#001", "2026-01-06#002"])
            .take(1 + day6.len())
            .collect::<Vec<_>>(),
        "numbered from 000, the phase-1 shards gone"
    );
    let mut listed = Vec::new();
    for shard in &day6 {
        assert!(item_size(shard) < 400_000, "{}", item_size(shard));
        listed.extend(
            shard["scopes"]
                .as_l()
                .unwrap()
                .iter()
                .map(|v| v.as_s().unwrap().clone()),
        );
    }
    let keys: Vec<String> = sorted.iter().map(Scope::key).collect();
    assert_eq!(listed, keys, "the shards split the sorted keys, each once");
    assert_eq!(rollup_rows().await, 1 + 6000);
    assert_eq!(store.day_range().await.unwrap(), Some((day(5), day(6))));

    // Shrinking day 6 back to 10 scopes drops the stale rows and the shards past the first.
    store
        .replace_days(&[day(6)], &rows(few, 6, 300))
        .await
        .unwrap();
    let mut expected = few.to_vec();
    expected.sort();
    assert_eq!(store.scopes().await.unwrap(), expected);
    assert_eq!(
        sks(&manifests().await),
        vec!["2026-01-05#000", "2026-01-06#000"]
    );
    assert_eq!(rollup_rows().await, 1 + 10);
    assert_eq!(store.day_range().await.unwrap(), Some((day(5), day(6))));
    let series = store.series(&few[9], day(5), day(6)).await.unwrap();
    assert_eq!(series.days, vec![None, Some(cost(300))]);
}

#[tokio::test]
async fn dynamo_rollups_replace_leftover_manifest_items() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let put = |pk: &str, sk: &str, name: &str, value: AttributeValue| {
        dynamo
            .put_item()
            .table_name(TABLE)
            .item("pk", AttributeValue::S(pk.into()))
            .item("sk", AttributeValue::S(sk.into()))
            .item(name, value)
            .send()
    };
    let listing = |key: &str| AttributeValue::L(vec![AttributeValue::S(key.into())]);
    let json = AttributeValue::S(serde_json::to_string(&cost(100)).unwrap());
    // The single manifest item of the unsharded layout, and a shard an interrupted run left at
    // an index past the day's others, each listing a scope whose row is stored.
    put("rollup-days", "2026-01-05", "scopes", listing("account=1"))
        .await
        .unwrap();
    put(
        "rollup-days",
        "2026-01-05#007",
        "scopes",
        listing("account=2"),
    )
    .await
    .unwrap();
    for pk in ["rollup#account=1", "rollup#account=2"] {
        put(pk, "2026-01-05", "cost", json.clone()).await.unwrap();
    }
    let store = DynamoRollups::new(&config, TABLE);
    let account = |a: &str| Scope::Account(a.into());
    assert_eq!(
        store.scopes().await.unwrap(),
        vec![account("1"), account("2")]
    );
    assert_eq!(store.day_range().await.unwrap(), Some((day(5), day(5))));

    let row = RollupRow {
        scope: account("3"),
        day: day(5),
        cost: cost(200),
    };
    store.replace_days(&[day(5)], &[row]).await.unwrap();
    assert_eq!(store.scopes().await.unwrap(), vec![account("3")]);
    assert_eq!(
        sks(&raw_partition(&config, "rollup-days").await),
        vec!["2026-01-05#000"]
    );
    for pk in ["rollup#account=1", "rollup#account=2"] {
        assert!(raw_item(&config, pk, "2026-01-05").await.is_none(), "{pk}");
    }
}

// --------------------------------------------------------------------------------------- state

#[tokio::test]
async fn dynamo_state_contract() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let clock = test_clock();
    state_contract(&clock, || {
        Arc::new(DynamoState::with_clock(&config, TABLE, clock.clone()))
    })
    .await;
    // The expiry is DynamoDB's TTL attribute: epoch seconds in `expires_at`.
    let item = raw_item(&config, "state", "ledger/ntf_1").await.unwrap();
    assert!(!item.contains_key("expires_at"), "recreated without expiry");
    let store = DynamoState::with_clock(&config, TABLE, clock.clone());
    let at = clock.now() + chrono::TimeDelta::days(1);
    store.put("ttl", json!(1), None, Some(at)).await.unwrap();
    let item = raw_item(&config, "state", "ttl").await.unwrap();
    assert_eq!(
        item["expires_at"].as_n().unwrap(),
        &at.timestamp().to_string()
    );
    assert_eq!(item["version"].as_n().unwrap(), "1");
}

/// A dispatcher's partition is a store of its own: the same key in two partitions holds two
/// values, and listing sees only its own partition (what lets IAM's `dynamodb:LeadingKeys` give
/// each dispatcher its items and nothing of the pipeline's).
#[tokio::test]
async fn dynamo_state_partitions_are_separate_stores() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let clock = test_clock();
    state_contract(&clock, || {
        Arc::new(DynamoState::with_clock(&config, TABLE, clock.clone()).in_partition("dispatch#x"))
    })
    .await;
    let pipeline = DynamoState::new(&config, TABLE);
    let slack = DynamoState::new(&config, TABLE).in_partition("dispatch#slack");
    assert_eq!(slack.partition(), "dispatch#slack");
    pipeline
        .put("k", json!("pipeline"), None, None)
        .await
        .unwrap();
    slack.put("k", json!("slack"), None, None).await.unwrap();
    assert_eq!(
        pipeline.get("k").await.unwrap().unwrap().value,
        json!("pipeline")
    );
    assert_eq!(slack.get("k").await.unwrap().unwrap().value, json!("slack"));
    let listed: Vec<String> = slack
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(listed, vec!["k".to_owned()]);
    let item = raw_item(&config, "dispatch#slack", "k").await.unwrap();
    assert_eq!(item["value"].as_s().unwrap(), "\"slack\"");
    assert!(
        raw_partition(&config, "state")
            .await
            .iter()
            .all(|i| i["value"].as_s().unwrap() != "\"slack\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_conditional_writes_have_one_winner() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let store: Arc<dyn StateStore> = Arc::new(DynamoState::new(&config, TABLE));
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

// -------------------------------------------------------------------------------------- errors

#[tokio::test]
async fn aws_errors_say_whether_a_retry_can_help() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    // No table: the request is wrong, retrying the same call cannot fix it.
    let err = DynamoState::new(&config, "missing-table")
        .get("k")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Aws {
                operation: "dynamodb:GetItem",
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    // Nothing listening: a transient failure as far as the caller can tell.
    drop(moto);
    let err = S3Lake::new(&config, BUCKET).get("k").await.unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Aws {
                operation: "s3:GetObject",
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
}

// ----------------------------------------------------------------------------------------- bus

#[tokio::test]
async fn sns_bus_contract_and_filter_attributes() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns
        .create_topic()
        .name("costwatch-notifications")
        .send()
        .await
        .unwrap();
    let topic_arn = topic.topic_arn().unwrap();
    // Filter policies match on message attributes: one subscriber takes what `kind` and
    // `severity` select, another asks for critical alerts only. (moto does not copy attributes
    // into HTTP deliveries, but it applies filter policies as SNS does.)
    let subscribe = |policy: serde_json::Value| {
        let sink = HttpSink::start();
        let request = sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("http")
            .endpoint(sink.url())
            .attributes("FilterPolicy", policy.to_string());
        (sink, request)
    };
    let (sink, request) = subscribe(json!({"kind": ["test"], "severity": ["info"]}));
    request.send().await.unwrap();
    let (critical, request) = subscribe(json!({"severity": ["critical"]}));
    request.send().await.unwrap();
    let notifications = || -> Vec<serde_json::Value> {
        sink.bodies()
            .iter()
            .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap())
            .filter(|m| m["Type"] == "Notification")
            .collect()
    };
    // SNS delivers every publish; keeping the latest envelope per id is the subscribers' job
    // (their delivery ledger), so the contract's view is taken after that step.
    let bus = SnsBus::new(&config, topic_arn);
    bus_contract(&bus, || {
        let mut latest = std::collections::BTreeMap::new();
        for m in notifications() {
            let n: Notification = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
            latest.insert(n.id.clone(), n);
        }
        latest.into_values().collect()
    })
    .await;
    assert_eq!(notifications().len(), 3, "one delivery per publish");
    assert!(critical.bodies().is_empty(), "filtered out by severity");
}

// ------------------------------------------------------------------------------------- secrets

#[tokio::test]
async fn secrets_manager_contract_and_cache() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    for (name, value) in [("slack-webhook", WEBHOOK), ("api_token", TOKEN)] {
        sm.create_secret()
            .name(format!("costwatch/{name}"))
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }
    let store = SecretsManagerSecrets::new(&config, "costwatch/");
    secrets_contract(&store).await;
    // Cached within the TTL: a rotated value is not seen by `get` at once…
    sm.put_secret_value()
        .secret_id("costwatch/api_token")
        .secret_string("rotated")
        .send()
        .await
        .unwrap();
    assert_eq!(store.get("api_token").await.unwrap().expose_secret(), TOKEN);
    // …but `get_fresh` (after a vendor refused the old value) reads it, and caches it…
    let rotated = store.get_fresh("api_token").await.unwrap();
    assert_eq!(rotated.expose_secret(), "rotated");
    assert_eq!(
        store.get("api_token").await.unwrap().expose_secret(),
        "rotated"
    );
    // …and past the TTL `get` reads it too.
    let no_cache = SecretsManagerSecrets::new(&config, "costwatch/").with_ttl(Duration::ZERO);
    assert_eq!(
        no_cache.get("api_token").await.unwrap().expose_secret(),
        "rotated"
    );
    sm.put_secret_value()
        .secret_id("costwatch/api_token")
        .secret_string("rotated-twice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_cache.get("api_token").await.unwrap().expose_secret(),
        "rotated-twice"
    );
    // Within the TTL, with every secret gone from the server, the container keeps what it read.
    moto.reset();
    let cached = store.get("slack-webhook").await.unwrap();
    assert_eq!(cached.expose_secret(), WEBHOOK);
    let fresh = SecretsManagerSecrets::new(&config, "costwatch/");
    assert!(matches!(
        fresh.get("slack-webhook").await,
        Err(StoreError::SecretNotFound(_))
    ));
}

#[tokio::test]
async fn ssm_secrets_contract() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&config);
    for (name, value) in [("slack-webhook", WEBHOOK), ("api_token", TOKEN)] {
        ssm.put_parameter()
            .name(format!("/costwatch/{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let store = SsmSecrets::new(&config, "/costwatch/");
    secrets_contract(&store).await;
    ssm.put_parameter()
        .name("/costwatch/api_token")
        .value("rotated")
        .overwrite(true)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    assert_eq!(store.get("api_token").await.unwrap().expose_secret(), TOKEN);
    let rotated = store.get_fresh("api_token").await.unwrap();
    assert_eq!(rotated.expose_secret(), "rotated");
}
