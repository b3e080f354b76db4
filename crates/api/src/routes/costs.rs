//! Costs by day for one scope, and per-scope totals of one kind (with the previous period, so
//! the biggest movers sort first when asked).

use std::str::FromStr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{Datelike, Days, NaiveDate};
use costwatch_core::scope::ScopeKind;
use costwatch_core::{DailySeries, Money, Scope};
use serde::{Deserialize, Serialize};

use super::params::{Page, PageQuery, RangeQuery};
use crate::{Api, Problem};

#[derive(Deserialize)]
pub struct DailyQuery {
    /// A scope key: `org`, `account=123456789012`, `service=Amazon EC2`, `tag=team|value=web`.
    scope: Option<String>,
}

#[derive(Serialize)]
pub struct Day {
    date: NaiveDate,
    /// Null on a day with nothing stored.
    total: Option<Money>,
}

#[derive(Serialize)]
pub struct DailyCosts {
    scope: Scope,
    label: String,
    #[serde(flatten)]
    days: Page<Day>,
}

pub fn parse_scope(key: &str) -> Result<Scope, Problem> {
    Scope::from_str(key).map_err(|e| Problem::bad_request(format!("scope `{key}`: {e}")))
}

pub fn days(series: &DailySeries, start: NaiveDate, end: NaiveDate) -> Vec<Day> {
    start
        .iter_days()
        .take_while(|d| *d <= end)
        .map(|date| Day {
            date,
            total: series.get(date).map(|c| c.total()),
        })
        .collect()
}

pub async fn daily(
    State(api): State<Arc<Api>>,
    Query(q): Query<DailyQuery>,
    Query(range): Query<RangeQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<DailyCosts>, Problem> {
    let scope = parse_scope(q.scope.as_deref().unwrap_or("org"))?;
    let items = match range.resolve(&api).await? {
        Some((start, end)) => days(&api.rollups.series(&scope, start, end).await?, start, end),
        None => Vec::new(),
    };
    Ok(Json(DailyCosts {
        label: scope.label(),
        scope,
        days: page.page(items)?,
    }))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum SortBy {
    Total,
    Change,
}

#[derive(Deserialize)]
pub struct BreakdownQuery {
    kind: ScopeKind,
    sort: Option<SortBy>,
}

#[derive(Serialize)]
pub struct ScopeTotal {
    scope: Scope,
    label: String,
    total: Money,
    /// The same number of days just before `start`.
    previous_total: Money,
    change: Money,
}

#[derive(Serialize)]
pub struct Breakdown {
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    #[serde(flatten)]
    scopes: Page<ScopeTotal>,
}

fn sum(series: &DailySeries, start: NaiveDate, end: NaiveDate) -> Money {
    start
        .iter_days()
        .take_while(|d| *d <= end)
        .filter_map(|d| series.get(d))
        .map(|c| c.total())
        .sum()
}

pub async fn breakdown(
    State(api): State<Arc<Api>>,
    Query(q): Query<BreakdownQuery>,
    Query(range): Query<RangeQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Breakdown>, Problem> {
    let Some((start, end)) = range.resolve(&api).await? else {
        return Ok(Json(Breakdown {
            start: None,
            end: None,
            scopes: page.page(Vec::new())?,
        }));
    };
    let span = Days::new((end - start).num_days() as u64 + 1);
    let previous_start = start - span;
    let mut items = Vec::new();
    let kinds = [q.kind];
    for series in api.rollups.all_series(previous_start, end, &kinds).await? {
        let scope = series.scope.clone();
        let total = sum(&series, start, end);
        let previous_total = sum(&series, previous_start, start - Days::new(1));
        items.push(ScopeTotal {
            label: scope.label(),
            scope,
            total,
            previous_total,
            change: total - previous_total,
        });
    }
    match q.sort.unwrap_or(SortBy::Total) {
        SortBy::Total => items.sort_by(|a, b| b.total.cmp(&a.total).then(a.scope.cmp(&b.scope))),
        SortBy::Change => items.sort_by(|a, b| {
            b.change
                .abs()
                .cmp(&a.change.abs())
                .then(a.scope.cmp(&b.scope))
        }),
    }
    Ok(Json(Breakdown {
        start: Some(start),
        end: Some(end),
        scopes: page.page(items)?,
    }))
}

#[derive(Serialize)]
pub struct Allocation {
    /// The first of the month and the day the month so far runs to; null without data.
    start: Option<NaiveDate>,
    as_of: Option<NaiveDate>,
    items: Vec<costwatch_pipeline::allocation::KeyAllocation>,
}

/// The month so far per value of each tag key and cost category, with the spend carrying none.
pub async fn allocation(
    State(api): State<Arc<Api>>,
    Query(q): Query<super::params::AsOfQuery>,
) -> Result<Json<Allocation>, Problem> {
    let Some(as_of) = super::params::as_of(&api, q.as_of).await? else {
        return Ok(Json(Allocation {
            start: None,
            as_of: None,
            items: Vec::new(),
        }));
    };
    let items = costwatch_pipeline::allocation::month_to_date(api.rollups.as_ref(), as_of).await?;
    Ok(Json(Allocation {
        start: Some(as_of.with_day(1).unwrap_or(as_of)),
        as_of: Some(as_of),
        items,
    }))
}
