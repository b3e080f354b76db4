//! What the analytics find: anomalies, forecasts, budget status, recommendations and report
//! summaries. The pipeline turns each into a Notification envelope.

use chrono::{Datelike, Months, NaiveDate};
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
    /// `account`, `service`, `region`, `usage_type`, `resource`, `tag:<key>`, or (a
    /// [`Drivers`] cause) `charge`.
    pub dimension: String,
    pub value: String,
    /// Change in dollars this value contributed (actual − its expected).
    pub contribution: Money,
    /// Fraction of the anomaly's impact explained by this value, 0–1.
    pub share: f64,
}

impl RootCause {
    /// The value in a sentence: "account web-prod", "Amazon SageMaker", "tag team=web", "tag
    /// team (untagged)", "credits".
    pub fn label(&self) -> String {
        let (dimension, value) = (self.dimension.as_str(), self.value.clone());
        if let Some(key) = dimension.strip_prefix("tag:") {
            return Scope::Tag {
                key: key.into(),
                value,
            }
            .label();
        }
        if let Some(name) = dimension.strip_prefix("cost_category:") {
            return Scope::CostCategory {
                name: name.into(),
                value,
            }
            .label();
        }
        match dimension {
            // Credits are negative: a rise in them is less credit.
            "charge" if value == "credits" && self.contribution > Money::ZERO => {
                "smaller or ended credits".into()
            }
            "charge" if value == "credits" => "new or larger credits".into(),
            "service" | "charge" | "resource" => value,
            "usage_type" => format!("usage type {value}"),
            _ => format!("{dimension} {value}"),
        }
    }
}

/// What moved a scope's spend: each account, service, tag value or charge type's month so far
/// (`from`–`to`) against the same days of last month (`compared_from`–`compared_to`), the
/// largest moves the way the scope's `change` went first. Sent with a month-end forecast alert
/// and a budget alert, where "why" is the reader's first question. See
/// `costwatch_analytics::drivers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drivers {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub compared_from: NaiveDate,
    pub compared_to: NaiveDate,
    /// The scope's own change between the two windows.
    pub change: Money,
    /// `contribution`: the value's change; `share`: of `change`, 0–1. Dimensions as root
    /// causes', plus `charge` (usage, fees, tax, credits).
    pub causes: Vec<RootCause>,
}

impl Drivers {
    /// One day against another (a daily budget's: the same weekday a week before), not the
    /// month so far against last month's same days, which on the 1st is one day too.
    pub fn compares_one_day(&self) -> bool {
        self.from == self.to && self.compared_from == self.compared_to && {
            let apart = (self.from - self.compared_from).num_days();
            apart > 0 && apart < 28
        }
    }
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
    /// First day of the month forecast (of the quarter or year, for a budget of one:
    /// `forecast::period_end_with`).
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

    /// Whether its days run to `end`: a budget's quarter or year is forecast to its own last
    /// day, and a month-end forecast starting on the same day must not stand in for it. (With
    /// no day left to forecast, any total to date does.)
    pub fn runs_to(&self, end: NaiveDate) -> bool {
        self.daily.last().is_none_or(|p| p.date == end)
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

impl BudgetCrossing {
    /// The period its dates span ([`BudgetPeriod::spanning`]; a month when they span none).
    pub fn period(&self) -> BudgetPeriod {
        BudgetPeriod::spanning(self.period_start, self.period_end).unwrap_or_default()
    }
}

/// How long a budget's period is, as AWS Budgets' time units: a calendar month, a calendar
/// quarter (January, April, July, October), a calendar year, or a day. Finance plans in
/// quarters and years; a commitment or a grant is often a yearly sum that is spent unevenly by
/// month; a sandbox or a CI account is held to a day's spend, so a runaway is heard of the next
/// morning rather than at the month's 50 %.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    #[default]
    Monthly,
    Quarterly,
    Annually,
    Daily,
}

impl BudgetPeriod {
    /// What a budget's period is unless it says otherwise (and what is left out when sent).
    pub fn is_monthly(&self) -> bool {
        *self == Self::Monthly
    }

    /// A day's budget: its period is complete when it is checked, so it has no forecast.
    pub fn is_daily(&self) -> bool {
        *self == Self::Daily
    }

