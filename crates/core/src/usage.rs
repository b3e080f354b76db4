//! Per-resource usage lines: what a recommendation rests on. Cost records roll line items up to
//! the dimensions spend is reported by; a recommendation needs more of each line — how much was
//! used (hours, GB-months, GB processed), the usage type and operation, the CUR line item type
//! (on-demand usage vs reservation-covered) — so readers that can (the CUR) also produce these,
//! rolled up per day, account, region, usage type, operation, resource and line item type.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageLine {
    pub day: NaiveDate,
    /// Usage account id.
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// `line_item_product_code`: `AmazonEC2`, `AmazonS3` …
    pub product_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `line_item_usage_type`, e.g. `EBS:VolumeUsage.gp2`, `USE1-NatGateway-Bytes` (empty when
    /// the line has none).
    pub usage_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// `line_item_line_item_type`: `Usage`, `DiscountedUsage`, `RIFee`, `Tax` …
    pub line_item_type: String,
    /// Unblended cost of the lines rolled into this one.
    pub cost: Money,
    /// Sum of `line_item_usage_amount`, in the usage type's unit (hours, GB-months, GB …).
    pub usage_amount: Money,
    /// User cost-allocation tags (`resource_tags_user_*`) the lines carried.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// How many source line items were rolled into this one (evidence: the rows it rests on).
    pub lines: u64,
}
