//! Report: the daily or weekly summary envelope, and the data the HTML report draws.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use costwatch_core::envelopes::DEFAULT_CURRENCY;
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::money::{shows_as_zero, to_f64};
use costwatch_core::notification::{BudgetLine, Mover, ReportFigures, ReportPeriod, ScopeRef};
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

/// How close a budget is to its limit: the larger of the share spent and the share the
/// month-end forecast would spend.
fn risk(line: &BudgetLine) -> f64 {
    let forecast = match line.forecast_pending || line.limit.is_zero() {
        true => 0.0,
        false => to_f64(line.forecast / line.limit) * 100.0,
    };
    line.percent_used.max(forecast)
}

/// Budgets the most at risk first (the configuration's order among equals), as the report,
/// the dashboard and `costwatch run` list them: a chat message shows a table's first rows and
/// "… and N more", so with many budgets the ones left out are the safest.
pub fn by_risk(budgets: &[BudgetStatus]) -> Vec<&BudgetStatus> {
    let mut ranked: Vec<&BudgetStatus> = budgets.iter().collect();
    ranked.sort_by(|a, b| risk(&b.line).total_cmp(&risk(&a.line)));
    ranked
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
    let org_windows = rollups.series(&Scope::Org, w.0, w.2).await?;
    let (total, previous_total) = sums(&org_windows, w);
    let previous_days = usize::try_from((w.1 - w.0).num_days()).unwrap_or(0);
    let previous_has_data = org_windows
        .days
        .iter()
        .take(previous_days)
        .any(Option::is_some);
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
    // A change that reads $0.00 in the message did not move, and before the data's first day
    // there was nothing to move from.
    movers.retain(|m| previous_has_data && !shows_as_zero(m.change, DEFAULT_CURRENCY));
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
        // A line of "$0.00 limit" would mislead; `/v1/budgets` and `costwatch run` say why.
        budgets: by_risk(budgets)
            .into_iter()
            .filter(|b| !b.amount_pending())
            .map(|b| b.line.clone())
            .collect(),
        open_anomalies: active(state).await?.len() as u32,
        saved_so_far: match period {
            ReportPeriod::Weekly => crate::recommend::saved_so_far(state).await?,
            ReportPeriod::Daily => None,
        },
        // Filled by the caller from the month's allocation, which the page reads in full.
        allocation: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use costwatch_core::DailyCost;
    use costwatch_core::NotificationBody;
    use costwatch_store::memory::MemoryRollups;
    use costwatch_store::{MemoryStore, RollupRow};

    use crate::html::ReportPage;
    use crate::run::{Ports, RunSummary, build_report};

    use super::*;

    fn usage(cents_thousandths: i64) -> DailyCost {
        DailyCost {
            usage: Money::new(cents_thousandths, 3),
            ..DailyCost::default()
        }
    }

    fn pair(service: &str) -> Scope {
        Scope::AccountService {
            account: "111111111111".into(),
            service: service.into(),
        }
    }

    /// Two days of three services: one moved $4.00, one $0.004, one not at all.
    async fn two_days(rollups: &MemoryRollups, last: NaiveDate) {
        let before = last - Days::new(1);
        let days = [before, last];
        let mut rows = Vec::new();
        for (service, then, now) in [
            ("S3", 10_000, 10_004),
            ("EC2", 5_000, 9_000),
            ("KMS", 1_000, 1_000),
        ] {
            for scope in [pair(service), Scope::Service(service.into())] {
                rows.push(RollupRow {
                    scope: scope.clone(),
                    day: before,
                    cost: usage(then),
                });
                rows.push(RollupRow {
                    scope,
                    day: last,
                    cost: usage(now),
                });
            }
        }
        for (day, total) in [(before, 16_000), (last, 20_004)] {
            rows.push(RollupRow {
                scope: Scope::Org,
                day,
                cost: usage(total),
            });
        }
        rollups.replace_days(&days, &rows).await.unwrap();
    }

    fn forecast(as_of: NaiveDate) -> MonthEndForecast {
        let money = Money::from(600);
        MonthEndForecast {
            scope: Scope::Org,
            month: as_of.with_day(1).unwrap(),
            as_of,
            actual_to_date: Money::from(500),
            total: money,
            lo80: money,
            hi80: money,
            lo95: money,
            hi95: money,
            previous_month_total: None,
            daily: Vec::new(),
        }
    }

    /// The daily report on `last` as a run builds it, with the organisation forecast at $600.
    async fn daily(last: NaiveDate) -> (ReportFigures, ReportPage) {
        let store = MemoryStore::default();
        two_days(&store.rollups, last).await;
        let ports = Ports {
            lake: &store.lake,
            rollups: &store.rollups,
            state: &store.state,
            bus: &store.bus,
        };
        let run = RunSummary {
            as_of: last,
            notifications: Vec::new(),
            forecasts: BTreeMap::from([(Scope::Org, forecast(last))]),
            budgets: Vec::new(),
        };
        let now = chrono::Utc::now();
        let (envelope, page) =
            build_report(&ports, &Default::default(), &run, ReportPeriod::Daily, now)
                .await
                .unwrap();
        let NotificationBody::Report(figures) = envelope.body else {
            panic!("not a report")
        };
        (figures, page)
    }

    fn status(name: &str, actual: i64, forecast: Option<i64>) -> BudgetStatus {
        BudgetStatus {
            line: BudgetLine {
                period: Default::default(),
                budget: name.to_owned(),
                limit: Money::from(100),
                actual: Money::from(actual),
                forecast: Money::from(forecast.unwrap_or(actual)),
                forecast_pending: forecast.is_none(),
                percent_used: actual as f64,
            },
            crossings: Vec::new(),
            cleared: Vec::new(),
            period_so_far: DailySeries {
                scope: Scope::Org,
                start: NaiveDate::MIN,
                days: Vec::new(),
            },
            forecast_daily: Vec::new(),
            note: None,
            auto: None,
            watch_id: None,
        }
    }

    #[test]
    fn the_budgets_most_at_risk_come_first() {
        let budgets = [
            status("safe", 10, Some(20)),
            status("spent", 95, Some(96)),
            status("heading-over", 40, Some(130)),
            // Not forecast yet: its spend alone says how close it is.
            status("new", 50, None),
            status("also-safe", 20, Some(20)),
        ];
        let order: Vec<&str> = by_risk(&budgets)
            .into_iter()
            .map(|b| b.line.budget.as_str())
            .collect();
        assert_eq!(order, ["heading-over", "spent", "new", "safe", "also-safe"]);
    }

    #[tokio::test]
    async fn movers_are_changes_that_read_as_a_cent_or_more() {
        let (f, _) = daily(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()).await;
        let movers: Vec<&str> = f.top_movers.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(
            movers,
            ["EC2 in account 111111111111"],
            "{:?}",
            f.top_movers
        );
        // Top services are the biggest, moved or not.
        assert_eq!(f.top_services.len(), 3);
        assert_eq!(f.forecast_month_end, Some(Money::from(600)));
    }

    #[tokio::test]
    async fn a_months_last_day_has_its_total_and_no_forecast() {
        let (f, page) = daily(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()).await;
        assert_eq!(f.forecast_month_end, None);
        assert!(page.forecast.is_none(), "no forecast card either");
    }
}
