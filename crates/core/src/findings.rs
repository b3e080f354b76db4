//! What the analytics find: anomalies, forecasts, budget status, recommendations and report
//! summaries. The pipeline turns each into a Notification envelope.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::scope::Scope;

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
    pub forecast: Money,
    pub threshold: Threshold,
    /// actual or forecast (per the threshold's basis) as a percent of the limit.
    pub percent_of_limit: f64,
    /// Day the forecast reaches the limit, if it does within the period.
    pub breach_date: Option<NaiveDate>,
    /// Daily spend for the rest of the period that keeps within the limit (0 once exceeded).
    pub allowed_daily_spend: Option<Money>,
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
