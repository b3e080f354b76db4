//! Daily rollups in the same DynamoDB table as the state:
//! - one item per scope and day: `pk = "rollup#<scope key>"`, `sk = "YYYY-MM-DD"`, `cost`;
//! - one manifest item per day: `pk = "rollup-days"`, `sk = "YYYY-MM-DD"`, `scopes` = the scope
//!   keys stored on that day. It lets `replace_days` find stale scope/day items without a Scan,
//!   and answers `scopes` and `day_range` from one small partition.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use chrono::NaiveDate;
use costwatch_core::{DailyCost, DailySeries, Scope};

use super::error::{aws_error, corrupt};
use super::ext::{Item, ItemExt, s};
use crate::error::{Result, StoreError};
use crate::ports::{RollupRow, RollupStore};
use crate::rollup_index::RollupIndex;

const MANIFEST: &str = "rollup-days";
/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;
/// Unprocessed items are retried with backoff this many times before the write fails.
const BATCH_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone)]
pub struct DynamoRollups {
    client: Client,
    table: String,
}

fn scope_pk(scope_key: &str) -> String {
    format!("rollup#{scope_key}")
}

fn day_sk(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn key(pk: String, sk: String) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// The cost as JSON text with money as decimal strings ("9.00"), not DynamoDB numbers: numbers
/// come back normalised ("9"), losing the scale the reports print, and JSON text keeps the four
/// amounts of a `DailyCost` in one attribute read and written whole.
fn cost_item(scope_key: &str, day: NaiveDate, cost: &DailyCost) -> Result<Item> {
    let json = serde_json::to_string(cost).map_err(|e| corrupt(scope_key, e.to_string()))?;
    let mut item = key(scope_pk(scope_key), day_sk(day));
    item.insert("cost".to_owned(), s(json));
    Ok(item)
}

fn cost_of(item: &Item) -> Result<(NaiveDate, DailyCost)> {
    let day = day_of(item)?;
    let cost = serde_json::from_str(item.string("cost")?)
        .map_err(|e| corrupt(item.describe(), format!("`cost`: {e}")))?;
    Ok((day, cost))
}

fn day_of(item: &Item) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(item.string("sk")?, "%Y-%m-%d")
        .map_err(|e| corrupt(item.describe(), format!("`sk` is not a day: {e}")))
}

fn manifest_item(day: NaiveDate, scopes: &BTreeSet<String>) -> Item {
    let mut item = key(MANIFEST.to_owned(), day_sk(day));
    let list = scopes.iter().map(|k| s(k.as_str())).collect();
    item.insert("scopes".to_owned(), AttributeValue::L(list));
    item
}

fn put(item: Item) -> Result<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| corrupt("rollup put", e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete(pk: String, sk: String) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder()
        .set_key(Some(key(pk, sk)))
        .build()
        .map_err(|e| corrupt("rollup delete", e.to_string()))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

impl DynamoRollups {
    pub fn new(config: &SdkConfig, table: impl Into<String>) -> Self {
        Self {
            client: Client::new(config),
            table: table.into(),
        }
    }

    /// The scope keys the manifest lists for `day`.
    async fn manifest(&self, day: NaiveDate) -> Result<BTreeSet<String>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(MANIFEST))
            .key("sk", s(day_sk(day)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:GetItem", e))?;
        match out.item {
            Some(item) => Ok(item.strings("scopes")?.into_iter().collect()),
            None => Ok(BTreeSet::new()),
        }
    }

    /// Every manifest item, in day order (or reversed), stopping after `limit` if given.
    async fn manifests(&self, forward: bool, limit: Option<i32>) -> Result<Vec<Item>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(MANIFEST))
            .scan_index_forward(forward)
            .consistent_read(true)
            .set_limit(limit);
        if limit.is_some() {
            let out = query
                .send()
                .await
                .map_err(|e| aws_error("dynamodb:Query", e))?;
            return Ok(out.items.unwrap_or_default());
        }
        let mut pages = query.into_paginator().send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb:Query", e))?;
            items.extend(page.items.unwrap_or_default());
        }
        Ok(items)
    }

    /// BatchWriteItem in chunks of 25, resending what DynamoDB left unprocessed (it does so
    /// under throttling) with exponential backoff.
    async fn write_all(&self, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(BATCH) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt == BATCH_ATTEMPTS {
                    return Err(StoreError::Aws {
                        operation: "dynamodb:BatchWriteItem",
                        message: format!("{} items still unprocessed", pending.len()),
                        retryable: true,
                    });
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                attempt += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| aws_error("dynamodb:BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}

#[async_trait]
impl RollupStore for DynamoRollups {
    async fn replace_days(&self, days: &[NaiveDate], rows: &[RollupRow]) -> Result<()> {
        let plan = RollupIndex::plan(days, rows)?;
        // Two phases, so that an interruption anywhere leaves each manifest listing at least
        // every scope stored on its day, and a re-run converges:
        // 1. new rows, and manifests listing old ∪ new scopes;
        // 2. stale rows deleted, and manifests narrowed to the new scopes (or deleted).
        let mut first = Vec::new();
        let mut second = Vec::new();
        for (day, day_rows) in &plan {
            let old = self.manifest(*day).await?;
            let mut new = BTreeSet::new();
            for (scope, cost) in day_rows {
                let scope_key = scope.key();
                first.push(put(cost_item(&scope_key, *day, cost)?)?);
                new.insert(scope_key);
            }
            let union: BTreeSet<String> = old.union(&new).cloned().collect();
            if !union.is_empty() {
                first.push(put(manifest_item(*day, &union))?);
            }
            for stale in old.difference(&new) {
                second.push(delete(scope_pk(stale), day_sk(*day))?);
            }
            if new.is_empty() {
                if !old.is_empty() {
                    second.push(delete(MANIFEST.to_owned(), day_sk(*day))?);
                }
            } else if new != union {
                second.push(put(manifest_item(*day, &new))?);
            }
        }
        self.write_all(first).await?;
        self.write_all(second).await
    }

    async fn series(&self, scope: &Scope, start: NaiveDate, end: NaiveDate) -> Result<DailySeries> {
        let mut points = BTreeMap::new();
        if start <= end {
            let mut pages = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :start AND :end")
                .expression_attribute_values(":pk", s(scope_pk(&scope.key())))
                .expression_attribute_values(":start", s(day_sk(start)))
                .expression_attribute_values(":end", s(day_sk(end)))
                .consistent_read(true)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| aws_error("dynamodb:Query", e))?;
                for item in page.items() {
                    let (day, cost) = cost_of(item)?;
                    points.insert(day, cost);
                }
            }
        }
        Ok(DailySeries::from_points(scope.clone(), start, end, &points))
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        let mut keys = BTreeSet::new();
        for item in self.manifests(true, None).await? {
            keys.extend(item.strings("scopes")?);
        }
        let mut scopes = keys
            .iter()
            .map(|k| {
                k.parse::<Scope>()
                    .map_err(|e| corrupt(format!("rollup scope `{k}`"), e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        scopes.sort();
        Ok(scopes)
    }

    async fn day_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        // A manifest exists only for a day with rows, so the first and last manifests bound it.
        let first = self.manifests(true, Some(1)).await?;
        let last = self.manifests(false, Some(1)).await?;
        match (first.first(), last.first()) {
            (Some(first), Some(last)) => Ok(Some((day_of(first)?, day_of(last)?))),
            _ => Ok(None),
        }
    }
}
