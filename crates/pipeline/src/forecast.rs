//! Forecast: month-end spend per scope, and a notification when a month is on course to cost
//! markedly more than the last one (once per scope and month).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use costwatch_analytics::forecast::month_end_with;
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::money::to_f64;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{Notification, Scope, envelopes};
use costwatch_store::{NotificationBus, RollupStore, StateStore, StoreError};

use crate::config::PipelineConfig;
use crate::drivers::DriverReader;
use crate::error::Result;

/// Month-end forecasts of the scopes forecast every run: the organisation, each account and
/// every budget's scope.
pub async fn forecasts(
    rollups: &dyn RollupStore,
    cfg: &PipelineConfig,
    as_of: NaiveDate,
) -> Result<BTreeMap<Scope, MonthEndForecast>> {
    let start = as_of - Days::new(u64::from(cfg.history_days.saturating_sub(1)));
    let always = [ScopeKind::Org, ScopeKind::Account];
    let mut kinds = always.to_vec();
    kinds.extend(cfg.budgets.iter().map(|b| b.scope.kind()));
    kinds.sort();
    kinds.dedup();
    // Looked up once per series read (every tag value's, with a tag budget): a set, not a scan
    // of up to 500 budgets each time.
    let budgeted: BTreeSet<&Scope> = cfg.budgets.iter().map(|b| &b.scope).collect();
    let mut out = BTreeMap::new();
    for series in rollups.all_series(start, as_of, &kinds).await? {
        let wanted = always.contains(&series.scope.kind()) || budgeted.contains(&series.scope);
        if wanted && let Some(f) = month_end_with(&series, as_of, &cfg.forecast) {
            out.insert(series.scope, f);
        }
    }
    Ok(out)
}

/// Publishes a forecast envelope for each scope whose month-end forecast is at least
/// `forecast_alert_pct` above last month, once per scope and month, while some of the month is
/// still to come: a month with every day in is its total, for the report, not a warning.
/// Each carries what moved its scope's spend (`drivers`).
pub async fn notify_forecasts(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    cfg: &PipelineConfig,
    names: &BTreeMap<String, String>,
    forecasts: &BTreeMap<Scope, MonthEndForecast>,
    drivers: &DriverReader<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    let mut published = Vec::new();
    for (scope, f) in forecasts.iter().filter(|(_, f)| !f.is_complete()) {
        let Some(prev) = f.previous_month_total.filter(|p| !p.is_zero()) else {
            continue;
        };
        let rise = to_f64((f.total - prev) / prev) * 100.0;
        if rise < cfg.forecast_alert_pct {
            continue;
        }
        let key = format!("forecast-alert/{}/{}", f.month, scope.key());
        if state.get(&key).await?.is_some() {
            continue;
        }
        let account_name = scope
            .account()
            .and_then(|a| names.get(a))
            .map(String::as_str);
        let mut n = envelopes::forecast(f, account_name, now);
        if let Some(d) = drivers.of(scope).await? {
            n = n.with_drivers(d);
        }
        bus.publish(&n).await?;
        match state
            .put(&key, serde_json::json!({ "id": n.id }), None, None)
            .await
        {
            Ok(_) | Err(StoreError::Conflict { .. }) => published.push(n),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(published)
}

#[cfg(test)]
mod tests {
    use costwatch_core::Money;
    use costwatch_store::memory::{MemoryBus, MemoryRollups, MemoryState};

    use super::*;

    /// A month on course for $150 after a $100 month, with data up to `as_of`.
    fn rising(scope: Scope, as_of: NaiveDate) -> (Scope, MonthEndForecast) {
        let total = Money::from(150);
        let f = MonthEndForecast {
            scope: scope.clone(),
            month: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            as_of,
            actual_to_date: Money::from(140),
            total,
            lo80: total,
            hi80: total,
            lo95: total,
            hi95: total,
            previous_month_total: Some(Money::from(100)),
            daily: Vec::new(),
        };
        (scope, f)
    }

    #[tokio::test]
    async fn a_rise_is_announced_while_the_month_has_days_to_come() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let forecasts = BTreeMap::from([
            rising(Scope::Account("111111111111".into()), day(29)),
            rising(Scope::Account("222222222222".into()), day(30)),
        ]);
        let (state, bus) = (MemoryState::default(), MemoryBus::default());
        let cfg = PipelineConfig::default();
        let now = day(30).and_hms_opt(6, 0, 0).unwrap().and_utc();
        let (rollups, names) = (MemoryRollups::default(), BTreeMap::new());
        let drivers = DriverReader::new(&rollups, &cfg, &names, day(30));
        let sent = notify_forecasts(&state, &bus, &cfg, &names, &forecasts, &drivers, now)
            .await
            .unwrap();
        let titles: Vec<&str> = sent.iter().map(|n| n.title.as_str()).collect();
        assert_eq!(titles.len(), 1, "{titles:?}");
        assert!(titles[0].contains("111111111111"), "{titles:?}");
        assert_eq!(bus.published().len(), 1);
    }
}
