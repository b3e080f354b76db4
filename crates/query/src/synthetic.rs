//! A month of CUR 2.0 line items written as AWS Data Exports lays them out
//! (`data/BILLING_PERIOD=YYYY-MM/<name>-NNNNN.snappy.parquet`, maps for `product`,
//! `resource_tags` and `cost_category`), of any size, for the embedded engine's tests and the
//! import benchmark (`costwatch bench cur`). Deterministic: the same arguments write the same
//! lines, and the writer returns the sums a correct roll-up must find.
//!
//! Shape: `resources` resources, each with a fixed account, service, usage type, region, tags
//! and hourly cost, billed once an hour in time order (as CUR is), so a month of N lines has
//! N / hours resources. One in 20 runs on a reservation (DiscountedUsage, amortised at 60 %),
//! one in 31 under a Savings Plan (effective 72 %); one in 7 carries no tags. Amounts are whole
//! micro-dollars, so their decimal sums are exact.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc};
use costwatch_core::Money;
use datafusion::arrow::array::{
    ArrayRef, Float64Builder, MapBuilder, RecordBatch, StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

use crate::QueryError;

const SERVICES: [(&str, &str, &str); 16] = [
    (
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "BoxUsage:m5.large",
    ),
    (
        "AmazonS3",
        "Amazon Simple Storage Service",
        "TimedStorage-ByteHrs",
    ),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        "InstanceUsage:db.r5.large",
    ),
    ("AWSLambda", "AWS Lambda", "Lambda-GB-Second"),
    ("AmazonDynamoDB", "Amazon DynamoDB", "TimedStorage-ByteHrs"),
    (
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "CW:MetricMonitorUsage",
    ),
    (
        "AmazonVPC",
        "Amazon Virtual Private Cloud",
        "NatGateway-Hours",
    ),
    (
        "AmazonEKS",
        "Amazon Elastic Container Service for Kubernetes",
        "AmazonEKS-Hours:perCluster",
    ),
    (
        "AmazonECS",
        "Amazon Elastic Container Service",
        "Fargate-vCPU-Hours:perCPU",
    ),
    (
        "AmazonElastiCache",
        "Amazon ElastiCache",
        "NodeUsage:cache.m5.large",
    ),
    (
        "AmazonSNS",
        "Amazon Simple Notification Service",
        "Requests-Tier1",
    ),
    (
        "AWSQueueService",
        "Amazon Simple Queue Service",
        "Requests-RBP",
    ),
    ("AmazonKinesis", "Amazon Kinesis", "Storage-ShardHour"),
    ("AmazonRedshift", "Amazon Redshift", "Node:dc2.large"),
    ("AWSGlue", "AWS Glue", "ETL-DPU-Hour"),
    ("AmazonAthena", "Amazon Athena", "DataScannedInTB"),
];
const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"];
const TEAMS: [&str; 8] = [
    "web", "data", "payments", "search", "ml", "platform", "mobile", "growth",
];
const BATCH: usize = 65_536;

/// What to write.
#[derive(Debug, Clone)]
pub struct MonthSpec {
    /// The first day of the month.
    pub month: NaiveDate,
    pub lines: u64,
    pub accounts: u32,
    /// Lines per file (Data Exports splits a month into several files).
    pub lines_per_file: u64,
}

/// The sums a correct daily roll-up finds in what was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    pub billed_by_day: BTreeMap<NaiveDate, Money>,
    pub effective_by_day: BTreeMap<NaiveDate, Money>,
    /// Billed cost per `team` tag value ("" for untagged lines).
    pub billed_by_team: BTreeMap<String, Money>,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
}

/// splitmix64: a fixed, dependency-free stream of numbers from a seed.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct Resource {
    account: u32,
    service: usize,
    region: &'static str,
    team: Option<&'static str>,
    kind: &'static str,
    micros: i64,
}

fn resource(r: u64, accounts: u32) -> Resource {
    let h = mix(r);
    let kind = if r % 20 == 7 {
        "DiscountedUsage"
    } else if r % 31 == 3 {
        "SavingsPlanCoveredUsage"
    } else {
        "Usage"
    };
    Resource {
        account: (h % u64::from(accounts.max(1))) as u32,
        service: ((h >> 16) % SERVICES.len() as u64) as usize,
        region: REGIONS[((h >> 24) % REGIONS.len() as u64) as usize],
        team: (!r.is_multiple_of(7)).then(|| TEAMS[((h >> 32) % TEAMS.len() as u64) as usize]),
        kind,
        // 1 µ$ to 0.5 $ an hour.
        micros: 1 + ((h >> 40) % 500_000) as i64,
    }
}

