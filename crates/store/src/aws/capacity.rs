//! What a DynamoDB client's calls cost, in request units, computed from the items by DynamoDB's
//! published rules (developer guide, "Item sizes and formats" and "Read/write request units"):
//! a write is 1 unit per KB of the item written, rounded up; a strongly consistent read 1 unit
//! per 4 KB, a Query page counting the summed size of its items rounded up once; an empty
//! answer still costs the minimum. A read is counted as strongly consistent unless its request
//! said otherwise (a Query of an index cannot be, and costs half). Every write also writes the
//! table's index ([`DAY_INDEX`](super::DAY_INDEX)), which indexes every item (each has `pk` and `sk`): DynamoDB
//! charges that write again for the item's projection (`pk`, `sk`, `cost`), and so does the
//! meter, in `index_write_units`.
//!
//! Why computed and not read from `ReturnConsumedCapacity`: moto, where the benchmarks run,
//! answers fixed figures (0.5, 1 or 2 per call whatever the size). Two things the items alone
//! cannot tell are counted low, and said so: a delete costs the size of the deleted item
//! (unknown here; counted as 1 unit) and an overwrite the larger of the old and new item
//! (counted as the new one).
//!
//! The meter is an SDK interceptor ([`CapacityMeter::client`]): the adapters run unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde::{Deserialize, Serialize};

use super::ext::Item;

/// The attributes [`DAY_INDEX`](super::DAY_INDEX) holds of an item (its keys and its projection).
const INDEXED: [&str; 3] = ["pk", "sk", "cost"];

const WRITE_UNIT: usize = 1024;
const READ_UNIT: usize = 4096;

/// The bytes DynamoDB counts for an item: each attribute's name and value.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, v)| name.len() + value_size(v))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        // A document: 3 bytes, plus 1 per element and the element (a map's with its name).
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        // A type newer than this SDK: count nothing rather than guess.
        _ => 0,
    }
}

/// 1 byte per two significant digits, plus 1.
fn number_size(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

fn write_units(item: &Item) -> u64 {
    units_of(item_size(item))
}

fn units_of(bytes: usize) -> u64 {
    bytes.div_ceil(WRITE_UNIT).max(1) as u64
}

/// The write units of the item's copy in [`DAY_INDEX`](super::DAY_INDEX).
fn index_write_units(item: &Item) -> u64 {
    let projected = item
        .iter()
        .filter(|(name, _)| INDEXED.contains(&name.as_str()))
        .map(|(name, v)| name.len() + value_size(v))
        .sum();
    units_of(projected)
}

/// (table, index) write units of one request of a batch.
fn request_units(request: &WriteRequest) -> (u64, u64) {
    match (&request.put_request, &request.delete_request) {
        (Some(put), _) => (write_units(&put.item), index_write_units(&put.item)),
        // The deleted item's size is not in the request: the minimum, in both.
        _ => (1, 1),
    }
}

/// Whether the Query being answered asked for a strongly consistent read: set before the call,
/// read after it, in the call's own ConfigBag.
#[derive(Debug, Clone, Copy)]
struct Consistent(bool);

impl Storable for Consistent {
    type Storer = StoreReplace<Self>;
}

/// Half units of a read of `bytes`: a strongly consistent read costs two halves per 4 KB.
fn read_halves(bytes: usize, consistent: bool) -> u64 {
    let units = bytes.div_ceil(READ_UNIT).max(1) as u64;
    if consistent { units * 2 } else { units }
}

/// What a meter counted: request units and requests, reads and writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub read_units: f64,
    /// Units of the table's own items.
    pub write_units: u64,
    /// Units of the same writes in the table's index.
    #[serde(default)]
    pub index_write_units: u64,
    pub read_requests: u64,
    pub write_requests: u64,
    /// Bytes of the items read, as DynamoDB counts them.
    pub read_bytes: u64,
    /// Items written (puts and deletes, each a write however it was batched).
    pub items_written: u64,
}

