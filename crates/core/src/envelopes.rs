//! Findings → Notification envelopes: titles, summaries and severities in one place, so every
//! producer (pipeline, CLI samples, tests) says things the same way.

use chrono::{DateTime, NaiveDate, Utc};

use crate::findings::{
    Anomaly, BudgetCrossing, Direction, MonthEndForecast, Recommendation, ThresholdBasis,
};
use crate::ids::stable_id;
use crate::money::{Money, format_amount, to_f64};
use crate::notification::*;
use crate::scope::Scope;

/// Stable id of an anomaly: its scope and the day it started.
pub fn anomaly_subject(scope: &Scope, start_date: NaiveDate) -> String {
    stable_id("an", &[&scope.key(), &start_date.to_string()])
}

/// Stable id of a budget threshold within one period: crossed once per period.
pub fn budget_subject(
    budget: &str,
    period_start: NaiveDate,
    percent: u32,
    basis: ThresholdBasis,
) -> String {
    let basis = match basis {
        ThresholdBasis::Actual => "actual",
        ThresholdBasis::Forecast => "forecast",
    };
    stable_id(
        "bu",
        &[
            budget,
            &period_start.to_string(),
            &percent.to_string(),
            basis,
        ],
    )
}

fn money(m: Money) -> String {
    format!("${}", format_amount(m))
}

fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.0}%"))
        .unwrap_or_else(|| "new spend".to_owned())
}

pub fn anomaly_severity(impact: Money, impact_pct: Option<f64>) -> Severity {
    let impact = to_f64(impact.abs());
    let pct = impact_pct.map(f64::abs).unwrap_or(f64::INFINITY);
    match () {
        _ if impact >= 5_000.0 => Severity::Critical,
        _ if impact >= 1_000.0 || (impact >= 100.0 && pct >= 100.0) => Severity::High,
        _ if impact >= 100.0 => Severity::Medium,
        _ => Severity::Low,
    }
}

pub fn anomaly(
    a: &Anomaly,
    state: State,
    revision: u32,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    let scope = ScopeRef::new(&a.scope, account_name);
    let what = match a.direction {
        Direction::Rise => "Cost spike",
        Direction::Fall => "Cost drop",
    };
    let title = match state {
        State::Resolved => format!("Resolved: {what} in {} since {}", scope.label, a.start_date),
        _ => format!(
            "{what}: {} {} ({} vs expected)",
            scope.label,
            pct(a.impact_pct),
            money(a.impact)
        ),
    };
    let mut summary = format!(
        "Spend on {} was {} against {} expected (usual range {}–{}).",
        a.date,
        money(a.actual),
        money(a.expected),
        money(a.lower),
        money(a.upper)
    );
    if let Some(top) = a.root_causes.first() {
        summary.push_str(&format!(
            " Largest contributor: {} {} ({}, {:.0}% of the change).",
            top.dimension,
            top.value,
            money(top.contribution),
            top.share * 100.0
        ));
    }
    if state == State::Resolved {
        summary = format!("Spend is back within its usual range. {summary}");
    }
    let body = NotificationBody::Anomaly(AnomalyFigures {
        start_date: a.start_date,
        date: a.date,
        direction: a.direction,
        actual: a.actual,
        expected: a.expected,
        expected_low: a.lower,
        expected_high: a.upper,
        impact: a.impact,
        impact_pct: a.impact_pct,
        score: a.score.clamp(0.0, 1.0),
        root_causes: a.root_causes.clone(),
    });
    Notification::new(
        anomaly_subject(&a.scope, a.start_date),
        revision,
        body,
        anomaly_severity(a.impact, a.impact_pct),
        state,
        title,
        summary,
        scope,
        created_at,
    )
}

pub fn budget(
    c: &BudgetCrossing,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    budget_update(c, State::Open, 0, account_name, created_at)
}

