//! What moved a scope's spend, for the forecast and budget alerts the forecast run publishes
//! (`costwatch_analytics::drivers`): read from the rollups only when an alert goes out, at most
//! twice a run ([`read_with`]). The organisation's drivers are its accounts, services, tag values
//! and cost category values; an account's its services and a service's its accounts (the
//! account × service rollup); every scope's own charge types. A tag's or cost category's
//! scope has no finer rollup, so its drivers are its charge types only.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use costwatch_analytics::drivers::{rank, windows};
use costwatch_core::findings::Drivers;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{DailySeries, Scope};
use costwatch_store::RollupStore;

use crate::config::PipelineConfig;
use crate::error::Result;

/// Causes an alert lists.
const LIMIT: usize = 5;

/// The kinds read for a scope of `kind`: itself and its children. Scopes that share a read
/// share one group (a budget on a tag and the organisation's forecast alert; an account's
/// budget and a service's), so a run reads the rollups' window at most twice: on DynamoDB
/// each read is one Query per day over every scope of the day, whatever the kinds kept.
fn read_with(kind: ScopeKind) -> Vec<ScopeKind> {
    use ScopeKind::*;
    match kind {
        Org | Tag | CostCategory => vec![Org, Account, Service, Tag, CostCategory],
        Account | Service | AccountService => vec![Account, Service, AccountService],
        Metric => vec![Metric],
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
    /// The rollups read, by the kinds read.
    series: BTreeMap<Vec<ScopeKind>, Arc<Vec<DailySeries>>>,
    drivers: BTreeMap<Scope, Option<Drivers>>,
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

    /// The scope's drivers, `None` when there are none to tell (see
    /// `costwatch_analytics::drivers::rank`).
    pub async fn of(&self, scope: &Scope) -> Result<Option<Drivers>> {
        let memo = || self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = memo().drivers.get(scope) {
            return Ok(found.clone());
        }
        let found = self.find(scope).await?;
        memo().drivers.insert(scope.clone(), found.clone());
        Ok(found)
    }

    async fn find(&self, scope: &Scope) -> Result<Option<Drivers>> {
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
        let kinds = read_with(scope.kind());
        let cached = memo().series.get(&kinds).cloned();
        let series = match cached {
            Some(series) => series,
            None => {
                let (_, compared_from, _) = windows(self.as_of);
                let read = self.rollups.all_series(compared_from, self.as_of, &kinds);
                let series = Arc::new(read.await?);
                memo().series.insert(kinds, Arc::clone(&series));
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
        let days = (first_collected, self.as_of);
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
