//! Cost Explorer `GetCostAndUsage` as a [`CostSource`] (feature `aws-cost-explorer`).
//!
//! - Grouped pulls: DAILY, UnblendedCost / AmortizedCost / NetUnblendedCost / UsageQuantity,
//!   grouped by LINKED_ACCOUNT × SERVICE; one more request per configured tag key or cost
//!   category (GetCostAndUsage takes at most two GroupBy), whose records come back apart as
//!   [`DayPull::breakdown`] so they never add to totals.
//! - The probe: one ungrouped request for the organisation's daily totals over a window, to
//!   re-pull only the days Cost Explorer revised.
//! - Every page is a request ($0.01 each) and every request, retries included, is taken from the
//!   run's [`RequestBudget`] before it is sent: the cap is never passed. A request cut off by
//!   the cap leaves its days incomplete; they are not returned.
//! - Responses are kept as received (split per day when a page spans several days) for
//!   `raw/ce/dt=…/`, and parsed with [`costwatch_ingest::ce_json::parse`], the same reader the
//!   file importer uses.

mod anomalies;
mod pages;
mod request;

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::config::retry::RetryConfig;
use aws_sdk_costexplorer::types::{GroupDefinition, GroupDefinitionType};
use chrono::NaiveDate;

pub use crate::cost_explorer_options::{CostExplorerOptions, RetryPolicy};
use crate::error::{Result, StoreError};
use crate::ports::{CostSource, DayPull, DayTotal, Fetched, RequestBudget};
use pages::{DayDocs, day_totals, parse_day, split_page};
/// Cost Explorer's jittered backoff, shared by every Cost Explorer caller (recommendations too).
pub(crate) use request::backoff;

/// Folder under `raw/` for Cost Explorer responses.
pub const RAW_SOURCE: &str = "ce";

/// Requested on every call, grouped or not. Only UnblendedCost (BilledCost) and AmortizedCost
/// (EffectiveCost) become record columns; all four are kept in the raw responses.
pub const METRICS: [&str; 4] = [
    "UnblendedCost",
    "AmortizedCost",
    "NetUnblendedCost",
    "UsageQuantity",
];

impl CostExplorerOptions {
    /// The grouped requests made for every run of days: account × service first.
    fn breakdowns(&self) -> Vec<Breakdown> {
        let mut out = vec![Breakdown::AccountService];
        out.extend(self.tag_keys.iter().cloned().map(Breakdown::Tag));
        out.extend(
            self.cost_categories
                .iter()
                .cloned()
                .map(Breakdown::CostCategory),
        );
        out
    }
}

/// One kind of grouped request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Breakdown {
    AccountService,
    Tag(String),
    CostCategory(String),
}

impl Breakdown {
    fn group_by(&self) -> Vec<GroupDefinition> {
        let def = |kind, key: &str| GroupDefinition::builder().r#type(kind).key(key).build();
        match self {
            Breakdown::AccountService => vec![
                def(GroupDefinitionType::Dimension, "LINKED_ACCOUNT"),
                def(GroupDefinitionType::Dimension, "SERVICE"),
            ],
            Breakdown::Tag(key) => vec![def(GroupDefinitionType::Tag, key)],
            Breakdown::CostCategory(name) => vec![def(GroupDefinitionType::CostCategory, name)],
        }
    }

    /// File name stem in `raw/ce/dt=…/`: fixed per request kind, so a re-run replaces it.
    fn stem(&self) -> String {
        match self {
            Breakdown::AccountService => "account-service".to_owned(),
            Breakdown::Tag(key) => format!("tag-{}", key_safe(key)),
            Breakdown::CostCategory(name) => format!("cost-category-{}", key_safe(name)),
        }
    }
}

