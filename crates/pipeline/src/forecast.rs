//! Forecast: month-end spend per scope, and a notification when a month is on course to cost
//! markedly more than the last one (once per scope and month).

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use costwatch_analytics::forecast::month_end_with;
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::money::to_f64;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{Notification, Scope, envelopes};
use costwatch_store::{NotificationBus, RollupStore, StateStore, StoreError};

use crate::config::PipelineConfig;
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
    let mut out = BTreeMap::new();
    for series in rollups.all_series(start, as_of, &kinds).await? {
        let wanted = always.contains(&series.scope.kind())
            || cfg.budgets.iter().any(|b| b.scope == series.scope);
        if wanted && let Some(f) = month_end_with(&series, as_of, &cfg.forecast) {
            out.insert(series.scope, f);
        }
    }
    Ok(out)
}

/// Publishes a forecast envelope for each scope whose month-end forecast is at least
/// `forecast_alert_pct` above last month, once per scope and month.
pub async fn notify_forecasts(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    cfg: &PipelineConfig,
    names: &BTreeMap<String, String>,
    forecasts: &BTreeMap<Scope, MonthEndForecast>,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    let mut published = Vec::new();
    for (scope, f) in forecasts {
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
        let n = envelopes::forecast(f, account_name, now);
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