/// A later message about the same threshold in the same period (same `subject_id`):
/// `State::Resolved` when spend fell back under it (a credit), `State::Open` with a higher
/// revision when it is crossed again after that.
pub fn budget_update(
    c: &BudgetCrossing,
    state: State,
    revision: u32,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    let basis = match c.threshold.basis {
        ThresholdBasis::Actual => "spent",
        ThresholdBasis::Forecast => "forecast",
    };
    let severity = match (c.threshold.basis, c.threshold.percent) {
        (ThresholdBasis::Actual, p) if p >= 120 => Severity::Critical,
        (ThresholdBasis::Actual, p) if p >= 100 => Severity::High,
        (_, p) if p >= 100 => Severity::Medium,
        _ => Severity::Low,
    };
    let mut title = format!(
        "Budget \"{}\": {:.0}% of {} {basis} (threshold {}%)",
        c.budget,
        c.percent_of_limit,
        money(c.limit),
        c.threshold.percent
    );
    if state == State::Resolved {
        title = format!("Back under {}%: {title}", c.threshold.percent);
    }
    let mut summary = String::new();
    if state == State::Resolved {
        summary.push_str("Spend fell back under this threshold (credits or refunds). ");
    }
    summary.push_str(&format!(
        "{} spent from {} to {}; month-end forecast {}.",
        money(c.actual),
        c.period_start,
        c.as_of,
        money(c.forecast)
    ));
    if let Some(date) = c.breach_date.filter(|_| c.actual < c.limit) {
        summary.push_str(&format!(" At this rate the budget runs out on {date}."));
    }
    if c.actual >= c.limit {
        summary.push_str(&format!(" Over budget by {}.", money(c.actual - c.limit)));
    } else if let Some(allowed) = c.allowed_daily_spend {
        summary.push_str(&format!(
            " To stay within it, spend at most {} a day.",
            money(allowed)
        ));
    }
    let body = NotificationBody::Budget(BudgetFigures {
        budget: c.budget.clone(),
        period_start: c.period_start,
        period_end: c.period_end,
        as_of: c.as_of,
        limit: c.limit,
        actual: c.actual,
        forecast: c.forecast,
        threshold_percent: c.threshold.percent,
        basis: c.threshold.basis,
        percent_of_limit: c.percent_of_limit,
        breach_date: c.breach_date,
        allowed_daily_spend: c.allowed_daily_spend,
    });
    let subject = budget_subject(
        &c.budget,
        c.period_start,
        c.threshold.percent,
        c.threshold.basis,
    );
    let scope = ScopeRef::new(&c.scope, account_name);
    let severity = if state == State::Resolved {
        Severity::Info
    } else {
        severity
    };
    Notification::new(
        subject, revision, body, severity, state, title, summary, scope, created_at,
    )
}

pub fn forecast(
    f: &MonthEndForecast,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    let change_pct = f
        .previous_month_total
        .filter(|p| !p.is_zero())
        .map(|p| to_f64((f.total - p) / p) * 100.0);
    let scope = ScopeRef::new(&f.scope, account_name);
    let title = format!(
        "{} month-end forecast for {}: {} (80%: {}–{})",
        f.month.format("%B %Y"),
        scope.label,
        money(f.total),
        money(f.lo80),
        money(f.hi80)
    );
    let mut summary = format!("{} spent to {}.", money(f.actual_to_date), f.as_of);
    if let (Some(prev), Some(change)) = (f.previous_month_total, change_pct) {
        summary.push_str(&format!(" Last month: {} ({change:+.0}%).", money(prev)));
    }
    let body = NotificationBody::Forecast(ForecastFigures {
        month: f.month,
        as_of: f.as_of,
        actual_to_date: f.actual_to_date,
        forecast_total: f.total,
        lo80: f.lo80,
        hi80: f.hi80,
        lo95: f.lo95,
        hi95: f.hi95,
        previous_month_total: f.previous_month_total,
        change_pct,
    });
    let subject = stable_id(
        "fc",
        &[&f.scope.key(), &f.month.to_string(), &f.as_of.to_string()],
    );
    informational(subject, body, title, summary, scope, created_at)
}