/// Tag keys and category names may hold `/`, `:`, spaces…: keep ASCII letters, digits, `-`
/// and `_`, percent-encode the rest, so every name is one safe, distinct key segment.
fn key_safe(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Cost Explorer through the AWS SDK. Build it once per container and share it.
#[derive(Debug, Clone)]
pub struct CostExplorerSource {
    client: Client,
    options: CostExplorerOptions,
}

impl CostExplorerSource {
    /// The SDK's own retries are off: this source retries itself, so that every send is counted
    /// and taken from the budget.
    pub fn new(config: &SdkConfig, options: CostExplorerOptions) -> Result<Self> {
        options.validate()?;
        let ce = aws_sdk_costexplorer::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        Ok(Self {
            client: Client::from_conf(ce),
            options,
        })
    }

    pub fn options(&self) -> &CostExplorerOptions {
        &self.options
    }

    /// Fetches one run of days completely, or returns `None` when the budget cut it off.
    async fn fetch_run(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        budget: &RequestBudget,
    ) -> Result<Option<DayPull>> {
        let mut pull = DayPull::default();
        for breakdown in self.options.breakdowns() {
            let group_by = breakdown.group_by();
            let paged = self.pages(Some(&group_by), first, last, budget).await?;
            if !paged.complete {
                return Ok(None);
            }
            let mut by_day: BTreeMap<NaiveDate, DayDocs> = BTreeMap::new();
            for (page, body) in paged.bodies.iter().enumerate() {
                for (day, doc) in split_page(body, first, last)? {
                    by_day.entry(day).or_default().push((page, doc));
                }
            }
            let stem = breakdown.stem();
            for (day, docs) in by_day {
                let label = format!("raw/{RAW_SOURCE}/dt={day}/{stem}");
                let records = parse_day(&docs, &label, &self.options.billing_account_id)?;
                let target = match breakdown {
                    Breakdown::AccountService => &mut pull.records,
                    _ => &mut pull.breakdown,
                };
                target.extend(records.into_iter().filter(|r| r.day() == day));
                for (page, doc) in docs {
                    pull.raw.push((day, format!("{stem}-p{page:03}.json"), doc));
                }
            }
        }
        pull.complete = first.iter_days().take_while(|d| *d <= last).collect();
        Ok(Some(pull))
    }
}

/// Sorted, distinct `days` cut into runs of consecutive days, each at most `max_len` long.
fn runs(days: &[NaiveDate], max_len: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let mut days = days.to_vec();
    days.sort();
    days.dedup();
    let max_len = i64::from(max_len.max(1));
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in days {
        match out.last_mut() {
            Some((first, last))
                if day.pred_opt() == Some(*last) && (day - *first).num_days() < max_len =>
            {
                *last = day;
            }
            _ => out.push((day, day)),
        }
    }
    out
}

#[async_trait]
impl CostSource for CostExplorerSource {
    /// Everything in `start..=end` with no cap. Only account × service records: breakdowns
    /// come through [`fetch_days`](CostSource::fetch_days), which keeps them apart.
    async fn fetch(&self, start: NaiveDate, end: NaiveDate) -> Result<Fetched> {
        let budget = RequestBudget::unlimited();
        let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= end).collect();
        let pull = self.fetch_days(&days, &budget).await?;
        Ok(Fetched {
            records: pull.records,
            raw: pull
                .raw
                .into_iter()
                .map(|(day, name, body)| (format!("{RAW_SOURCE}/dt={day}/{name}"), body))
                .collect(),
            requests: budget.used(),
        })
    }

    async fn probe_totals(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        budget: &RequestBudget,
    ) -> Result<Option<BTreeMap<NaiveDate, DayTotal>>> {
        if start > end {
            return Ok(Some(BTreeMap::new()));
        }
        // Ungrouped pages hold whole days, so even a probe cut off by the cap reports the days
        // it saw correctly; the rest read as changed.
        let paged = self.pages(None, start, end, budget).await?;
        let mut totals = BTreeMap::new();
        for body in &paged.bodies {
            let label = format!("Cost Explorer probe {start}..{end}");
            let records =
                costwatch_ingest::ce_json::parse(body, &label, &self.options.billing_account_id)
                    .map_err(|e| StoreError::Source(e.to_string()))?;
            day_totals(&mut totals, &records, start, end)?;
        }
        Ok(Some(totals))
    }

    /// Runs of consecutive days, oldest first, each run one request per breakdown (plus its
    /// pages). Stops at the first run the budget cuts off, so the days returned are always
    /// everything asked for up to some day.
    async fn fetch_days(&self, days: &[NaiveDate], budget: &RequestBudget) -> Result<DayPull> {
        let mut out = DayPull {
            raw_source: RAW_SOURCE.to_owned(),
            ..DayPull::default()
        };
        for (first, last) in runs(days, self.options.days_per_request) {
            // Cut off by the cap: this run and every later one wait for the next collection.
            let Some(pull) = self.fetch_run(first, last, budget).await? else {
                break;
            };
            out.records.extend(pull.records);
            out.breakdown.extend(pull.breakdown);
            out.raw.extend(pull.raw);
            out.complete.extend(pull.complete);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    #[test]
    fn runs_are_consecutive_days_cut_to_the_longest_request() {
        assert_eq!(runs(&[], 7), vec![]);
        assert_eq!(
            runs(&[d(5), d(1), d(2), d(3), d(5), d(7)], 7),
            vec![(d(1), d(3)), (d(5), d(5)), (d(7), d(7))]
        );
        let month: Vec<NaiveDate> = (1..=10).map(d).collect();
        assert_eq!(
            runs(&month, 4),
            vec![(d(1), d(4)), (d(5), d(8)), (d(9), d(10))]
        );
        assert_eq!(runs(&month, 1).len(), 10);
    }

    #[test]
    fn names_become_distinct_safe_key_segments() {
        assert_eq!(key_safe("team"), "team");
        assert_eq!(key_safe("aws:createdBy"), "aws%3AcreatedBy");
        assert_eq!(key_safe("a b"), "a%20b");
        assert_ne!(key_safe("a b"), key_safe("a_b"));
        assert_eq!(key_safe("../x"), "%2E%2E%2Fx");
    }

    #[test]
    fn options_are_checked_up_front() {
        assert!(CostExplorerOptions::default().validate().is_ok());
        let twice = CostExplorerOptions {
            tag_keys: vec!["team".into(), "team".into()],
            ..CostExplorerOptions::default()
        };
        assert!(twice.validate().is_err());
        let zero = CostExplorerOptions {
            days_per_request: 0,
            ..CostExplorerOptions::default()
        };
        assert!(zero.validate().is_err());
        let blank = CostExplorerOptions {
            cost_categories: vec![" ".into()],
            ..CostExplorerOptions::default()
        };
        assert!(blank.validate().is_err());
    }
}