    /// Calendar months in one period; 0 for a day, which no month arithmetic applies to
    /// (auto-adjusting and planned amounts are refused for daily budgets).
    pub fn months(self) -> u32 {
        match self {
            Self::Daily => 0,
            Self::Monthly => 1,
            Self::Quarterly => 3,
            Self::Annually => 12,
        }
    }

    /// First day of the period containing `date`, for periods that start in `first_month`
    /// (1–12: a fiscal year from April has quarters from April, July, October and January).
    pub fn start(self, date: NaiveDate, first_month: u32) -> NaiveDate {
        if self.is_daily() {
            return date;
        }
        let since_first = (date.month0() + 12 - (first_month.clamp(1, 12) - 1)) % 12;
        date.with_day(1)
            .and_then(|first| first.checked_sub_months(Months::new(since_first % self.months())))
            .unwrap_or(date)
    }

    /// Last day of the period containing `date` (see [`Self::start`]).
    pub fn end(self, date: NaiveDate, first_month: u32) -> NaiveDate {
        if self.is_daily() {
            return date;
        }
        self.start(date, first_month)
            .checked_add_months(Months::new(self.months()))
            .and_then(|next| next.pred_opt())
            .unwrap_or(date)
    }

    /// Whether a period starts on `date` (a planned amount is keyed by its period's first month).
    pub fn starts_on(self, date: NaiveDate, first_month: u32) -> bool {
        self.start(date, first_month) == date
    }

    /// The period that runs from `start` to `end`, as a budget envelope carries it: a day, or a
    /// month, three or twelve from the first of one.
    pub fn spanning(start: NaiveDate, end: NaiveDate) -> Option<Self> {
        [Self::Daily, Self::Monthly, Self::Quarterly, Self::Annually]
            .into_iter()
            .find(|p| p.start(start, start.month()) == start && p.end(start, start.month()) == end)
    }

    /// The months its periods start in, in words (a planned amount's key must be one of them).
    pub fn first_months(self, first_month: u32) -> String {
        if self.is_daily() {
            return "any day".to_owned();
        }
        let name = |m: u32| {
            u8::try_from(m)
                .ok()
                .and_then(|m| chrono::Month::try_from(m).ok())
                .map_or("?", |m| m.name())
        };
        let starts: Vec<&str> = (0..12 / self.months())
            .map(|i| name((first_month.clamp(1, 12) - 1 + i * self.months()) % 12 + 1))
            .collect();
        match starts.as_slice() {
            [one] => (*one).to_owned(),
            [init @ .., last] if init.len() < 11 => format!("{} or {last}", init.join(", ")),
            _ => "any month".to_owned(),
        }
    }

    /// "month", "quarter", "year": what messages call it.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Monthly => "month",
            Self::Quarterly => "quarter",
            Self::Annually => "year",
            Self::Daily => "day",
        }
    }

    /// "Month-end forecast", "Quarter-end forecast", "Year-end forecast": a fact's label.
    pub fn end_forecast_label(self) -> &'static str {
        match self {
            Self::Monthly => "Month-end forecast",
            Self::Quarterly => "Quarter-end forecast",
            Self::Annually => "Year-end forecast",
            // Never shown: a day is complete when its budget is checked.
            Self::Daily => "Day's spend",
        }
    }

    /// What the configuration writes: "monthly", "quarterly", "annually".
    pub fn name(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Annually => "annually",
            Self::Daily => "daily",
        }
    }
}

/// What an auto-adjusting budget averages, in words every message uses: "the last month", "the
/// last 3 months".
pub fn last_months(n: u8) -> String {
    match n {
        1 => "the last month".to_owned(),
        n => format!("the last {n} months"),
    }
}

