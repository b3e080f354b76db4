//! What the analytics find: anomalies, forecasts, budget status, recommendations and report
//! summaries. The pipeline turns each into a Notification envelope.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::scope::Scope;
use crate::series::month_last_day;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Rise,
    Fall,
}

/// A dimension that explains part of an anomaly, ranked by its dollar contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    /// `account`, `service`, `region`, `usage_type`, `resource` or `tag:<key>`.
    pub dimension: String,
    pub value: String,
    /// Change in dollars this value contributed (actual − its expected).
    pub contribution: Money,
    /// Fraction of the anomaly's impact explained by this value, 0–1.
    pub share: f64,
}

/// One resource behind an anomaly (from CUR / Data Exports line items): what it added to the
/// day against its recent baseline, and whether that came from using more (usage) or paying more
/// per unit (rate). See `costwatch_analytics::resource_drivers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceCause {
    /// The resource id (an ARN, instance id, bucket…); none for lines without one (a usage
    /// type of an account, such as data transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub account: String,
    /// `line_item_product_code`: `AmazonEC2`, `AWSGlue` …
    pub product_code: String,
    pub usage_type: String,
    /// The owner tag's value (the first of the configured owner tag keys it carries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The day's cost minus the baseline's mean day.
    pub contribution: Money,
    /// The part of it from quantity, and the part from unit price (they add up to it).
    pub usage_effect: Money,
    pub rate_effect: Money,
    /// `usage`, `rate`, `mixed` or `charge` (a fee, tax or credit).
    pub driver: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub scope: Scope,
    /// First day of the anomalous run; part of the anomaly's identity.
    pub start_date: NaiveDate,
    /// Latest day evaluated.
    pub date: NaiveDate,
    pub direction: Direction,
    pub actual: Money,
    pub expected: Money,
    /// Interval around `expected` outside which a day counts as anomalous.
    pub lower: Money,
    pub upper: Money,
    /// actual − expected on `date`.
    pub impact: Money,
    /// impact / expected × 100 (None when nothing was expected).
    pub impact_pct: Option<f64>,
    /// Detector score, 0–1.
    pub score: f64,
    pub root_causes: Vec<RootCause>,
    /// The resources that moved the day, when the cost source has line items (Data Exports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceCause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    pub mean: Money,
    pub lo80: Money,
    pub hi80: Money,
    pub lo95: Money,
    pub hi95: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthEndForecast {
    pub scope: Scope,
    /// First day of the month forecast.
    pub month: NaiveDate,
    /// Last day with actual data.
    pub as_of: NaiveDate,
    pub actual_to_date: Money,
    pub total: Money,
    pub lo80: Money,
    pub hi80: Money,
    pub lo95: Money,
    pub hi95: Money,
    pub previous_month_total: Option<Money>,
    /// Daily forecasts from the day after `as_of` to the month end.
    pub daily: Vec<ForecastPoint>,
}

impl MonthEndForecast {
    /// Every day of the month has actual data: the total is known and nothing is left to
    /// forecast (a message gives the month to date, not a forecast with a zero-width interval).
    pub fn is_complete(&self) -> bool {
        self.as_of >= month_last_day(self.month)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdBasis {
    Actual,
    Forecast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Percent of the budget amount, e.g. 80 or 120.
    pub percent: u32,
    pub basis: ThresholdBasis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetCrossing {
    pub budget: String,
    pub scope: Scope,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub as_of: NaiveDate,
    pub limit: Money,
    pub actual: Money,
    /// The month-end forecast; the actual while [`Self::forecast_pending`].
    pub forecast: Money,
    /// No month-end forecast yet (too little history): `forecast` is the spend to date.
    #[serde(default)]
    pub forecast_pending: bool,
    pub threshold: Threshold,
    /// actual or forecast (per the threshold's basis) as a percent of the limit.
    pub percent_of_limit: f64,
    /// Day the forecast reaches the limit, if it does within the period.
    pub breach_date: Option<NaiveDate>,
    /// Daily spend for the rest of the period that keeps within the limit (0 once exceeded).
    pub allowed_daily_spend: Option<Money>,
    /// An auto-adjusting budget: `limit` is the scope's average over this many full months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_adjusted_months: Option<u8>,
}

/// What an auto-adjusting budget averages, in words every message uses: "the last month", "the
/// last 3 months".
pub fn last_months(n: u8) -> String {
    match n {
        1 => "the last month".to_owned(),
        n => format!("the last {n} months"),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub category: String,
    pub title: String,
    pub account: Option<String>,
    pub service: Option<String>,
    pub resource_id: Option<String>,
    pub current_monthly_cost: Money,
    pub monthly_savings: Money,
    pub action: String,
}
