//! The capacity meter through the real SDK on moto: the units it counts for the rollup and state
//! adapters' calls are the ones DynamoDB's rules give for the items actually stored.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use costwatch_core::{Scope, ScopeKind};
use costwatch_store::aws::sdk::aws_sdk_dynamodb;
use costwatch_store::aws::sdk::aws_sdk_dynamodb::types::AttributeValue;
use costwatch_store::aws::{CapacityMeter, DynamoRollups, DynamoState, item_size};
use costwatch_store::{RollupRow, RollupStore, StateStore, SystemClock};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::stack::{TABLE, create_table};
use support::contracts::{cost, day};

type Item = HashMap<String, AttributeValue>;

async fn partition(client: &aws_sdk_dynamodb::Client, pk: &str) -> Vec<Item> {
    let out = client
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .send()
        .await
        .unwrap();
    out.items.unwrap_or_default()
}

#[tokio::test]
async fn the_meter_counts_units_from_the_stored_items() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    create_table(&config).await;
    let meter = CapacityMeter::new();
    let store = DynamoRollups::with_client(meter.client(&config), TABLE);
    // 30 scopes with keys long enough that the manifest item passes 1 KB (3 write units).
    let rows: Vec<RollupRow> = (0..30)
        .map(|i| RollupRow {
            scope: Scope::Account(format!("{i:0>90}")),
            day: day(5),
            cost: cost(100 + i),
        })
        .collect();
    store.replace_days(&[day(5)], &rows).await.unwrap();
    let written = meter.total();

    let raw = aws_sdk_dynamodb::Client::new(&config);
    let manifest = partition(&raw, "rollup-days").await;
    assert_eq!(manifest.len(), 1);
    let manifest_size = item_size(&manifest[0]);
    assert!(manifest_size > 2048, "{manifest_size}");
    let row_items: Vec<Item> = {
        let mut items = Vec::new();
        for row in &rows {
            items.extend(partition(&raw, &format!("rollup#{}", row.scope.key())).await);
        }
        items
    };
    assert_eq!(row_items.len(), 30);
    let row_units: u64 = row_items
        .iter()
        .map(|i| item_size(i).div_ceil(1024) as u64)
        .sum();
    let mark = partition(&raw, "rollup-rev").await;
    assert_eq!(mark.len(), 1, "the day's revision");
    let mark_size = item_size(&mark[0]);
    assert_eq!(written.items_written, 32);
    assert_eq!(
        written.write_units,
        row_units + manifest_size.div_ceil(1024) as u64 + 1
    );
    assert_eq!(
        written.index_write_units, 32,
        "the index's copy of each row (pk, sk, cost: under 1 KB), of the manifest's keys and \
         of the revision's"
    );
    assert_eq!(
        written.write_requests, 4,
        "the manifest, then the rows in a batch of 25 and one of 5, then the revision"
    );
    assert_eq!(
        written.read_requests, 2,
        "the days' revisions and the day's manifest, both empty"
    );
    assert_eq!(
        written.read_units, 2.0,
        "two empty strongly consistent reads"
    );

    // Listing the scopes reads the manifest partition: its size rounded up to 4 KB.
    store.scopes().await.unwrap();
    let listed = meter.total() - written;
    assert_eq!(listed.read_bytes, manifest_size as u64);
    assert_eq!(listed.read_units, manifest_size.div_ceil(4096) as f64);
    assert_eq!(listed.write_units, 0);

    // A series of one day: one row item, under 4 KB.
    let before = meter.total();
    store.series(&rows[0].scope, day(1), day(9)).await.unwrap();
    assert_eq!((meter.total() - before).read_units, 1.0);

    // The day of every scope: the revisions of the days read and the day's manifest, strongly
    // consistent from the table, its rows from the index, eventually consistent, at half the
    // units.
    let before = meter.total();
    let day5 = store.all_series(day(5), day(5), &[ScopeKind::Account]);
    assert_eq!(day5.await.unwrap().len(), 30);
    let read = meter.total() - before;
    let row_bytes: usize = row_items.iter().map(item_size).sum();
    assert!(row_bytes > 4096, "{row_bytes}");
    assert_eq!(read.read_requests, 3);
    assert_eq!(
        read.read_bytes,
        (mark_size + manifest_size + row_bytes) as u64
    );
    assert_eq!(
        read.read_units,
        1.0 + manifest_size.div_ceil(4096) as f64 + row_bytes.div_ceil(4096) as f64 / 2.0
    );

    // The state adapter on the same meter: a put reads the current item first (GetItem); a
    // put expecting a version that is not stored is refused before it writes.
    let state = DynamoState::with_client(meter.client(&config), TABLE, Arc::new(SystemClock));
    let before = meter.total();
    state
        .put("k", serde_json::json!(1), None, None)
        .await
        .unwrap();
    assert!(
        state
            .put("k", serde_json::json!(2), Some(7), None)
            .await
            .is_err()
    );
    let spent = meter.total() - before;
    assert_eq!(
        spent.write_requests, 1,
        "the stale version is refused before writing"
    );
    assert_eq!(spent.write_units, 1);
    assert!(spent.read_requests >= 2, "{spent:?}");
}
