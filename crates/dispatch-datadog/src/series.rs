//! Envelope → gauges for `POST /api/v2/series`: one point per figure, stamped with the day the
//! figure is about (midnight UTC), tagged with where the money went. Metric names are fixed (the
//! [`NAMES`] list is what docs/integrations/datadog.md documents); tag values come from users
//! and go through [`crate::tags`].

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::Notification;
use costwatch_core::ScopeKind;
use costwatch_core::money::to_f64;
use costwatch_core::notification::{NotificationBody, ReportPeriod};
use costwatch_dispatch::view::severity_word;
use serde_json::{Value, json};

use crate::config::Timestamp;
use crate::tags::tag;

/// Datadog's metric type for a gauge (`MetricIntakeType` 3).
pub const GAUGE: u8 = 3;

pub const COST_DAILY: &str = "costwatch.cost.daily";
pub const COST_WEEKLY: &str = "costwatch.cost.weekly";
pub const COST_MONTH_TO_DATE: &str = "costwatch.cost.month_to_date";
pub const COST_SERVICE_DAILY: &str = "costwatch.cost.service.daily";
pub const ANOMALIES_OPEN: &str = "costwatch.anomalies.open";
pub const FORECAST_MONTH_END: &str = "costwatch.forecast.month_end";
pub const FORECAST_LOWER: &str = "costwatch.forecast.month_end.lower";
pub const FORECAST_UPPER: &str = "costwatch.forecast.month_end.upper";
pub const FORECAST_LOWER_95: &str = "costwatch.forecast.month_end.lower_95";
pub const FORECAST_UPPER_95: &str = "costwatch.forecast.month_end.upper_95";
pub const FORECAST_ACTUAL_TO_DATE: &str = "costwatch.forecast.actual_to_date";
pub const BUDGET_PERCENT_USED: &str = "costwatch.budget.percent_used";
pub const BUDGET_ACTUAL: &str = "costwatch.budget.actual";
pub const BUDGET_LIMIT: &str = "costwatch.budget.limit";
pub const BUDGET_FORECAST: &str = "costwatch.budget.forecast";
pub const ANOMALY_IMPACT: &str = "costwatch.anomaly.impact";
pub const ANOMALY_ACTUAL: &str = "costwatch.anomaly.actual";
pub const ANOMALY_EXPECTED: &str = "costwatch.anomaly.expected";
pub const RECOMMENDATION_SAVINGS: &str = "costwatch.recommendation.monthly_savings";
pub const RECOMMENDATION_COST: &str = "costwatch.recommendation.current_monthly_cost";
pub const ALLOCATION_UNALLOCATED: &str = "costwatch.allocation.unallocated";
pub const ALLOCATION_COVERAGE: &str = "costwatch.allocation.coverage";

/// Every metric the dispatcher sends (a test checks the docs page lists each).
pub const NAMES: [&str; 22] = [
    COST_DAILY,
    COST_WEEKLY,
    COST_MONTH_TO_DATE,
    COST_SERVICE_DAILY,
    ANOMALIES_OPEN,
    FORECAST_MONTH_END,
    FORECAST_LOWER,
    FORECAST_UPPER,
    FORECAST_LOWER_95,
    FORECAST_UPPER_95,
    FORECAST_ACTUAL_TO_DATE,
    BUDGET_PERCENT_USED,
    BUDGET_ACTUAL,
    BUDGET_LIMIT,
    BUDGET_FORECAST,
    ANOMALY_IMPACT,
    ANOMALY_ACTUAL,
    ANOMALY_EXPECTED,
    RECOMMENDATION_SAVINGS,
    RECOMMENDATION_COST,
    ALLOCATION_UNALLOCATED,
    ALLOCATION_COVERAGE,
];

/// The tags every series of `n` carries: where the money went, in which currency, what kind of
/// notification said so, and the destination's own tags.
pub fn common_tags(n: &Notification, extra: &[String]) -> Vec<String> {
    let s = &n.scope;
    let mut tags: Vec<String> = [
        s.account_id.as_deref().and_then(|a| tag("account", a)),
        s.account_name
            .as_deref()
            .and_then(|a| tag("account_name", a)),
        s.service.as_deref().and_then(|v| tag("service", v)),
        tag("scope", &s.key),
        tag("currency", &n.currency),
        tag("kind", n.kind()),
    ]
    .into_iter()
    .flatten()
    .collect();
    tags.extend(extra.iter().cloned());
    tags
}

/// Midnight UTC of `day`, in POSIX seconds.
fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp())
}