fn days_in_month(month: NaiveDate) -> u32 {
    let next = month + chrono::Months::new(1);
    (next - month).num_days() as u32
}

/// Writes the month under `root` (`root/data/BILLING_PERIOD=YYYY-MM/`).
pub fn write_month(root: &Path, spec: &MonthSpec) -> Result<Expected, QueryError> {
    let io = |e: std::io::Error| QueryError::Source(e.to_string());
    let month = spec.month.with_day(1).unwrap_or(spec.month);
    let hours = u64::from(days_in_month(month)) * 24;
    let resources = spec.lines.div_ceil(hours).max(1);
    let folder = root.join(format!("data/BILLING_PERIOD={}", month.format("%Y-%m")));
    std::fs::create_dir_all(&folder).map_err(io)?;
    let start = Utc.from_utc_datetime(&month.and_time(chrono::NaiveTime::MIN));
    let mut expected = Expected::default();
    let mut written = 0u64;
    let mut file_number = 1;
    while written < spec.lines {
        let path = folder.join(format!("costwatch-{file_number:05}.snappy.parquet"));
        let in_file = spec.lines_per_file.max(1).min(spec.lines - written);
        write_file(
            &path,
            written,
            in_file,
            resources,
            spec.accounts,
            start,
            &mut expected,
        )?;
        expected.bytes += std::fs::metadata(&path).map_err(io)?.len();
        expected.files.push(path);
        written += in_file;
        file_number += 1;
    }
    Ok(expected)
}

