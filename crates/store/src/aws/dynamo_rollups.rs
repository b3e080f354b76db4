//! Daily rollups in the same DynamoDB table as the state:
//! - one item per scope and day: `pk = "rollup#<scope key>"`, `sk = "YYYY-MM-DD"`, `cost`;
//! - a manifest per day, sharded: `pk = "rollup-days"`, `sk = "YYYY-MM-DD#000"`, `"#001"`, …,
//!   each shard's `scopes` a run of the day's sorted scope keys, together every scope key stored
//!   on that day. It lets `replace_days` find stale scope/day items without a Scan, and answers
//!   `scopes` and `day_range` from one partition. One item per day cannot hold it: an
//!   organisation of 1,000 accounts × 15 services has ~17,000 scope keys a day (~860 KB), past
//!   DynamoDB's 400 KB item limit, so the keys are split over as many shards as their size needs
//!   (see [`DynamoRollups::MANIFEST_SHARD_BYTES`]). A day's shards are read with one Query on
//!   `begins_with(sk, "YYYY-MM-DD")`, which also finds the single unsharded item (`sk =
//!   "YYYY-MM-DD"`) earlier versions wrote: the next `replace_days` of that day replaces it.
//! - the table's index [`DAY_INDEX`] (partition `sk`, sort `pk`), which DynamoDB keeps itself:
//!   one Query reads a day's rollups of every scope, so a daily run reads 120 days of 16,000
//!   series in ~360 Queries instead of 16,000 ([`RollupStore::all_series`]). The index is
//!   eventually consistent, so each day read there is checked against the day's manifest (read
//!   strongly consistent) and read again while they differ: detect runs right after aggregate
//!   wrote the day.
//! - a revision per day: `pk = "rollup-rev"`, `sk = "YYYY-MM-DD"`, `rev` (1 for the day's first
//!   replace, one more for each after), which every row of that replace also carries in its
//!   `cost` (`"rev": n`). A restated day keeps its scopes, so the manifest cannot tell a row the
//!   index still holds at its previous value; a row of an earlier revision can, and is read
//!   again like a missing one. Rows without a revision (written before revisions, or by an
//!   earlier version during a deploy) pass, so mixed versions never make a day unreadable.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use chrono::NaiveDate;
use costwatch_core::{DailyCost, DailySeries, Scope, ScopeKind};
use serde::{Deserialize, Serialize};

use super::error::{aws_error, corrupt};
use super::ext::{Item, ItemExt, s};
use crate::error::{Result, StoreError};
use crate::ports::{RollupRow, RollupStore};
use crate::rollup_index::RollupIndex;

const MANIFEST: &str = "rollup-days";
/// Partition of the days' revisions (see the module docs).
const REVISIONS: &str = "rollup-rev";
/// Bytes a shard is counted for before its first scope key: `pk`, `sk` and `scopes` (names and
/// values, ~40 bytes by DynamoDB's reckoning), rounded up.
const SHARD_ITEM_OVERHEAD: usize = 64;
/// Bytes a scope key is counted for on top of its length: DynamoDB adds 1 per list element.
const SHARD_ELEMENT_OVERHEAD: usize = 8;
/// The index of the state table on `sk` (partition) and `pk` (sort), projecting `cost`:
/// template.yaml declares it, and [`super::create_state_table`] creates it.
pub const DAY_INDEX: &str = "by-day";
/// Reads of a day in [`DAY_INDEX`] before a difference from its manifest is an error: with the
/// backoff below, ~13 s, far past the index's usual propagation delay (under a second).
const INDEX_ATTEMPTS: u32 = 8;
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

fn shard_sk(day: NaiveDate, index: usize) -> String {
    format!("{}#{index:03}", day_sk(day))
}

/// The index of a shard of `day`; `None` for anything else under the day's prefix (the
/// unsharded item of earlier versions).
fn shard_index(day: NaiveDate, sk: &str) -> Option<usize> {
    sk.strip_prefix(&day_sk(day))?
        .strip_prefix('#')?
        .parse()
        .ok()
}

