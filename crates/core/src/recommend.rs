//! Recommendations as every source states them (the suite's CUR rules in costwatch-analytics,
//! Cost Optimization Hub and Cost Explorer through costwatch-store): what to do, on which
//! resource, for how much a month, with the evidence and the formula. The analytics merge them
//! into one list; these are the types they share.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::stable_id;
use crate::money::Money;

/// Where a recommendation comes from. Part of its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// This suite's rules over the CUR.
    Suite,
    CostOptimizationHub,
    CeRightsizing,
    CeSavingsPlans,
    CeReservations,
}

/// What is recommended. Part of the stable id and the envelope's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    IdleElasticIp,
    /// An EBS volume billed while no instance ran in its account and region: unattached, or
    /// attached to a stopped instance (the CUR cannot tell which).
    VolumeWithoutInstance,
    IdleLoadBalancer,
    PreviousGeneration,
    Gp2ToGp3,
    NatGatewayGrowth,
    S3WithoutLifecycle,
    UntaggedSpend,
    Rightsizing,
    SavingsPlansPurchase,
    ReservedInstancesPurchase,
    /// Cost Optimization Hub types the suite has no rule of its own for.
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdleElasticIp => "idle_elastic_ip",
            Self::VolumeWithoutInstance => "volume_without_instance",
            Self::IdleLoadBalancer => "idle_load_balancer",
            Self::PreviousGeneration => "previous_generation",
            Self::Gp2ToGp3 => "gp2_to_gp3",
            Self::NatGatewayGrowth => "nat_gateway_growth",
            Self::S3WithoutLifecycle => "s3_without_lifecycle",
            Self::UntaggedSpend => "untagged_spend",
            Self::Rightsizing => "rightsizing",
            Self::SavingsPlansPurchase => "savings_plans_purchase",
            Self::ReservedInstancesPurchase => "reserved_instances_purchase",
            Self::Other => "other",
        }
    }

    /// Buying a commitment: its saving overlaps with saving on the usage it would cover.
    pub fn is_commitment(self) -> bool {
        matches!(
            self,
            Self::SavingsPlansPurchase | Self::ReservedInstancesPurchase
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Usage lines a finding rests on, summed over the rule's window for one usage type of one
/// resource: enough to find the rows in the CUR again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub usage_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub line_item_type: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub usage_amount: Money,
    pub cost: Money,
    /// CUR line items summed.
    pub lines: u64,
}

/// What to do: a console page and an AWS CLI command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub summary: String,
    pub console_url: String,
    pub cli: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub source: Source,
    pub kind: Kind,
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// CUR product code (`AmazonEC2`) or the source's service name.
    pub service: String,
    /// The resource id, or `account/region/usage type` where the CUR names no resource (Elastic
    /// IP lines often carry none). One resource is never counted twice in [`list`].
    pub resource: String,
    pub title: String,
    pub current_monthly_cost: Money,
    pub monthly_savings: Money,
    /// The estimate, written out with the numbers used.
    pub formula: String,
    pub evidence: Vec<Evidence>,
    pub action: Action,
    /// The resource's user tags (routing by tag).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Untagged spend only: the account's untagged share of spend, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_pct: Option<f64>,
}

impl Finding {
    /// Stable id: the same source, kind and resource always give the same id.
    pub fn id(&self) -> String {
        stable_id(
            "rec",
            &[source_str(self.source), self.kind.as_str(), &self.resource],
        )
    }

    /// savings / current cost × 100 (None when nothing is spent today).
    pub fn savings_pct(&self) -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        (!self.current_monthly_cost.is_zero())
            .then(|| (self.monthly_savings / self.current_monthly_cost * Money::from(100)).to_f64())
            .flatten()
    }
}

fn source_str(s: Source) -> &'static str {
    match s {
        Source::Suite => "suite",
        Source::CostOptimizationHub => "cost_optimization_hub",
        Source::CeRightsizing => "ce_rightsizing",
        Source::CeSavingsPlans => "ce_savings_plans",
        Source::CeReservations => "ce_reservations",
    }
}
