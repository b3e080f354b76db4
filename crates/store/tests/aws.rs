//! The port contracts of support/contracts.rs, asserted on the AWS adapters through the real SDK
//! against a real moto server (one per test, started by support/moto.rs), plus what only the AWS
//! adapters have to get right: paging, batching, the stored item shapes, message attributes.

mod support;

use std::sync::Arc;

use costwatch_core::{Notification, Scope};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use costwatch_store::aws::sdk::{
    aws_sdk_dynamodb, aws_sdk_s3, aws_sdk_secretsmanager, aws_sdk_sns, aws_sdk_ssm,
};
use costwatch_store::aws::{
    DynamoRollups, DynamoState, S3Lake, SecretsManagerSecrets, SnsBus, SsmSecrets,
};
use costwatch_store::{
    Clock, LakeReader, LakeWriter, RollupRow, RollupStore, SecretStore, StateStore, StoreError,
};
use secrecy::ExposeSecret;
use serde_json::json;
use support::contracts::*;
use support::http_sink::HttpSink;
use support::moto::Moto;

const BUCKET: &str = "costwatch-lake";
const TABLE: &str = "costwatch-state";

async fn create_bucket(config: &SdkConfig) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
}

/// The StateTable of template.yaml: `pk` HASH, `sk` RANGE, both strings.
async fn create_table(config: &SdkConfig) {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(TABLE)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

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
    let manifest = raw_item(&config, "rollup-days", "2026-01-02")
        .await
        .unwrap();
    assert_eq!(
        manifest["scopes"].as_l().unwrap(),
        &vec![AttributeValue::S("org".into())]
    );
    assert!(
        raw_item(&config, "rollup-days", "2026-01-03")
            .await
            .is_none(),
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
    // Read once per container: a rotated value is seen by the next cold start, not mid-run.
    sm.put_secret_value()
        .secret_id("costwatch/api_token")
        .secret_string("rotated")
        .send()
        .await
        .unwrap();
    assert_eq!(store.get("api_token").await.unwrap().expose_secret(), TOKEN);
    // Even with every secret gone from the server, the container keeps what it read.
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
    secrets_contract(&SsmSecrets::new(&config, "/costwatch/")).await;
}