fn key(pk: String, sk: String) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// The cost as JSON text with money as decimal strings ("9.00"), not DynamoDB numbers: numbers
/// come back normalised ("9"), losing the scale the reports print, and JSON text keeps the four
/// amounts of a `DailyCost` in one attribute read and written whole.
///
/// The day's revision goes inside the JSON, the one attribute [`DAY_INDEX`] projects besides
/// the keys.
fn cost_item(scope_key: &str, day: NaiveDate, cost: &DailyCost, rev: u64) -> Result<Item> {
    let stored = StoredCost {
        cost: *cost,
        rev: Some(rev),
    };
    let json = serde_json::to_string(&stored).map_err(|e| corrupt(scope_key, e.to_string()))?;
    let mut item = key(scope_pk(scope_key), day_sk(day));
    item.insert("cost".to_owned(), s(json));
    Ok(item)
}

/// A row's `cost` as stored: the day's cost and the day's revision that wrote it.
#[derive(Serialize, Deserialize)]
struct StoredCost {
    #[serde(flatten)]
    cost: DailyCost,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rev: Option<u64>,
}

fn cost_of(item: &Item) -> Result<(NaiveDate, StoredCost)> {
    let day = day_of(item)?;
    let cost = serde_json::from_str(item.string("cost")?)
        .map_err(|e| corrupt(item.describe(), format!("`cost`: {e}")))?;
    Ok((day, cost))
}

fn revision_item(day: NaiveDate, rev: u64) -> Item {
    let mut item = key(REVISIONS.to_owned(), day_sk(day));
    item.insert("rev".to_owned(), AttributeValue::N(rev.to_string()));
    item
}

fn day_of(item: &Item) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(item.string("sk")?, "%Y-%m-%d")
        .map_err(|e| corrupt(item.describe(), format!("`sk` is not a day: {e}")))
}

/// The day of a manifest item: the first 10 characters of its `sk` (`YYYY-MM-DD#NNN`).
fn manifest_day(item: &Item) -> Result<NaiveDate> {
    let sk = item.string("sk")?;
    let day = sk.get(..10).unwrap_or(sk);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|e| {
        corrupt(
            item.describe(),
            format!("`sk` does not start with a day: {e}"),
        )
    })
}

/// One manifest item as stored: its `sk` and the scope keys it lists, sorted.
#[derive(Debug, Clone, PartialEq)]
struct Shard {
    sk: String,
    scopes: Vec<String>,
}

impl Shard {
    fn item(&self) -> Item {
        let mut item = key(MANIFEST.to_owned(), self.sk.clone());
        let list = self.scopes.iter().map(|k| s(k.as_str())).collect();
        item.insert("scopes".to_owned(), AttributeValue::L(list));
        item
    }
}

/// `scopes` (sorted) cut into shards of at most `budget` counted bytes, numbered from `first`.
/// A key bigger than the budget on its own still gets a shard (DynamoDB then refuses the write
/// if it is past the item limit); scope keys are far smaller.
fn shards(day: NaiveDate, scopes: &BTreeSet<String>, first: usize, budget: usize) -> Vec<Shard> {
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut used = 0;
    for scope in scopes {
        let size = scope.len() + SHARD_ELEMENT_OVERHEAD;
        match runs.last_mut() {
            Some(run) if used + size <= budget => run.push(scope.clone()),
            _ => {
                runs.push(vec![scope.clone()]);
                used = SHARD_ITEM_OVERHEAD;
            }
        }
        used += size;
    }
    runs.into_iter()
        .enumerate()
        .map(|(i, scopes)| Shard {
            sk: shard_sk(day, first + i),
            scopes,
        })
        .collect()
}

