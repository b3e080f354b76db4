//! What moved a scope's spend, for the forecast and budget alerts the forecast run publishes
//! (`costwatch_analytics::drivers`): read from the rollups only when an alert goes out, once a
//! run ([`read_with`]). The organisation's drivers are its accounts, services, tag values
//! and cost category values; an account's its services and a service's its accounts (the
//! account × service rollup); every scope's own charge types. A tag's or cost category's
//! scope has no finer rollup, so its drivers are its charge types only. A daily budget's are
//! its day's, against the same weekday a week before ([`DriverReader::of_day`]), read from the
//! same window.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use costwatch_analytics::drivers::{Span, rank, windows};
use costwatch_core::findings::Drivers;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{DailySeries, Scope};
use costwatch_store::RollupStore;

use crate::config::PipelineConfig;
use crate::error::Result;

/// Causes an alert lists.
const LIMIT: usize = 5;

/// The kinds read for a scope of `kind`: every kind with drivers, whichever the scope. On
/// DynamoDB a read is one Query per day over every scope of the day, whatever the kinds kept,
/// so the organisation's alert and an account's reading apart paid for the window twice (at
/// 1,000 accounts, 62 days of 16,024 scopes: 22,226 read units each, docs/scale.md); one read
/// serves every alert of the run, holding every scope's 62 days (the benchmark's peak stayed
/// at 212 MiB).
fn read_with(kind: ScopeKind) -> Vec<ScopeKind> {
    use ScopeKind::*;
    match kind {
        Metric => vec![Metric],
        Org | Tag | CostCategory | Account | Service | AccountService => {
            vec![Org, Account, Service, AccountService, Tag, CostCategory]
        }
    }
}

pub struct DriverReader<'a> {
    rollups: &'a dyn RollupStore,
    cfg: &'a PipelineConfig,
    names: &'a BTreeMap<String, String>,
    as_of: NaiveDate,
    memo: Mutex<Memo>,
}

/// What a run has read and found so far: a budget's actual and forecast alerts (and a forecast
/// alert on the same scope) share one scope's drivers, and every alert the data's first day.
#[derive(Default)]
struct Memo {
    first_collected: Option<Option<NaiveDate>>,
    /// The rollups read, by the kinds read and the first day.
    series: BTreeMap<(Vec<ScopeKind>, NaiveDate), Arc<Vec<DailySeries>>>,
    drivers: BTreeMap<(Scope, Span, NaiveDate), Option<Drivers>>,
}

impl<'a> DriverReader<'a> {
    /// Drivers of spend up to `as_of`; `names`: account id → name, for the account values.
    pub fn new(
        rollups: &'a dyn RollupStore,
        cfg: &'a PipelineConfig,
        names: &'a BTreeMap<String, String>,
        as_of: NaiveDate,
    ) -> Self {
        Self {
            rollups,
            cfg,
            names,
            as_of,
            memo: Mutex::default(),
        }
    }

    /// The scope's month so far, `None` when there is nothing to tell (see
    /// `costwatch_analytics::drivers::rank`).
    pub async fn of(&self, scope: &Scope) -> Result<Option<Drivers>> {
        self.of_span(scope, Span::MonthToDate, self.as_of).await
    }

    /// The scope's `day` against the same weekday a week before: a daily budget's, whose day
    /// may be one of the last few a revision took over its amount. The month's window holds it.
    pub async fn of_day(&self, scope: &Scope, day: NaiveDate) -> Result<Option<Drivers>> {
        self.of_span(scope, Span::Day, day.min(self.as_of)).await
    }

    async fn of_span(&self, scope: &Scope, span: Span, to: NaiveDate) -> Result<Option<Drivers>> {
        let memo = || self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (scope.clone(), span, to);
        if let Some(found) = memo().drivers.get(&key) {
            return Ok(found.clone());
        }
        let found = self.find(scope, span, to).await?;
        memo().drivers.insert(key, found.clone());
        Ok(found)
    }

    async fn find(&self, scope: &Scope, span: Span, to: NaiveDate) -> Result<Option<Drivers>> {
        let memo = || self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        let first_collected = memo().first_collected;
        let first_collected = match first_collected {
            Some(known) => known,
            None => {
                let first = self.rollups.day_range().await?.map(|(first, _)| first);
                memo().first_collected = Some(first);
                first
            }
        };
        let Some(first_collected) = first_collected else {
            return Ok(None);
        };
        // From the first of last month: the month's window, and that of any day of the last
        // three weeks (a daily budget's are the last few), so one read serves them all.
        let (_, month_from, _) = windows(self.as_of);
        let (_, day_from, _) = Span::Day.windows(to);
        let read_from = month_from.min(day_from);
        let key = (read_with(scope.kind()), read_from);
        let cached = memo().series.get(&key).cloned();
        let series = match cached {
            Some(series) => series,
            None => {
                let read = self.rollups.all_series(read_from, self.as_of, &key.0);
                let series = Arc::new(read.await?);
                memo().series.insert(key, Arc::clone(&series));
                series
            }
        };
        let Some(own) = series.iter().find(|s| &s.scope == scope) else {
            return Ok(None);
        };
        let children: Vec<(String, String, DailySeries)> = series
            .iter()
            .filter_map(|s| self.child(scope, &s.scope).map(|(d, v)| (d, v, s.clone())))
            .collect();
        let days = (span, first_collected, to);
        Ok(rank(own, &children, days, &self.cfg.forecast, LIMIT))
    }

    /// `child` as a `(dimension, value)` of `scope`, when it is one of its drivers.
    fn child(&self, scope: &Scope, child: &Scope) -> Option<(String, String)> {
        let account = |id: &str| self.names.get(id).cloned().unwrap_or_else(|| id.to_owned());
        match (scope, child) {
            (Scope::Org, Scope::Account(a)) => Some(("account".into(), account(a))),
            (Scope::Org, Scope::Service(s)) => Some(("service".into(), s.clone())),
            (Scope::Org, Scope::Tag { key, value }) => Some((format!("tag:{key}"), value.clone())),
            (Scope::Org, Scope::CostCategory { name, value }) => {
                Some((format!("cost_category:{name}"), value.clone()))
            }
            (
                Scope::Account(a),
                Scope::AccountService {
                    account: b,
                    service,
                },
            ) if a == b => Some(("service".into(), service.clone())),
            (
                Scope::Service(s),
                Scope::AccountService {
                    account: a,
                    service,
                },
            ) if s == service => Some(("account".into(), account(a))),
            _ => None,
        }
    }
}