/// What an auto-adjusting budget's amount is, for a budget of `period`: "the average of the
/// last 3 months"; a quarter's or a year's is that many of those months, "3 months at the
/// average of the last 6 months".
pub fn auto_amount_basis(period: BudgetPeriod, months: u8) -> String {
    match period {
        BudgetPeriod::Monthly => format!("the average of {}", last_months(months)),
        _ => format!(
            "{} months at the average of {}",
            period.months(),
            last_months(months)
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_are_calendar_months_quarters_and_years() {
        let (q, y) = (BudgetPeriod::Quarterly, BudgetPeriod::Annually);
        let nov = d(2026, 11, 14);
        assert_eq!(BudgetPeriod::Monthly.start(nov, 1), d(2026, 11, 1));
        assert_eq!(BudgetPeriod::Monthly.end(nov, 4), d(2026, 11, 30));
        assert_eq!(q.start(nov, 1), d(2026, 10, 1));
        assert_eq!(q.end(nov, 1), d(2026, 12, 31));
        assert_eq!(q.start(d(2026, 3, 31), 1), d(2026, 1, 1));
        assert_eq!(q.end(d(2024, 2, 10), 1), d(2024, 3, 31));
        assert_eq!(y.start(nov, 1), d(2026, 1, 1));
        assert_eq!(y.end(nov, 1), d(2026, 12, 31));
        assert!(q.starts_on(d(2027, 4, 1), 1));
        assert!(!q.starts_on(d(2027, 5, 1), 1));
        assert!(!y.starts_on(d(2027, 4, 1), 1));
        assert_eq!(q.first_months(1), "January, April, July or October");
        assert_eq!(y.first_months(1), "January");
        assert_eq!(BudgetPeriod::Monthly.first_months(7), "any month");
    }

    /// A fiscal year from April (as in the UK, Japan, India): its quarters start in April,
    /// July, October and January, and a year runs from April to the next March.
    #[test]
    fn periods_can_start_in_another_month() {
        let (q, y) = (BudgetPeriod::Quarterly, BudgetPeriod::Annually);
        assert_eq!(y.start(d(2027, 2, 10), 4), d(2026, 4, 1));
        assert_eq!(y.end(d(2027, 2, 10), 4), d(2027, 3, 31));
        assert_eq!(y.start(d(2026, 4, 1), 4), d(2026, 4, 1));
        assert_eq!(y.end(d(2026, 3, 31), 4), d(2026, 3, 31));
        assert_eq!(q.start(d(2027, 2, 10), 4), d(2027, 1, 1));
        assert_eq!(q.start(d(2026, 11, 30), 2), d(2026, 11, 1));
        assert_eq!(q.end(d(2026, 11, 30), 2), d(2027, 1, 31));
        assert_eq!(q.start(d(2027, 1, 31), 2), d(2026, 11, 1));
        assert!(y.starts_on(d(2027, 4, 1), 4) && !y.starts_on(d(2027, 1, 1), 4));
        assert_eq!(q.first_months(2), "February, May, August or November");
        assert_eq!(y.first_months(10), "October");
    }

    #[test]
    fn an_envelope_s_dates_name_its_period() {
        let spanning = |a, b| BudgetPeriod::spanning(a, b);
        assert_eq!(
            spanning(d(2026, 11, 1), d(2026, 11, 30)),
            Some(BudgetPeriod::Monthly)
        );
        assert_eq!(
            spanning(d(2026, 10, 1), d(2026, 12, 31)),
            Some(BudgetPeriod::Quarterly)
        );
        assert_eq!(
            spanning(d(2026, 1, 1), d(2026, 12, 31)),
            Some(BudgetPeriod::Annually)
        );
        assert_eq!(
            spanning(d(2026, 4, 1), d(2027, 3, 31)),
            Some(BudgetPeriod::Annually)
        );
        assert_eq!(
            spanning(d(2026, 11, 1), d(2027, 1, 31)),
            Some(BudgetPeriod::Quarterly)
        );
        assert_eq!(spanning(d(2026, 11, 2), d(2026, 11, 30)), None);
        assert_eq!(spanning(d(2026, 11, 1), d(2026, 12, 31)), None);
        // One day is a daily budget's, the 1st included.
        assert_eq!(
            spanning(d(2026, 11, 1), d(2026, 11, 1)),
            Some(BudgetPeriod::Daily)
        );
    }

    #[test]
    fn a_daily_period_is_the_day_itself() {
        let day = BudgetPeriod::Daily;
        for date in [d(2026, 11, 14), d(2026, 1, 1), d(2024, 2, 29)] {
            assert_eq!((day.start(date, 4), day.end(date, 4)), (date, date));
            assert!(day.starts_on(date, 1));
        }
        assert_eq!(day.first_months(1), "any day");
        assert_eq!((day.noun(), day.name()), ("day", "daily"));
    }
}
