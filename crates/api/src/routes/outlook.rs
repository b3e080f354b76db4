//! Forecasts and budgets as the pipeline computes them for a day (`standing`: nothing is
//! published), plus what a reader of a budget wants next: when it breaks and how much may still
//! be spent per day.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use costwatch_analytics::budget::{allowed_daily_spend, breach_date};
use costwatch_core::findings::{BudgetPeriod, MonthEndForecast, auto_amount_basis};
use costwatch_core::{Money, Scope};
use costwatch_pipeline::standing;
use serde::Serialize;

use super::params::AsOfQuery;
use crate::{Api, Problem};

#[derive(Serialize)]
pub struct ForecastView {
    label: String,
    #[serde(flatten)]
    forecast: MonthEndForecast,
}

#[derive(Serialize)]
pub struct Forecasts {
    as_of: Option<NaiveDate>,
    items: Vec<ForecastView>,
}

pub async fn forecasts(
    State(api): State<Arc<Api>>,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<Forecasts>, Problem> {
    let Some(as_of) = super::params::as_of(&api, q.as_of).await? else {
        return Ok(Json(Forecasts {
            as_of: None,
            items: Vec::new(),
        }));
    };
    let run = standing(api.rollups.as_ref(), &*api.config().await?, as_of).await?;
    let items = run
        .forecasts
        .into_values()
        .map(|f| ForecastView {
            label: f.scope.label(),
            forecast: f,
        })
        .collect();
    Ok(Json(Forecasts {
        as_of: Some(as_of),
        items,
    }))
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum BudgetHealth {
    /// Spend and forecast under the limit.
    Ok,
    /// The month-end forecast passes the limit.
    AtRisk,
    /// Spend has passed the limit.
    Over,
    /// An auto-adjusting budget with no amount yet (no month collected in full since its
    /// scope's first cost): nothing to be over; the note says so.
    Pending,
}

/// An auto-adjusting budget's amount: the average of its scope's last full months.
#[derive(Serialize)]
pub struct AutoAdjustView {
    /// Months the configuration asks to average.
    months: u8,
    /// Months averaged this month (fewer while the history is shorter); null while pending or
    /// when this month has a planned amount.
    averaged_months: Option<u8>,
    /// The first month averaged; null while pending.
    since: Option<NaiveDate>,
    /// What the amount is, in the words every message uses ("the average of the last 3
    /// months", "3 months at the average of the last 6 months"); null while pending.
    basis: Option<String>,
}

#[derive(Serialize)]
pub struct Point {
    date: NaiveDate,
    /// The period's spend to the end of the day.
    cumulative: Money,
}

#[derive(Serialize)]
pub struct BudgetView {
    name: String,
    scope: Scope,
    label: String,
    /// What `limit` is for: "monthly", "quarterly" or "annually".
    period: BudgetPeriod,
    /// The period containing `as_of`: a calendar month, or a quarter or year from the budget's
    /// `start_month`.
    period_start: NaiveDate,
    period_end: NaiveDate,
    limit: Money,
    actual: Money,
    forecast: Money,
    /// No forecast to the period's end yet (its scope has too few days of costs): `forecast` is
    /// then the spend to date, and `forecast_burn` is empty.
    forecast_pending: bool,
    percent_used: f64,
    status: BudgetHealth,
    /// The first day spend passed (or, on the forecast, will pass) the limit this period.
    breach_date: Option<NaiveDate>,
    /// What may be spent per remaining day of the period to stay within the limit (0 once over;
    /// null on the last day).
    allowed_daily_spend: Option<Money>,
    days_left: u32,
    /// The burn-down: the period's spend to date per day, then the forecast's mean to its end.
    actual_burn: Vec<Point>,
    forecast_burn: Vec<Point>,
    /// Why the budget may be watching nothing (a scope without costs), as `costwatch run` says.
    note: Option<String>,
    /// An auto-adjusting budget (`limit` is this period's, from the average month); null for a
    /// fixed amount.
    auto_adjust: Option<AutoAdjustView>,
}

#[derive(Serialize)]
pub struct Budgets {
    as_of: Option<NaiveDate>,
    items: Vec<BudgetView>,
}

fn cumulative(points: impl Iterator<Item = (NaiveDate, Money)>, from: Money) -> Vec<Point> {
    points
        .scan(from, |sum, (date, amount)| {
            *sum += amount;
            Some(Point {
                date,
                cumulative: *sum,
            })
        })
        .collect()
}

pub async fn budgets(
    State(api): State<Arc<Api>>,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<Budgets>, Problem> {
    let Some(as_of) = super::params::as_of(&api, q.as_of).await? else {
        return Ok(Json(Budgets {
            as_of: None,
            items: Vec::new(),
        }));
    };
    let config = api.config().await?;
    let run = standing(api.rollups.as_ref(), &config, as_of).await?;
    let mut items = Vec::new();
    // `standing` evaluates the configured budgets in order, one status each.
    for (budget, status) in config.budgets.iter().zip(run.budgets) {
        let (period_start, period_end) = (budget.period_start(as_of), budget.period_end(as_of));
        let days_left = (period_end - as_of).num_days().max(0) as u32;
        let series = &status.period_so_far;
        let actual_burn = cumulative(
            period_start
                .iter_days()
                .take_while(|d| *d <= as_of)
                .map(|d| (d, series.get(d).map(|c| c.total()).unwrap_or_default())),
            Money::ZERO,
        );
        let actual = status.line.actual;
        let forecast_burn = cumulative(
            status.forecast_daily.iter().map(|p| (p.date, p.mean)),
            actual,
        );
        // This period's amount: an auto-adjusting budget's average, zero while it has none.
        let limit = status.line.limit;
        let pending = status.amount_pending();
        // As the alerts compute them, so the dashboard and a Slack message never disagree.
        let period = (period_start, period_end);
        let breach_date = (!pending)
            .then(|| breach_date(series, &status.forecast_daily, as_of, limit, period))
            .flatten();
        let status_now = if pending {
            BudgetHealth::Pending
        } else if actual > limit {
            BudgetHealth::Over
        } else if status.line.forecast > limit || breach_date.is_some() {
            BudgetHealth::AtRisk
        } else {
            BudgetHealth::Ok
        };
        let allowed_daily_spend = (!pending)
            .then(|| allowed_daily_spend(limit, actual, as_of, period_end))
            .flatten();
        items.push(BudgetView {
            name: budget.name.clone(),
            label: budget.scope.label(),
            scope: budget.scope.clone(),
            period: budget.period,
            period_start,
            period_end,
            limit,
            actual,
            forecast: status.line.forecast,
            forecast_pending: status.line.forecast_pending,
            percent_used: status.line.percent_used,
            status: status_now,
            breach_date,
            allowed_daily_spend,
            days_left,
            actual_burn,
            forecast_burn,
            note: status.note.clone(),
            auto_adjust: budget.auto_adjust_months.map(|months| AutoAdjustView {
                months,
                averaged_months: status.auto.map(|a| a.months),
                since: status.auto.map(|a| a.since),
                basis: status
                    .auto
                    .map(|a| auto_amount_basis(budget.period, a.months)),
            }),
        });
    }
    Ok(Json(Budgets {
        as_of: Some(as_of),
        items,
    }))
}
