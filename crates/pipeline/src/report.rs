//! Report: the daily or weekly summary envelope, and the data the HTML report draws.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::money::to_f64;
use costwatch_core::notification::{Mover, ReportFigures, ReportPeriod, ScopeRef};
use costwatch_core::scope::ScopeKind;
use costwatch_core::{DailySeries, Money, Scope};
use costwatch_store::{RollupStore, StateStore};

use crate::budgets::BudgetStatus;
use crate::detect::active;
use crate::error::Result;

const TOP: usize = 5;

fn window(period: ReportPeriod, end: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate) {
    let len = match period {
        ReportPeriod::Daily => 1,
        ReportPeriod::Weekly => 7,
    };
    let start = end - Days::new(len - 1);
    (start - Days::new(len), start, end)
}

fn label(scope: &Scope, names: &BTreeMap<String, String>) -> String {
    let name = scope
        .account()
        .and_then(|a| names.get(a))
        .map(String::as_str);
    ScopeRef::new(scope, name).label
}

/// Sums of the current and the previous window for one scope.
async fn window_sums(
    rollups: &dyn RollupStore,
    scope: &Scope,
    (prev_start, start, end): (NaiveDate, NaiveDate, NaiveDate),
) -> Result<(Money, Money)> {
    let s = rollups.series(scope, prev_start, end).await?;
    Ok(sums(&s, (prev_start, start, end)))
}

/// Sums of the current and the previous window in a series read over both.
fn sums(
    s: &DailySeries,
    (prev_start, start, end): (NaiveDate, NaiveDate, NaiveDate),
) -> (Money, Money) {
    let sum = |from: NaiveDate, to: NaiveDate| -> Money {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter_map(|d| s.get(d))
            .map(|c| c.total())
            .sum()
    };
    (sum(start, end), sum(prev_start, start - Days::new(1)))
}

pub async fn figures(
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    names: &BTreeMap<String, String>,
    budgets: &[BudgetStatus],
    org_forecast: Option<&MonthEndForecast>,
    period: ReportPeriod,
    end: NaiveDate,
) -> Result<ReportFigures> {
    let w = window(period, end);
    let (total, previous_total) = window_sums(rollups, &Scope::Org, w).await?;
    let mut movers = Vec::new();
    let mut services = Vec::new();
    let kinds = [ScopeKind::AccountService, ScopeKind::Service];
    for series in rollups.all_series(w.0, w.2, &kinds).await? {
        let scope = &series.scope;
        let kind = scope.kind();
        let (amount, previous) = sums(&series, w);
        let mover = Mover {
            scope: scope.key(),
            label: label(scope, names),
            amount,
            previous,
            change: amount - previous,
        };
        if kind == ScopeKind::AccountService {
            movers.push(mover);
        } else {
            services.push(mover);
        }
    }
    movers.retain(|m| !m.change.is_zero());
    movers.sort_by_key(|m| std::cmp::Reverse(m.change.abs()));
    movers.truncate(TOP);
    services.sort_by_key(|m| std::cmp::Reverse(m.amount));
    services.truncate(TOP);
    let org = rollups
        .series(&Scope::Org, end.with_day(1).unwrap_or(end), end)
        .await?;
    Ok(ReportFigures {
        period,
        start: w.1,
        end,
        total,
        previous_total,
        change_pct: (!previous_total.is_zero())
            .then(|| to_f64((total - previous_total) / previous_total) * 100.0),
        month_to_date: org.month_to_date(end),
        forecast_month_end: org_forecast.map(|f| f.total),
        top_movers: movers,
        top_services: services,
        budgets: budgets.iter().map(|b| b.line.clone()).collect(),
        open_anomalies: active(state).await?.len() as u32,
        saved_so_far: match period {
            ReportPeriod::Weekly => crate::recommend::saved_so_far(state).await?,
            ReportPeriod::Daily => None,
        },
    })
}
