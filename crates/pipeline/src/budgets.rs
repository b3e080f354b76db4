//! Budgets: evaluate every configured budget and notify each threshold crossing once per period.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use costwatch_analytics::budget::evaluate;
use costwatch_core::findings::{BudgetCrossing, MonthEndForecast};
use costwatch_core::notification::BudgetLine;
use costwatch_core::{Notification, Scope, envelopes};
use costwatch_store::{NotificationBus, RollupStore, StateStore, StoreError};

use crate::config::PipelineConfig;
use crate::error::Result;

/// Where each budget stands (for reports) and the crossings it has now.
pub struct BudgetStatus {
    pub line: BudgetLine,
    pub crossings: Vec<BudgetCrossing>,
}

pub async fn evaluate_all(
    rollups: &dyn RollupStore,
    cfg: &PipelineConfig,
    forecasts: &BTreeMap<Scope, MonthEndForecast>,
    as_of: NaiveDate,
) -> Result<Vec<BudgetStatus>> {
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let mut out = Vec::new();
    for budget in &cfg.budgets {
        let series = rollups.series(&budget.scope, month_start, as_of).await?;
        let forecast = forecasts.get(&budget.scope);
        let crossings = evaluate(budget, &series, forecast, as_of);
        let actual = series.month_to_date(as_of);
        let projected = forecast.map(|f| f.total).unwrap_or(actual);
        let percent_used = costwatch_core::money::to_f64(actual / budget.amount) * 100.0;
        out.push(BudgetStatus {
            line: BudgetLine {
                budget: budget.name.clone(),
                limit: budget.amount,
                actual,
                forecast: projected,
                percent_used,
            },
            crossings,
        });
    }
    Ok(out)
}

/// Publishes crossings not yet notified in their period. When several thresholds of one budget
/// and basis are crossed at once (a first run mid-month), only the highest is sent and the lower
/// ones are recorded as covered: one message that says 120 %, not three. The state store's
/// create-only write makes "once per period" hold across re-runs and concurrent runs.
pub async fn notify_crossings(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    names: &BTreeMap<String, String>,
    statuses: &[BudgetStatus],
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    let mut published = Vec::new();
    for status in statuses {
        let mut fresh: BTreeMap<_, Vec<(String, Notification)>> = BTreeMap::new();
        for crossing in &status.crossings {
            let account_name = crossing
                .scope
                .account()
                .and_then(|a| names.get(a))
                .map(String::as_str);
            let n = envelopes::budget(crossing, account_name, now);
            let key = format!("budget/{}", n.subject_id);
            if state.get(&key).await?.is_none() {
                let group = fresh.entry(crossing.threshold.basis).or_default();
                group.push((key, n));
            }
        }
        for mut group in fresh.into_values() {
            group.sort_by_key(|(_, n)| match &n.body {
                costwatch_core::NotificationBody::Budget(b) => b.threshold_percent,
                _ => 0,
            });
            let Some((_, highest)) = group.last() else {
                continue;
            };
            bus.publish(highest).await?;
            for (key, n) in &group {
                let record = serde_json::json!({ "id": n.id, "sent": n.id == highest.id });
                match state.put(key, record, None, None).await {
                    Ok(_) | Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            published.push(highest.clone());
        }
    }
    Ok(published)
}
