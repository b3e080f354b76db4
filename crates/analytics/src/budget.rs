//! Budgets: an amount per scope and period with thresholds on actual or forecast spend.
//!
//! Spend is net (credits included), like the invoice a budget is held against. The period is the
//! month, quarter or year containing `as_of` ([`BudgetPeriod`]; quarters and years from the
//! budget's `start_month`, January unless configured), or the day `as_of` itself: a daily
//! budget is checked on a complete day, so its forecast thresholds (the defaults' 100 % of
//! forecast among them) do not apply and it is never "forecast pending".

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use costwatch_core::findings::{
    BudgetCrossing, BudgetPeriod, ForecastPoint, MonthEndForecast, Threshold, ThresholdBasis,
};
use costwatch_core::money::to_f64;
use costwatch_core::series::month_last_day;
use costwatch_core::{DailySeries, Money, Scope};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub name: String,
    /// Serialises as its key, e.g. "org" or "account=123".
    pub scope: Scope,
    /// Monthly (the default), quarterly, annually or daily: what `amount` is for.
    #[serde(default, skip_serializing_if = "BudgetPeriod::is_monthly")]
    pub period: BudgetPeriod,
    /// The month a quarterly or annual budget's periods start from (1–12; January when left
    /// out): a fiscal year from April has its year from April to March and its quarters from
    /// April, July, October and January, as an AWS budget's start date sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_month: Option<u8>,
    /// The amount for one period (must be positive; the pipeline validates it). Left out (zero)
    /// on an auto-adjusting budget, whose amount each period is [`auto_amount`]'s.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub amount: Money,
    /// Auto-adjusting: each period's amount is the scope's average monthly spend over this many
    /// full months before it (1 to [`MAX_AUTO_ADJUST_MONTHS`]), times the period's months, as
    /// AWS Budgets' auto-adjusting budgets do — a budget for a team nobody gave a number, that
    /// follows its growth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_adjust_months: Option<u8>,
    /// Planned amounts for particular periods, keyed by the period's first month (`"2027-01" =
    /// "25000"`; a quarterly budget's `"2027-04"` is the second quarter), as AWS Budgets'
    /// planned budget amounts: a migration's ramp, a launch month, a fiscal plan. A period
    /// listed is held to its own amount; the others to `amount` or the auto-adjusted average.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_amounts: BTreeMap<String, Money>,
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<Threshold>,
}

impl Budget {
    /// A monthly budget of `amount` with the default thresholds, as a configuration that names
    /// only those three gives it.
    pub fn monthly(name: impl Into<String>, scope: Scope, amount: Money) -> Self {
        Self {
            name: name.into(),
            scope,
            period: BudgetPeriod::Monthly,
            start_month: None,
            amount,
            auto_adjust_months: None,
            planned_amounts: BTreeMap::new(),
            thresholds: default_thresholds(),
        }
    }

    /// The month its periods start from: `start_month`, else January.
    pub fn first_month(&self) -> u32 {
        self.start_month.map_or(1, u32::from)
    }

    /// First day of its period containing `date`.
    pub fn period_start(&self, date: NaiveDate) -> NaiveDate {
        self.period.start(date, self.first_month())
    }

    /// Last day of its period containing `date`.
    pub fn period_end(&self, date: NaiveDate) -> NaiveDate {
        self.period.end(date, self.first_month())
    }

    /// The amount planned for the period starting `period_start`, if one is.
    pub fn planned_for(&self, period_start: NaiveDate) -> Option<Money> {
        self.planned_amounts
            .get(&period_start.format(PLANNED_MONTH).to_string())
            .copied()
    }
}

/// How a planned amount's month is written: `2027-01`.
pub const PLANNED_MONTH: &str = "%Y-%m";

/// The first day of the month `key` names, when written as [`PLANNED_MONTH`] writes it
/// (`2027-01`; not `2027-1`).
pub fn planned_month(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
        .ok()
        .filter(|d| d.format(PLANNED_MONTH).to_string() == key)
}

/// As AWS Budgets allows for an auto-adjusting budget's history.
pub const MAX_AUTO_ADJUST_MONTHS: u8 = 12;

/// An auto-adjusting budget's amount for one month, and what it was averaged over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoAmount {
    /// The average, to the cent.
    pub amount: Money,
    /// Months averaged: fewer than asked while the scope's history is shorter.
    pub months: u8,
    /// The first of them.
    pub since: NaiveDate,
}

/// The amount of an auto-adjusting budget for the month starting `month_start`: the mean of
/// the scope's net monthly spend over up to `months` calendar months before it (`scope` must
/// cover them). A month counts when every one of its days was collected (`collected`: the
/// organisation's series, which has every day the source delivered) and the scope had a cost in
/// it or in a month before — a team that started in September is not averaged with the empty
/// months before it, but a quiet month after that counts. `None` while no month counts.
pub fn auto_amount(
    scope: &DailySeries,
    collected: &DailySeries,
    month_start: NaiveDate,
    months: u8,
) -> Option<AutoAmount> {
    let mut started = false;
    let mut counted: Vec<(NaiveDate, Money)> = Vec::new();
    for back in (1..=u32::from(months)).rev() {
        let first = month_start.checked_sub_months(Months::new(back))?;
        let days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= month_last_day(first))
            .collect();
        started |= days.iter().any(|d| scope.get(*d).is_some());
        if started && days.iter().all(|d| collected.get(*d).is_some()) {
            let total = days.iter().filter_map(|d| scope.get(*d)).map(|c| c.total());
            counted.push((first, total.sum()));
        }
    }
    let (since, _) = *counted.first()?;
    let sum: Money = counted.iter().map(|(_, m)| *m).sum();
    Some(AutoAmount {
        amount: (sum / Money::from(counted.len())).round_dp(2),
        months: u8::try_from(counted.len()).unwrap_or(months),
        since,
    })
}