/// The series of one envelope (none for a test).
pub fn of(n: &Notification, extra: &[String], stamp: Timestamp) -> Vec<Value> {
    let base = common_tags(n, extra);
    let at = |day: Option<NaiveDate>| match (stamp, day) {
        (Timestamp::CostDay, Some(day)) => midnight(day),
        _ => created(n.created_at),
    };
    let money_unit = unit_of(&n.currency);
    let with = |more: &[Option<String>]| {
        let mut t = base.clone();
        t.extend(more.iter().flatten().cloned());
        t
    };
    let state = tag("state", n.state.as_str());
    let severity = tag("severity", severity_word(n.severity));
    let mut out = Vec::new();
    let mut point = |metric: &str, ts: i64, value: f64, unit: Option<&str>, tags: &[String]| {
        out.push(gauge(metric, ts, value, unit, tags));
    };
    match &n.body {
        NotificationBody::Report(f) => {
            let ts = at(Some(f.end));
            let tags = with(&[tag(
                "period",
                match f.period {
                    ReportPeriod::Daily => "daily",
                    ReportPeriod::Weekly => "weekly",
                },
            )]);
            let total = match f.period {
                ReportPeriod::Daily => COST_DAILY,
                ReportPeriod::Weekly => COST_WEEKLY,
            };
            point(total, ts, to_f64(f.total), money_unit, &tags);
            point(
                COST_MONTH_TO_DATE,
                ts,
                to_f64(f.month_to_date),
                money_unit,
                &tags,
            );
            point(ANOMALIES_OPEN, ts, f64::from(f.open_anomalies), None, &tags);
            if f.period == ReportPeriod::Daily {
                for m in &f.top_services {
                    // The service's own scope replaces the report's.
                    let mut t: Vec<String> = tags
                        .iter()
                        .filter(|t| !t.starts_with("scope:") && !t.starts_with("service:"))
                        .cloned()
                        .collect();
                    t.extend(tag("service", &m.label));
                    t.extend(tag("scope", &m.scope));
                    point(COST_SERVICE_DAILY, ts, to_f64(m.amount), money_unit, &t);
                }
            }
            for b in &f.budgets {
                let t = with(&[
                    tag("budget", &b.budget),
                    tag("budget_period", b.period.name()),
                ]);
                point(BUDGET_PERCENT_USED, ts, b.percent_used, Some("percent"), &t);
            }
            // Tag coverage over time, a showback's first figure; month to date, so daily only
            // (a weekly report's would repeat its last day's).
            if f.period == ReportPeriod::Daily {
                for a in &f.allocation {
                    let key = match a.kind {
                        ScopeKind::CostCategory => tag("cost_category", &a.key),
                        _ => tag("tag_key", &a.key),
                    };
                    let t = with(&[key]);
                    let unallocated = to_f64(a.unallocated);
                    point(ALLOCATION_UNALLOCATED, ts, unallocated, money_unit, &t);
                    if let Some(pct) = a.coverage_pct {
                        point(ALLOCATION_COVERAGE, ts, pct, Some("percent"), &t);
                    }
                }
            }
        }
        NotificationBody::Forecast(f) => {
            let ts = at(Some(f.as_of));
            let tags = with(&[tag("month", &f.month.format("%Y-%m").to_string())]);
            for (metric, value) in [
                (FORECAST_MONTH_END, f.forecast_total),
                (FORECAST_LOWER, f.lo80),
                (FORECAST_UPPER, f.hi80),
                (FORECAST_LOWER_95, f.lo95),
                (FORECAST_UPPER_95, f.hi95),
                (FORECAST_ACTUAL_TO_DATE, f.actual_to_date),
            ] {
                point(metric, ts, to_f64(value), money_unit, &tags);
            }
        }
        NotificationBody::Budget(f) => {
            let ts = at(Some(f.as_of));
            // A quarter's or a year's percent next to a month's: a dashboard filters by period.
            let tags = with(&[
                tag("budget", &f.budget),
                tag("budget_period", f.period().name()),
                tag("threshold", &f.threshold_percent.to_string()),
                severity.clone(),
                state.clone(),
            ]);
            point(
                BUDGET_PERCENT_USED,
                ts,
                f.percent_of_limit,
                Some("percent"),
                &tags,
            );
            // No forecast yet: no forecast point (the actual is not one).
            let forecast = (!f.forecast_pending).then_some((BUDGET_FORECAST, f.forecast));
            for (metric, value) in [(BUDGET_ACTUAL, f.actual), (BUDGET_LIMIT, f.limit)]
                .into_iter()
                .chain(forecast)
            {
                point(metric, ts, to_f64(value), money_unit, &tags);
            }
        }
        NotificationBody::Anomaly(f) => {
            let ts = at(Some(f.date));
            let tags = with(&[severity.clone(), state.clone()]);
            for (metric, value) in [
                (ANOMALY_IMPACT, f.impact),
                (ANOMALY_ACTUAL, f.actual),
                (ANOMALY_EXPECTED, f.expected),
            ] {
                point(metric, ts, to_f64(value), money_unit, &tags);
            }
        }
        NotificationBody::Recommendation(f) => {
            // A saving has no cost day: it is stamped when it was found.
            let ts = created(n.created_at);
            let tags = with(&[
                tag("category", &f.category),
                f.resource_id.as_deref().and_then(|r| tag("resource", r)),
            ]);
            for (metric, value) in [
                (RECOMMENDATION_SAVINGS, f.monthly_savings),
                (RECOMMENDATION_COST, f.current_monthly_cost),
            ] {
                point(metric, ts, to_f64(value), money_unit, &tags);
            }
        }
        NotificationBody::Test(_) => {}
    }
    out
}

fn gauge(metric: &str, timestamp: i64, value: f64, unit: Option<&str>, tags: &[String]) -> Value {
    let mut series = json!({
        "metric": metric,
        "type": GAUGE,
        "points": [{"timestamp": timestamp, "value": value}],
        "tags": tags,
    });
    if let Some(unit) = unit {
        series["unit"] = json!(unit);
    }
    series
}

fn created(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// Datadog's unit for an amount, where it has one for the currency.
fn unit_of(currency: &str) -> Option<&'static str> {
    match currency {
        "USD" => Some("dollar"),
        "EUR" => Some("euro"),
        "GBP" => Some("pound"),
        "JPY" => Some("yen"),
        _ => None,
    }
}