/// How a day's rows in [`DAY_INDEX`] differ from the scope keys its manifest lists and from its
/// revision (`rev`), or `None` when they agree. Both come sorted: the index's sort key is
/// `pk`.
fn index_gap(
    listed: &BTreeSet<String>,
    rev: Option<u64>,
    rows: &[(String, StoredCost)],
) -> Option<String> {
    let found: BTreeSet<&str> = rows.iter().map(|(key, _)| key.as_str()).collect();
    let missing = listed
        .iter()
        .filter(|k| !found.contains(k.as_str()))
        .count();
    let extra = found.iter().filter(|k| !listed.contains(**k)).count();
    let earlier = |row: &&(String, StoredCost)| row.1.rev.zip(rev).is_some_and(|(r, day)| r < day);
    let older = rows.iter().filter(earlier).count();
    (missing + extra + older > 0).then(|| {
        format!(
            "{missing} listed scope(s) not yet in the index, {extra} no longer listed, \
             {older} of an earlier revision"
        )
    })
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
    /// The bytes one manifest shard may hold, counting each scope key as its UTF-8 length plus 8
    /// (DynamoDB counts 1 per list element) and the shard's own key attributes as 64 (~40 by
    /// DynamoDB's rules). Half of DynamoDB's 400 KB item limit, on purpose: a shard stays clear
    /// of the limit even if the service's accounting differs from ours, and the biggest scope key
    /// (a tag key of 128 and a value of 256 characters, up to 4 bytes each and `=` escaped to
    /// three characters) is ~2 KB, far below the margin. A smaller budget would only mean more
    /// items per day to write and read back.
    pub const MANIFEST_SHARD_BYTES: usize = 200_000;

    pub fn new(config: &SdkConfig, table: impl Into<String>) -> Self {
        Self::with_client(Client::new(config), table)
    }

    /// On a client of the caller's, e.g. one a [`super::CapacityMeter`] counts.
    pub fn with_client(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The manifest items of `day`, in `sk` order: its shards, and the unsharded item of earlier
    /// versions if one is left. (Days are fixed-width, so the prefix matches no other day.)
    async fn manifest(&self, day: NaiveDate) -> Result<Vec<Shard>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :day)")
            .expression_attribute_values(":pk", s(MANIFEST))
            .expression_attribute_values(":day", s(day_sk(day)))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut shards = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb:Query", e))?;
            for item in page.items() {
                shards.push(Shard {
                    sk: item.string("sk")?.to_owned(),
                    scopes: item.strings("scopes")?,
                });
            }
        }
        Ok(shards)
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

    /// The items of partition `pk` whose `sk` is a day from `start` to `end`, read strongly
    /// consistent: a scope's rows, or the days' revisions.
    async fn days_of(&self, pk: String, start: NaiveDate, end: NaiveDate) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        if start > end {
            return Ok(items);
        }
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :start AND :end")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":start", s(day_sk(start)))
            .expression_attribute_values(":end", s(day_sk(end)))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb:Query", e))?;
            items.extend(page.items.unwrap_or_default());
        }
        Ok(items)
    }

    /// The revisions of the days from `start` to `end`.
    async fn revisions(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, u64>> {
        let items = self.days_of(REVISIONS.to_owned(), start, end).await?;
        items
            .iter()
            .map(|item| Ok((day_of(item)?, item.number::<u64>("rev")?)))
            .collect()
    }

    /// The day's rollups as [`DAY_INDEX`] holds them: (scope key, cost), sorted by scope key.
    async fn indexed_day(&self, day: NaiveDate) -> Result<Vec<(String, StoredCost)>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DAY_INDEX)
            .key_condition_expression("sk = :day AND begins_with(pk, :rollup)")
            .expression_attribute_values(":day", s(day_sk(day)))
            .expression_attribute_values(":rollup", s(scope_pk("")))
            .into_paginator()
            .send();
        let mut rows = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb:Query", e))?;
            for item in page.items() {
                let pk = item.string("pk")?;
                let key = pk.strip_prefix(&scope_pk("")).unwrap_or(pk).to_owned();
                rows.push((key, cost_of(item)?.1));
            }
        }
        Ok(rows)
    }

    /// The day's rollups from [`DAY_INDEX`] once they list exactly the scopes of its manifest
    /// (read strongly consistent) and none is of an earlier revision than the day's (`rev`);
    /// empty for a day without a manifest.
    async fn checked_day(
        &self,
        day: NaiveDate,
        rev: Option<u64>,
    ) -> Result<Vec<(String, DailyCost)>> {
        let listed: BTreeSet<String> = self
            .manifest(day)
            .await?
            .into_iter()
            .flat_map(|shard| shard.scopes)
            .collect();
        if listed.is_empty() {
            return Ok(Vec::new());
        }
        let mut attempt = 0;
        loop {
            let rows = self.indexed_day(day).await?;
            let Some(gap) = index_gap(&listed, rev, &rows) else {
                return Ok(rows.into_iter().map(|(key, row)| (key, row.cost)).collect());
            };
            attempt += 1;
            if attempt == INDEX_ATTEMPTS {
                return Err(StoreError::Aws {
                    operation: "dynamodb:Query",
                    message: format!(
                        "index {DAY_INDEX} differs from the manifest of {day} after \
                         {INDEX_ATTEMPTS} reads: {gap}"
                    ),
                    retryable: true,
                });
            }
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
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
        // Two phases, so that an interruption anywhere leaves each day's shards listing at least
        // every scope stored on that day, and a re-run converges:
        // 1. shards listing old ∪ new scopes, then the new rows;
        // 2. stale rows deleted, then the shards of the new scopes (`#000`…), then every other
        //    shard of the day deleted.
        // Each step is written in full before the next starts (a batch can be half applied). The
        // old ∪ new shards go to indices past both the existing shards and the new ones: a shard
        // is only ever overwritten while another copy lists every stored scope, whatever layout
        // an earlier interrupted run left behind.
        //
        // Each day's revision goes last: until it is written, its new rows are of a later
        // revision than readers hold them to, so an interrupted replace leaves no day unreadable.
        let budget = Self::MANIFEST_SHARD_BYTES;
        let previous = match (plan.keys().next(), plan.keys().next_back()) {
            (Some(first), Some(last)) => self.revisions(*first, *last).await?,
            _ => BTreeMap::new(),
        };
        let (mut cover, mut puts, mut stale, mut narrowed, mut unused, mut marks) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for (day, day_rows) in &plan {
            let rev = previous.get(day).map_or(1, |rev| rev + 1);
            marks.push(put(revision_item(*day, rev))?);
            let existing = self.manifest(*day).await?;
            let old: BTreeSet<String> = existing
                .iter()
                .flat_map(|shard| shard.scopes.iter().cloned())
                .collect();
            let mut new = BTreeSet::new();
            for (scope, cost) in day_rows {
                let scope_key = scope.key();
                puts.push(put(cost_item(&scope_key, *day, cost, rev)?)?);
                new.insert(scope_key);
            }
            for key in old.difference(&new) {
                stale.push(delete(scope_pk(key), day_sk(*day))?);
            }
            let target = shards(*day, &new, 0, budget);
            if existing == target {
                continue; // the same scopes, already listed as phase 2 would list them
            }
            if existing.is_empty() {
                // A new day: its shards overwrite nothing, so they are written once, in phase 1.
                for shard in target {
                    cover.push(put(shard.item())?);
                }
                continue;
            }
            // An emptied day: phase 2 only deletes, so the old shards stay the cover until then.
            let union_shards = if new.is_empty() {
                Vec::new()
            } else {
                let first = existing
                    .iter()
                    .filter_map(|shard| shard_index(*day, &shard.sk))
                    .map(|i| i + 1)
                    .chain([target.len()])
                    .max()
                    .unwrap_or_default();
                let union: BTreeSet<String> = old.union(&new).cloned().collect();
                shards(*day, &union, first, budget)
            };
            let keep: BTreeSet<&str> = target.iter().map(|shard| shard.sk.as_str()).collect();
            let left: BTreeSet<&str> = existing
                .iter()
                .chain(&union_shards)
                .map(|shard| shard.sk.as_str())
                .filter(|sk| !keep.contains(sk))
                .collect();
            for sk in left {
                unused.push(delete(MANIFEST.to_owned(), sk.to_owned())?);
            }
            for shard in union_shards {
                cover.push(put(shard.item())?);
            }
            for shard in target {
                narrowed.push(put(shard.item())?);
            }
        }
        for step in [cover, puts, stale, narrowed, unused, marks] {
            self.write_all(step).await?;
        }
        Ok(())
    }

    async fn stored_series(
        &self,
        scope: &Scope,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<DailySeries> {
        let mut points = BTreeMap::new();
        for item in self.days_of(scope_pk(&scope.key()), start, end).await? {
            let (day, row) = cost_of(&item)?;
            points.insert(day, row.cost);
        }
        Ok(DailySeries::from_points(scope.clone(), start, end, &points))
    }

    async fn stored_all_series(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        kinds: &[ScopeKind],
    ) -> Result<Vec<DailySeries>> {
        let len = usize::try_from((end - start).num_days() + 1).unwrap_or(0);
        let mut by_scope: BTreeMap<Scope, Vec<Option<DailyCost>>> = BTreeMap::new();
        let revisions = self.revisions(start, end).await?;
        for (offset, day) in start.iter_days().take(len).enumerate() {
            for (key, cost) in self.checked_day(day, revisions.get(&day).copied()).await? {
                let scope: Scope = key
                    .parse()
                    .map_err(|e| corrupt(format!("rollup scope `{key}`"), format!("{e}")))?;
                if kinds.contains(&scope.kind()) {
                    by_scope.entry(scope).or_insert_with(|| vec![None; len])[offset] = Some(cost);
                }
            }
        }
        Ok(by_scope
            .into_iter()
            .map(|(scope, days)| DailySeries { scope, start, days })
            .collect())
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
        // Manifest shards exist only for a day with rows, so the first and last bound it.
        let first = self.manifests(true, Some(1)).await?;
        let last = self.manifests(false, Some(1)).await?;
        match (first.first(), last.first()) {
            (Some(first), Some(last)) => Ok(Some((manifest_day(first)?, manifest_day(last)?))),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, rev: Option<u64>) -> (String, StoredCost) {
        let cost = DailyCost::default();
        (key.to_owned(), StoredCost { cost, rev })
    }

    #[test]
    fn a_day_in_the_index_must_list_what_its_manifest_lists() {
        let listed: BTreeSet<String> = ["account=1", "org"].map(str::to_owned).into();
        let row = |k: &str| row(k, None);
        assert_eq!(
            index_gap(&listed, None, &[row("account=1"), row("org")]),
            None
        );
        let lagging = index_gap(&listed, None, &[row("org")]).unwrap();
        assert!(
            lagging.starts_with("1 listed scope(s) not yet"),
            "{lagging}"
        );
        let stale = index_gap(
            &listed,
            None,
            &[row("account=1"), row("account=2"), row("org")],
        );
        assert!(stale.unwrap().contains("1 no longer listed"));
    }

    /// A restated day keeps its scopes: only the day's revision tells a row the index has not
    /// caught up with. Rows without one (written before revisions, or by an earlier version
    /// during a deploy) pass.
    #[test]
    fn a_row_of_an_earlier_revision_is_read_again() {
        let listed: BTreeSet<String> = ["account=1", "org"].map(str::to_owned).into();
        let fresh = [row("account=1", Some(7)), row("org", Some(7))];
        assert_eq!(index_gap(&listed, Some(7), &fresh), None);
        let lagging = [row("account=1", Some(7)), row("org", Some(6))];
        let gap = index_gap(&listed, Some(7), &lagging).unwrap();
        assert!(gap.ends_with("1 of an earlier revision"), "{gap}");
        let unmarked = [row("account=1", None), row("org", None)];
        assert_eq!(index_gap(&listed, None, &unmarked), None);
        assert_eq!(index_gap(&listed, Some(7), &unmarked), None);
        // Rows of a replace whose revision is not written yet are of a later one than held.
        assert_eq!(index_gap(&listed, Some(6), &fresh), None);
    }

    #[test]
    fn a_rows_revision_rides_in_its_cost_and_rows_without_one_still_read() {
        let cost = DailyCost {
            usage: costwatch_core::Money::new(900, 2),
            ..DailyCost::default()
        };
        let item = cost_item(
            "org",
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            &cost,
            42,
        )
        .unwrap();
        let (_, read) = cost_of(&item).unwrap();
        assert_eq!((read.cost, read.rev), (cost, Some(42)));
        let text = item.string("cost").unwrap();
        let plain: DailyCost = serde_json::from_str(text).unwrap();
        assert_eq!(
            plain, cost,
            "earlier versions read the row as before: {text}"
        );
        let mut old = item.clone();
        old.insert("cost".into(), s(serde_json::to_string(&cost).unwrap()));
        assert_eq!(cost_of(&old).unwrap().1.rev, None);
    }
}