/// 50, 80, 100 and 120 % of actual spend, and 100 % of forecast spend: early warning, last
/// warning, over, well over (graded critical: what pages someone), and "on course to be over".
pub fn default_thresholds() -> Vec<Threshold> {
    let actual = |percent| Threshold {
        percent,
        basis: ThresholdBasis::Actual,
    };
    vec![
        actual(50),
        actual(80),
        actual(100),
        actual(120),
        Threshold {
            percent: 100,
            basis: ThresholdBasis::Forecast,
        },
    ]
}

/// Every threshold currently crossed for the period containing `as_of`, in the budget's order,
/// given actual spend in the period to date (net of credits) and the forecast to the period's
/// end. Forecast thresholds need a forecast of that period (its `month` the period's first day,
/// its days to the period's last); without one they are not evaluated and the crossings' own
/// `forecast` field falls back to the actual. Each crossing carries `breach_date` (first day the
/// cumulative actual + forecast mean reaches the amount, if within the period) and
/// `allowed_daily_spend` ((amount − actual) / days left after `as_of`, 0 once exceeded, `None`
/// on the last day). A non-positive amount yields nothing: there is no percent of zero.
pub fn evaluate(
    budget: &Budget,
    series: &DailySeries,
    forecast: Option<&MonthEndForecast>,
    as_of: NaiveDate,
) -> Vec<BudgetCrossing> {
    thresholds(budget, series, forecast, as_of)
        .into_iter()
        .filter_map(|(crossing, crossed)| crossed.then_some(crossing))
        .collect()
}

/// Every threshold of the budget that can be evaluated, crossed or not (`true` when crossed),
/// with the same figures as [`evaluate`]: what the pipeline needs to notice that a threshold it
/// notified is no longer crossed (a credit brought spend back under it).
pub fn thresholds(
    budget: &Budget,
    series: &DailySeries,
    forecast: Option<&MonthEndForecast>,
    as_of: NaiveDate,
) -> Vec<(BudgetCrossing, bool)> {
    let (period_start, period_end) = (budget.period_start(as_of), budget.period_end(as_of));
    if budget.amount <= Money::ZERO {
        return Vec::new();
    }
    let one_day = budget.period.is_daily();
    let forecast =
        forecast.filter(|f| !one_day && f.month == period_start && f.runs_to(period_end));
    let actual = series.total_between(period_start, as_of);
    let projected = forecast.map_or(actual, |f| f.total);
    let forecast_days = forecast.map_or(&[][..], |f| &f.daily);
    let breach_date = breach_date(
        series,
        forecast_days,
        as_of,
        budget.amount,
        (period_start, period_end),
    );
    let allowed_daily_spend = allowed_daily_spend(budget.amount, actual, as_of, period_end);

    budget
        .thresholds
        .iter()
        .filter(|threshold| !(one_day && threshold.basis == ThresholdBasis::Forecast))
        .filter_map(|threshold| {
            let value = match threshold.basis {
                ThresholdBasis::Actual => actual,
                ThresholdBasis::Forecast => forecast?.total,
            };
            let limit_at = budget.amount * Money::from(threshold.percent) / Money::ONE_HUNDRED;
            let crossing = BudgetCrossing {
                budget: budget.name.clone(),
                scope: budget.scope.clone(),
                period_start,
                period_end,
                as_of,
                limit: budget.amount,
                actual,
                forecast: projected,
                forecast_pending: forecast.is_none() && !one_day,
                threshold: *threshold,
                percent_of_limit: to_f64(value / budget.amount) * 100.0,
                breach_date,
                allowed_daily_spend,
                auto_adjusted_months: None,
            };
            Some((crossing, value >= limit_at))
        })
        .collect()
}

/// First day of the period on which cumulative spend reaches `amount`: actual days up to
/// `as_of`, then the forecast's daily means (which also cover reported-late days up to `as_of`).
pub fn breach_date(
    series: &DailySeries,
    forecast_days: &[ForecastPoint],
    as_of: NaiveDate,
    amount: Money,
    (period_start, period_end): (NaiveDate, NaiveDate),
) -> Option<NaiveDate> {
    let forecast_on = |d: NaiveDate| forecast_days.iter().find(|p| p.date == d).map(|p| p.mean);
    let mut cumulative = Money::ZERO;
    for day in period_start.iter_days().take_while(|d| *d <= period_end) {
        let actual = if day <= as_of {
            series.get(day).map(|c| c.total())
        } else {
            None
        };
        cumulative += actual.or_else(|| forecast_on(day)).unwrap_or(Money::ZERO);
        if cumulative >= amount {
            return Some(day);
        }
    }
    None
}

/// What may still be spent per day to end the period within `amount`: (amount − actual) / days
/// left after `as_of`, 0 once exceeded, `None` on the period's last day.
pub fn allowed_daily_spend(
    amount: Money,
    actual: Money,
    as_of: NaiveDate,
    period_end: NaiveDate,
) -> Option<Money> {
    let remaining = (period_end - as_of).num_days();
    (remaining > 0).then(|| {
        ((amount - actual) / Money::from(remaining))
            .max(Money::ZERO)
            .round_dp(2)
    })
}

/// The budgets planted in a synthetic organisation, with the default thresholds: what
/// `costwatch demo` and the pipeline tests run with.
pub fn planted_budgets(org: &costwatch_core::synth::SyntheticOrg) -> Vec<Budget> {
    org.planted
        .budgets
        .iter()
        .map(|(name, scope, amount)| Budget::monthly(name.clone(), scope.clone(), *amount))
        .collect()
}