#[allow(clippy::too_many_arguments)]
fn write_file(
    path: &Path,
    first: u64,
    lines: u64,
    resources: u64,
    accounts: u32,
    start: chrono::DateTime<Utc>,
    expected: &mut Expected,
) -> Result<(), QueryError> {
    let failed = |e: &dyn std::fmt::Display| QueryError::Source(format!("{}: {e}", path.display()));
    let file = File::create(path).map_err(|e| failed(&e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer: Option<ArrowWriter<File>> = None;
    let mut line = first;
    let end = first + lines;
    let mut file = Some(file);
    while line < end {
        let n = (end - line).min(BATCH as u64);
        let batch = batch(line, n, resources, accounts, start, expected).map_err(|e| failed(&e))?;
        if writer.is_none() {
            let f = file.take().ok_or_else(|| failed(&"file already taken"))?;
            writer = Some(
                ArrowWriter::try_new(f, batch.schema(), Some(props.clone()))
                    .map_err(|e| failed(&e))?,
            );
        }
        if let Some(w) = writer.as_mut() {
            w.write(&batch).map_err(|e| failed(&e))?;
        }
        line += n;
    }
    if let Some(w) = writer {
        w.close().map_err(|e| failed(&e))?;
    }
    Ok(())
}

fn map_builder() -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

fn batch(
    first: u64,
    n: u64,
    resources: u64,
    accounts: u32,
    start: chrono::DateTime<Utc>,
    expected: &mut Expected,
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let text = StringBuilder::new;
    let (mut payer, mut payer_name, mut account, mut account_name) =
        (text(), text(), text(), text());
    let timestamp = || TimestampMillisecondBuilder::new().with_timezone("UTC");
    let (mut usage_start, mut usage_end) = (timestamp(), timestamp());
    let (mut kind, mut code, mut usage_type, mut operation, mut resource_id) =
        (text(), text(), text(), text(), text());
    let number = Float64Builder::new;
    let (mut amount, mut unblended, mut net) = (number(), number(), number());
    let (mut rate, mut currency, mut unit, mut region_code, mut servicecode) =
        (text(), text(), text(), text(), text());
    let (mut list, mut ri_effective, mut ri_upfront, mut ri_recurring, mut sp_effective) =
        (number(), number(), number(), number(), number());
    let (mut product, mut tags, mut categories) = (map_builder(), map_builder(), map_builder());

    for line in first..first + n {
        let (hour, r) = (line / resources, line % resources);
        let res = resource(r, accounts);
        let (code_value, name, usage) = SERVICES[res.service];
        let at = start + chrono::Duration::hours(hour as i64);
        // ±10 % from hour to hour, whole micro-dollars.
        let micros = res.micros + (res.micros * ((mix(line) % 21) as i64 - 10)) / 100;
        let cost = micros as f64 / 1e6;
        let account_id = format!("{:012}", 100_000_000_000u64 + u64::from(res.account));
        payer.append_value("999999999999");
        payer_name.append_value("Example Org");
        account.append_value(&account_id);
        account_name.append_value(format!("account-{}", res.account));
        usage_start.append_value(at.timestamp_millis());
        usage_end.append_value((at + chrono::Duration::hours(1)).timestamp_millis());
        kind.append_value(res.kind);
        code.append_value(code_value);
        usage_type.append_value(usage);
        operation.append_value("RunInstances");
        resource_id.append_value(format!(
            "arn:aws:{code_value}:{}:{account_id}:r-{r}",
            res.region
        ));
        amount.append_value(1.0);
        unblended.append_value(cost);
        net.append_value(cost);
        rate.append_value(cost.to_string());
        currency.append_value("USD");
        unit.append_value("Hrs");
        region_code.append_value(res.region);
        servicecode.append_value(code_value);
        list.append_value(cost);
        let effective_micros = match res.kind {
            "DiscountedUsage" => {
                let e = micros * 6 / 10;
                ri_effective.append_value(e as f64 / 1e6);
                sp_effective.append_null();
                e
            }
            "SavingsPlanCoveredUsage" => {
                let e = micros * 72 / 100;
                ri_effective.append_null();
                sp_effective.append_value(e as f64 / 1e6);
                e
            }
            _ => {
                ri_effective.append_null();
                sp_effective.append_null();
                micros
            }
        };
        ri_upfront.append_null();
        ri_recurring.append_null();
        product.keys().append_value("product_name");
        product.values().append_value(name);
        product.keys().append_value("region");
        product.values().append_value(res.region);
        product.append(true)?;
        if let Some(team) = res.team {
            tags.keys().append_value("user_team");
            tags.values().append_value(team);
        }
        tags.append(true)?;
        categories.keys().append_value("business_unit");
        categories
            .values()
            .append_value(if res.account.is_multiple_of(2) {
                "retail"
            } else {
                "cloud"
            });
        categories.append(true)?;

        let day = at.date_naive();
        let money = |m: i64| Money::new(m, 6);
        *expected.billed_by_day.entry(day).or_default() += money(micros);
        *expected.effective_by_day.entry(day).or_default() += money(effective_micros);
        *expected
            .billed_by_team
            .entry(res.team.unwrap_or_default().to_owned())
            .or_default() += money(micros);
    }

    let columns: Vec<(&str, ArrayRef)> = vec![
        ("bill_payer_account_id", Arc::new(payer.finish())),
        ("bill_payer_account_name", Arc::new(payer_name.finish())),
        ("line_item_usage_account_id", Arc::new(account.finish())),
        (
            "line_item_usage_account_name",
            Arc::new(account_name.finish()),
        ),
        ("line_item_usage_start_date", Arc::new(usage_start.finish())),
        ("line_item_usage_end_date", Arc::new(usage_end.finish())),
        ("line_item_line_item_type", Arc::new(kind.finish())),
        ("line_item_product_code", Arc::new(code.finish())),
        ("line_item_usage_type", Arc::new(usage_type.finish())),
        ("line_item_operation", Arc::new(operation.finish())),
        ("line_item_resource_id", Arc::new(resource_id.finish())),
        ("line_item_usage_amount", Arc::new(amount.finish())),
        ("line_item_unblended_cost", Arc::new(unblended.finish())),
        ("line_item_unblended_rate", Arc::new(rate.finish())),
        ("line_item_net_unblended_cost", Arc::new(net.finish())),
        ("line_item_currency_code", Arc::new(currency.finish())),
        ("pricing_public_on_demand_cost", Arc::new(list.finish())),
        ("pricing_unit", Arc::new(unit.finish())),
        ("product", Arc::new(product.finish())),
        ("product_region_code", Arc::new(region_code.finish())),
        ("product_servicecode", Arc::new(servicecode.finish())),
        (
            "reservation_effective_cost",
            Arc::new(ri_effective.finish()),
        ),
        (
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            Arc::new(ri_upfront.finish()),
        ),
        (
            "reservation_unused_recurring_fee",
            Arc::new(ri_recurring.finish()),
        ),
        (
            "savings_plan_savings_plan_effective_cost",
            Arc::new(sp_effective.finish()),
        ),
        ("resource_tags", Arc::new(tags.finish())),
        ("cost_category", Arc::new(categories.finish())),
    ];
    RecordBatch::try_from_iter(columns)
}

/// The day after the month's last, for a window over the whole month.
pub fn month_end(month: NaiveDate) -> NaiveDate {
    let first = month.with_day(1).unwrap_or(month);
    first + Days::new(u64::from(days_in_month(first)))
}
