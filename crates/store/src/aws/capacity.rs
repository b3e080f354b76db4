//! What a DynamoDB client's calls cost, in request units, computed from the items by DynamoDB's
//! published rules (developer guide, "Item sizes and formats" and "Read/write request units"):
//! a write is 1 unit per KB of the item written, rounded up; a strongly consistent read 1 unit
//! per 4 KB, a Query page counting the summed size of its items rounded up once; an empty
//! answer still costs the minimum. Every read is counted as strongly consistent, which every
//! read of the adapters is (`consistent_read(true)`): by the time the answer is in, the SDK no
//! longer holds the request that said so.
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
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use serde::{Deserialize, Serialize};

use super::ext::Item;

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
    item_size(item).div_ceil(WRITE_UNIT).max(1) as u64
}

fn request_units(request: &WriteRequest) -> u64 {
    match (&request.put_request, &request.delete_request) {
        (Some(put), _) => write_units(&put.item),
        // The deleted item's size is not in the request: the minimum.
        _ => 1,
    }
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
    pub write_units: u64,
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
            read_requests: get(&c.read_requests),
            write_requests: get(&c.write_requests),
            read_bytes: get(&c.read_bytes),
            items_written: get(&c.items_written),
        }
    }

    fn write(&self, units: u64, items: u64) {
        let c = &self.counters;
        c.write_units.fetch_add(units, Ordering::Relaxed);
        c.items_written.fetch_add(items, Ordering::Relaxed);
        c.write_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Retried items were counted when first sent: take them back (their next send counts).
    fn unwrite(&self, requests: &[WriteRequest]) {
        let units: u64 = requests.iter().map(request_units).sum();
        let c = &self.counters;
        c.write_units.fetch_sub(units, Ordering::Relaxed);
        c.items_written
            .fetch_sub(requests.len() as u64, Ordering::Relaxed);
    }

    fn read<'a>(&self, items: impl IntoIterator<Item = &'a Item>) {
        let bytes: usize = items.into_iter().map(item_size).sum();
        let c = &self.counters;
        c.read_halves
            .fetch_add(read_halves(bytes, true), Ordering::Relaxed);
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
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        if let Some(put) = input.downcast_ref::<PutItemInput>() {
            self.write(put.item.as_ref().map_or(1, write_units), 1);
        } else if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
            let requests = batch
                .request_items
                .iter()
                .flat_map(|m| m.values())
                .flatten();
            let (units, items) = requests.fold((0, 0), |(u, n), r| (u + request_units(r), n + 1));
            self.write(units, items);
        } else if input.downcast_ref::<DeleteItemInput>().is_some()
            || input.downcast_ref::<UpdateItemInput>().is_some()
        {
            self.write(1, 1);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Ok(output)) = context.output_or_error() else {
            return Ok(());
        };
        if let Some(query) = output.downcast_ref::<QueryOutput>() {
            self.read(query.items());
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            self.read(get.item.iter());
        } else if let Some(batch) = output.downcast_ref::<BatchWriteItemOutput>() {
            let left = batch.unprocessed_items.iter().flat_map(|m| m.values());
            for requests in left {
                self.unwrite(requests);
            }
        }
        Ok(())
    }
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
}