impl std::ops::Sub for Capacity {
    type Output = Capacity;
    fn sub(self, earlier: Capacity) -> Capacity {
        Capacity {
            read_units: self.read_units - earlier.read_units,
            write_units: self.write_units - earlier.write_units,
            index_write_units: self.index_write_units - earlier.index_write_units,
            read_requests: self.read_requests - earlier.read_requests,
            write_requests: self.write_requests - earlier.write_requests,
            read_bytes: self.read_bytes - earlier.read_bytes,
            items_written: self.items_written - earlier.items_written,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    read_halves: AtomicU64,
    write_units: AtomicU64,
    index_write_units: AtomicU64,
    read_requests: AtomicU64,
    write_requests: AtomicU64,
    read_bytes: AtomicU64,
    items_written: AtomicU64,
}

/// Counts the request units of every call made through its clients; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct CapacityMeter {
    counters: Arc<Counters>,
}

impl CapacityMeter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A DynamoDB client on `config` whose every call this meter counts.
    pub fn client(&self, config: &SdkConfig) -> Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        Client::from_conf(conf)
    }

    pub fn total(&self) -> Capacity {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Capacity {
            read_units: get(&c.read_halves) as f64 / 2.0,
            write_units: get(&c.write_units),
            index_write_units: get(&c.index_write_units),
            read_requests: get(&c.read_requests),
            write_requests: get(&c.write_requests),
            read_bytes: get(&c.read_bytes),
            items_written: get(&c.items_written),
        }
    }

    fn write(&self, (units, index_units): (u64, u64), items: u64) {
        let c = &self.counters;
        c.write_units.fetch_add(units, Ordering::Relaxed);
        c.index_write_units
            .fetch_add(index_units, Ordering::Relaxed);
        c.items_written.fetch_add(items, Ordering::Relaxed);
        c.write_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Retried items were counted when first sent: take them back (their next send counts).
    fn unwrite(&self, requests: &[WriteRequest]) {
        let (units, index_units) = sum_units(requests);
        let c = &self.counters;
        c.write_units.fetch_sub(units, Ordering::Relaxed);
        c.index_write_units
            .fetch_sub(index_units, Ordering::Relaxed);
        c.items_written
            .fetch_sub(requests.len() as u64, Ordering::Relaxed);
    }

    fn read<'a>(&self, items: impl IntoIterator<Item = &'a Item>, consistent: bool) {
        let bytes: usize = items.into_iter().map(item_size).sum();
        let c = &self.counters;
        c.read_halves
            .fetch_add(read_halves(bytes, consistent), Ordering::Relaxed);
        c.read_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        c.read_requests.fetch_add(1, Ordering::Relaxed);
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    /// Writes are charged as sent, whatever the answer (a failed condition check costs too).
    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        if let Some(put) = input.downcast_ref::<PutItemInput>() {
            let units = put
                .item
                .as_ref()
                .map_or((1, 1), |i| (write_units(i), index_write_units(i)));
            self.write(units, 1);
        } else if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
            let requests: Vec<&WriteRequest> = batch
                .request_items
                .iter()
                .flat_map(|m| m.values())
                .flatten()
                .collect();
            self.write(sum_units(requests.iter().copied()), requests.len() as u64);
        } else if input.downcast_ref::<DeleteItemInput>().is_some()
            || input.downcast_ref::<UpdateItemInput>().is_some()
        {
            self.write((1, 1), 1);
        } else if let Some(query) = input.downcast_ref::<QueryInput>() {
            // DynamoDB's default is eventually consistent; an index cannot be read otherwise.
            let consistent = query.index_name.is_none() && query.consistent_read == Some(true);
            cfg.interceptor_state().store_put(Consistent(consistent));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Ok(output)) = context.output_or_error() else {
            return Ok(());
        };
        if let Some(query) = output.downcast_ref::<QueryOutput>() {
            let consistent = cfg.load::<Consistent>().is_none_or(|c| c.0);
            self.read(query.items(), consistent);
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            // Every GetItem of the adapters is strongly consistent.
            self.read(get.item.iter(), true);
        } else if let Some(batch) = output.downcast_ref::<BatchWriteItemOutput>() {
            let left = batch.unprocessed_items.iter().flat_map(|m| m.values());
            for requests in left {
                self.unwrite(requests);
            }
        }
        Ok(())
    }
}

fn sum_units<'a>(requests: impl IntoIterator<Item = &'a WriteRequest>) -> (u64, u64) {
    requests
        .into_iter()
        .map(request_units)
        .fold((0, 0), |(u, i), (a, b)| (u + a, i + b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    #[test]
    fn sizes_count_names_and_values_by_dynamodbs_rules() {
        let item = Item::from([
            ("pk".to_owned(), s("rollup-days")),
            ("n".to_owned(), AttributeValue::N("-0012.3400".into())),
        ]);
        // "pk" 2 + 11; "n" 1 + (4 significant digits "1234" → 2 bytes + 1).
        assert_eq!(item_size(&item), 2 + 11 + 1 + 3);
        let list = AttributeValue::L(vec![s("ab"), s("cde")]);
        assert_eq!(value_size(&list), 3 + (1 + 2) + (1 + 3));
        let map = AttributeValue::M([("k".to_owned(), AttributeValue::Bool(true))].into());
        assert_eq!(value_size(&map), 3 + 1 + 1 + 1);
        assert_eq!(number_size("100"), 2, "trailing zeros are not significant");
        assert_eq!(number_size("1.5e10"), 2);
    }

    #[test]
    fn units_round_up_per_item_and_per_read() {
        let item = |bytes: usize| Item::from([("v".to_owned(), s(&"x".repeat(bytes - 1)))]);
        assert_eq!(write_units(&item(1024)), 1);
        assert_eq!(write_units(&item(1025)), 2);
        assert_eq!(read_halves(0, true), 2, "an empty answer costs the minimum");
        assert_eq!(read_halves(4096, true), 2);
        assert_eq!(read_halves(4097, true), 4);
        assert_eq!(read_halves(4097, false), 2);
    }

    #[test]
    fn the_index_is_charged_for_what_it_projects() {
        let manifest = Item::from([
            ("pk".to_owned(), s("rollup-days")),
            ("sk".to_owned(), s("2026-01-02#000")),
            ("scopes".to_owned(), s(&"x".repeat(5000))),
        ]);
        assert_eq!(write_units(&manifest), 5);
        assert_eq!(
            index_write_units(&manifest),
            1,
            "the scopes are not projected"
        );
        let rollup = Item::from([
            ("pk".to_owned(), s("rollup#org")),
            ("sk".to_owned(), s("2026-01-02")),
            ("cost".to_owned(), s(&"9".repeat(1500))),
        ]);
        assert_eq!((write_units(&rollup), index_write_units(&rollup)), (2, 2));
    }
}