pub fn recommendation(r: &Recommendation, created_at: DateTime<Utc>) -> Notification {
    let scope_value = match (&r.account, &r.service) {
        (Some(a), Some(s)) => Scope::AccountService {
            account: a.clone(),
            service: s.clone(),
        },
        (Some(a), None) => Scope::Account(a.clone()),
        (None, Some(s)) => Scope::Service(s.clone()),
        (None, None) => Scope::Org,
    };
    let annual = r.monthly_savings * Money::from(12);
    let summary = format!(
        "{} Saves {} a month ({} a year) on {} a month today.",
        r.action,
        money(r.monthly_savings),
        money(annual),
        money(r.current_monthly_cost)
    );
    let severity = if r.monthly_savings >= Money::from(1000) {
        Severity::Medium
    } else {
        Severity::Low
    };
    let body = NotificationBody::Recommendation(RecommendationFigures {
        category: r.category.clone(),
        action: r.action.clone(),
        resource_id: r.resource_id.clone(),
        current_monthly_cost: r.current_monthly_cost,
        monthly_savings: r.monthly_savings,
        annual_savings: annual,
    });
    let key = r.resource_id.clone().unwrap_or_else(|| scope_value.key());
    let subject = stable_id("rec", &[&r.category, &key]);
    Notification::new(
        subject,
        0,
        body,
        severity,
        State::Open,
        r.title.clone(),
        summary,
        ScopeRef::new(&scope_value, None),
        created_at,
    )
}

pub fn report(figures: ReportFigures, created_at: DateTime<Utc>) -> Notification {
    let (what, subject_kind) = match figures.period {
        ReportPeriod::Daily => (format!("Daily cost report for {}", figures.end), "daily"),
        ReportPeriod::Weekly => (
            format!("Weekly cost report {} to {}", figures.start, figures.end),
            "weekly",
        ),
    };
    let title = format!(
        "{what}: {} ({} vs previous)",
        money(figures.total),
        pct(figures.change_pct)
    );
    let mut summary = format!("Month to date {}.", money(figures.month_to_date));
    if let Some(f) = figures.forecast_month_end {
        summary.push_str(&format!(" Month-end forecast {}.", money(f)));
    }
    if let Some(top) = figures.top_movers.first() {
        summary.push_str(&format!(
            " Biggest mover: {} ({}{}).",
            top.label,
            if top.change.is_sign_negative() {
                "-"
            } else {
                "+"
            },
            money(top.change.abs())
        ));
    }
    if figures.open_anomalies > 0 {
        let plural = if figures.open_anomalies == 1 {
            "anomaly"
        } else {
            "anomalies"
        };
        summary.push_str(&format!(" {} open {plural}.", figures.open_anomalies));
    }
    let subject = stable_id("rep", &[subject_kind, &figures.end.to_string()]);
    let scope = ScopeRef::new(&Scope::Org, None);
    informational(
        subject,
        NotificationBody::Report(figures),
        title,
        summary,
        scope,
        created_at,
    )
}

/// A test message to check an integration end to end; a new id per call time.
pub fn test(message: &str, created_at: DateTime<Utc>) -> Notification {
    let subject = stable_id("tst", &[&created_at.to_rfc3339()]);
    let body = NotificationBody::Test(TestFigures {
        message: message.to_owned(),
    });
    let title = "costwatch test notification".to_owned();
    let scope = ScopeRef::new(&Scope::Org, None);
    informational(subject, body, title, message.to_owned(), scope, created_at)
}

/// Forecasts, reports and tests are informational, one-off messages: open, revision 0.
fn informational(
    subject: String,
    body: NotificationBody,
    title: String,
    summary: String,
    scope: ScopeRef,
    created_at: DateTime<Utc>,
) -> Notification {
    Notification::new(
        subject,
        0,
        body,
        Severity::Info,
        State::Open,
        title,
        summary,
        scope,
        created_at,
    )
}
