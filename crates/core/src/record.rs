//! One cost line in FOCUS column naming (FinOps Open Cost and Usage Specification 1.2).
//! Every reader (Cost Explorer, CUR, FOCUS) produces these; everything downstream reads only these.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::money::Money;

/// FOCUS `ChargeCategory`: the highest-level classification of a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChargeCategory {
    Usage,
    Purchase,
    Tax,
    Credit,
    Adjustment,
}

/// FOCUS `ChargeFrequency`: how often a charge occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChargeFrequency {
    #[serde(rename = "One-Time")]
    OneTime,
    Recurring,
    #[serde(rename = "Usage-Based")]
    UsageBased,
}

/// How analytics treat a charge: usage drives anomalies; recurring fees, tax and credits follow
/// their own calendars and are modelled apart so a fee on the 1st is not a "spike".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBucket {
    Usage,
    Recurring,
    Tax,
    Credit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CostRecord {
    pub charge_period_start: DateTime<Utc>,
    pub charge_period_end: DateTime<Utc>,
    pub billing_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_account_name: Option<String>,
    pub sub_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_account_name: Option<String>,
    pub service_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    pub charge_category: ChargeCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_frequency: Option<ChargeFrequency>,
    pub billed_cost: Money,
    pub effective_cost: Money,
    /// Absent where the source has no list price (Cost Explorer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_cost: Option<Money>,
    pub billing_currency: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(
        rename = "x_UsageType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub x_usage_type: Option<String>,
    /// AWS Cost Categories (name → value); FOCUS has no column for them yet, hence the x_ prefix.
    #[serde(
        rename = "x_CostCategories",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub x_cost_categories: BTreeMap<String, String>,
}

impl CostRecord {
    /// The UTC day this charge is booked on (the day its charge period starts).
    pub fn day(&self) -> NaiveDate {
        self.charge_period_start.date_naive()
    }

    /// Which analytic bucket the charge belongs to.
    pub fn bucket(&self) -> CostBucket {
        match (self.charge_category, self.charge_frequency) {
            (ChargeCategory::Tax, _) => CostBucket::Tax,
            (ChargeCategory::Credit | ChargeCategory::Adjustment, _) => CostBucket::Credit,
            (ChargeCategory::Purchase, _) => CostBucket::Recurring,
            (
                ChargeCategory::Usage,
                Some(ChargeFrequency::Recurring | ChargeFrequency::OneTime),
            ) => CostBucket::Recurring,
            (ChargeCategory::Usage, _) => CostBucket::Usage,
        }
    }

    /// The amount in the chosen cost metric.
    pub fn cost(&self, metric: CostMetric) -> Money {
        match metric {
            CostMetric::Billed => self.billed_cost,
            CostMetric::Effective => self.effective_cost,
        }
    }

    /// Display name of the sub-account: its name where known, else its id.
    pub fn account_label(&self) -> &str {
        self.sub_account_name
            .as_deref()
            .unwrap_or(&self.sub_account_id)
    }
}

/// Which FOCUS cost column the analytics use. Billed matches the invoice (Cost Explorer's
/// UnblendedCost); Effective spreads upfront commitments over usage (AmortizedCost).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostMetric {
    #[default]
    Billed,
    Effective,
}

impl fmt::Display for ChargeCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Usage => "Usage",
            Self::Purchase => "Purchase",
            Self::Tax => "Tax",
            Self::Credit => "Credit",
            Self::Adjustment => "Adjustment",
        })
    }
}

impl FromStr for ChargeCategory {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Usage" => Ok(Self::Usage),
            "Purchase" => Ok(Self::Purchase),
            "Tax" => Ok(Self::Tax),
            "Credit" => Ok(Self::Credit),
            "Adjustment" => Ok(Self::Adjustment),
            other => Err(CoreError::UnknownValue {
                what: "ChargeCategory",
                value: other.to_owned(),
            }),
        }
    }
}

impl FromStr for ChargeFrequency {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "One-Time" => Ok(Self::OneTime),
            "Recurring" => Ok(Self::Recurring),
            "Usage-Based" => Ok(Self::UsageBased),
            other => Err(CoreError::UnknownValue {
                what: "ChargeFrequency",
                value: other.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    pub(crate) fn sample() -> CostRecord {
        CostRecord {
            charge_period_start: Utc.with_ymd_and_hms(2024, 9, 18, 22, 0, 0).unwrap(),
            charge_period_end: Utc.with_ymd_and_hms(2024, 9, 18, 23, 0, 0).unwrap(),
            billing_account_id: "123456789012".into(),
            billing_account_name: None,
            sub_account_id: "210987654321".into(),
            sub_account_name: Some("web-prod".into()),
            service_name: "Amazon Simple Queue Service".into(),
            service_category: Some("Integration".into()),
            region_id: Some("us-west-2".into()),
            charge_category: ChargeCategory::Usage,
            charge_frequency: Some(ChargeFrequency::UsageBased),
            billed_cost: dec!(0.0000008),
            effective_cost: dec!(0.0000008),
            list_cost: Some(dec!(0.0000008)),
            billing_currency: "USD".into(),
            tags: BTreeMap::from([("team".into(), "web".into())]),
            resource_id: None,
            x_usage_type: Some("USW2-Requests-Tier1".into()),
            x_cost_categories: BTreeMap::new(),
        }
    }

    #[test]
    fn serialises_with_focus_column_names_and_exact_decimals() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["ChargePeriodStart"], "2024-09-18T22:00:00Z");
        assert_eq!(json["SubAccountId"], "210987654321");
        assert_eq!(json["x_UsageType"], "USW2-Requests-Tier1");
        assert_eq!(json["BilledCost"], "0.0000008");
        assert_eq!(json["ChargeFrequency"], "Usage-Based");
        let back: CostRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn buckets_separate_fees_tax_and_credits_from_usage() {
        let mut r = sample();
        assert_eq!(r.bucket(), CostBucket::Usage);
        r.charge_frequency = Some(ChargeFrequency::Recurring);
        assert_eq!(r.bucket(), CostBucket::Recurring);
        r.charge_category = ChargeCategory::Purchase;
        assert_eq!(r.bucket(), CostBucket::Recurring);
        r.charge_category = ChargeCategory::Tax;
        assert_eq!(r.bucket(), CostBucket::Tax);
        r.charge_category = ChargeCategory::Credit;
        assert_eq!(r.bucket(), CostBucket::Credit);
    }

    #[test]
    fn unknown_category_is_a_named_error() {
        let err = "Refund".parse::<ChargeCategory>().unwrap_err();
        assert_eq!(err.to_string(), "unknown ChargeCategory `Refund`");
    }
}
