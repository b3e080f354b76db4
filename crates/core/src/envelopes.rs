//! Findings → Notification envelopes: titles, summaries and severities in one place, so every
//! producer (pipeline, CLI samples, tests) says things the same way.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::findings::{
    Anomaly, BudgetCrossing, Direction, Drivers, MonthEndForecast, Recommendation, ThresholdBasis,
};
use crate::ids::stable_id;
use crate::metric::MetricId;
use crate::money::{
    Money, display, display_percent_used, display_signed, display_with_interval, to_f64,
};
use crate::notification::*;
use crate::scope::Scope;

/// Stable id of an anomaly: its scope and the day it started.
pub fn anomaly_subject(scope: &Scope, start_date: NaiveDate) -> String {
    stable_id("an", &[&scope.key(), &start_date.to_string()])
}

/// Stable id of an anomaly found again on days a revision had taken `previous` back (see
/// `costwatch_pipeline::revised`): a new subject for every integration, since `previous` was
/// resolved there (its ticket closed, its incident resolved), and the same on a re-run.
pub fn anomaly_subject_again(previous: &str) -> String {
    stable_id("an", &[previous, "found-again"])
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

fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.0}%"))
        .unwrap_or_else(|| "new spend".to_owned())
}

/// A metric anomaly has no dollar impact: its severity follows the detector's score.
pub fn metric_anomaly_severity(score: f64) -> Severity {
    match () {
        _ if score >= 0.9 => Severity::High,
        _ if score >= 0.7 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// A CloudWatch metric's anomaly: the same kind, figures and lifecycle as a cost anomaly, its
/// amounts being the metric's values (in the metric's unit, not money), and the metric named in
/// the title, the summary and `scope.metric`.
fn metric_anomaly(
    metric: &MetricId,
    a: &Anomaly,
    state: State,
    revision: u32,
    created_at: DateTime<Utc>,
) -> Notification {
    let value = |m: Money| format!("{:.2}", to_f64(m));
    let what = match a.direction {
        Direction::Rise => "Metric spike",
        Direction::Fall => "Metric drop",
    };
    let title = match state {
        State::Resolved => format!("Resolved: {what} in {metric} since {}", a.start_date),
        _ => format!(
            "{what}: {metric} at {} (expected {})",
            value(a.actual),
            value(a.expected)
        ),
    };
    let mut summary = format!(
        "{} {} was {} on {} against {} expected (usual range {}–{}); detector score {:.2}.",
        metric.namespace,
        metric.name,
        value(a.actual),
        a.date,
        value(a.expected),
        value(a.lower),
        value(a.upper),
        a.score
    );
    if !metric.dimensions.is_empty() {
        summary.push_str(&format!(" Dimensions: {}.", metric.dimensions_text()));
    }
    if state == State::Resolved {
        summary = format!("The metric is back within its usual range. {summary}");
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
        root_causes: Vec::new(),
        resources: Vec::new(),
    });
    Notification::new(
        anomaly_subject(&a.scope, a.start_date),
        revision,
        body,
        metric_anomaly_severity(a.score),
        state,
        title,
        summary,
        ScopeRef::new(&a.scope, None),
        created_at,
    )
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

/// The currency of the amounts in envelopes the free functions below build.
pub const DEFAULT_CURRENCY: &str = "USD";

/// Envelope builders for amounts in one currency (an ISO 4217 code): titles and summaries write
/// money with [`crate::money::display`] in that currency and the envelope carries its code, so
/// the title and every integration show the same `€1,234.50`. The free functions are
/// `in_currency(DEFAULT_CURRENCY)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelopes<'a> {
    currency: &'a str,
}

/// Builders of envelopes whose amounts are in `currency` (`"EUR"`, `"JPY"` …).
pub fn in_currency(currency: &str) -> Envelopes<'_> {
    Envelopes { currency }
}

pub fn anomaly(
    a: &Anomaly,
    state: State,
    revision: u32,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    in_currency(DEFAULT_CURRENCY).anomaly(a, state, revision, account_name, created_at)
}

pub fn budget(
    c: &BudgetCrossing,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    in_currency(DEFAULT_CURRENCY).budget(c, account_name, created_at)
}

/// A later message about the same threshold in the same period: [`Envelopes::budget_update`].
pub fn budget_update(
    c: &BudgetCrossing,
    state: State,
    revision: u32,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    in_currency(DEFAULT_CURRENCY).budget_update(c, state, revision, account_name, created_at)
}

pub fn forecast(
    f: &MonthEndForecast,
    account_name: Option<&str>,
    created_at: DateTime<Utc>,
) -> Notification {
    in_currency(DEFAULT_CURRENCY).forecast(f, account_name, created_at)
}

pub fn recommendation(r: &Recommendation, created_at: DateTime<Utc>) -> Notification {
    in_currency(DEFAULT_CURRENCY).recommendation(r, created_at)
}

pub fn report(figures: ReportFigures, created_at: DateTime<Utc>) -> Notification {
    in_currency(DEFAULT_CURRENCY).report(figures, created_at)
}

impl Envelopes<'_> {
    fn money(&self, m: Money) -> String {
        display(m, self.currency)
    }

    /// A test message ([`test`]) carrying this currency.
    pub fn test(&self, message: &str, created_at: DateTime<Utc>) -> Notification {
        self.finish(test(message, created_at))
    }

    /// `n`, its amounts in this builder's currency.
    fn finish(&self, mut n: Notification) -> Notification {
        n.currency = self.currency.to_owned();
        n
    }

    pub fn anomaly(
        &self,
        a: &Anomaly,
        state: State,
        revision: u32,
        account_name: Option<&str>,
        created_at: DateTime<Utc>,
    ) -> Notification {
        if let Scope::Metric(metric) = &a.scope {
            return self.finish(metric_anomaly(metric, a, state, revision, created_at));
        }
        let scope = ScopeRef::new(&a.scope, account_name);
        let what = match a.direction {
            Direction::Rise => "Cost spike",
            Direction::Fall => "Cost drop",
        };
        let title = match state {
            State::Resolved => {
                format!("Resolved: {what} in {} since {}", scope.label, a.start_date)
            }
            _ => format!(
                "{what}: {} {} ({} vs expected)",
                scope.label,
                pct(a.impact_pct),
                display_signed(a.impact, self.currency)
            ),
        };
        let mut summary = format!(
            "Spend on {} was {} against {} expected (usual range {}–{}).",
            a.date,
            self.money(a.actual),
            self.money(a.expected),
            self.money(a.lower),
            self.money(a.upper)
        );
        if let Some(top) = a.root_causes.first() {
            summary.push_str(&format!(
                " Largest contributor: {} {} ({}, {:.0}% of the change).",
                top.dimension,
                top.value,
                self.money(top.contribution),
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
            resources: a.resources.clone(),
        });
        self.finish(Notification::new(
            anomaly_subject(&a.scope, a.start_date),
            revision,
            body,
            anomaly_severity(a.impact, a.impact_pct),
            state,
            title,
            summary,
            scope,
            created_at,
        ))
    }

    pub fn budget(
        &self,
        c: &BudgetCrossing,
        account_name: Option<&str>,
        created_at: DateTime<Utc>,
    ) -> Notification {
        self.budget_update(c, State::Open, 0, account_name, created_at)
    }

    /// A later message about the same threshold in the same period (same `subject_id`):
    /// `State::Resolved` when spend fell back under it (a credit), `State::Open` with a higher
    /// revision when it is crossed again after that.
    pub fn budget_update(
        &self,
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
            "Budget \"{}\": {} of {} {basis} (threshold {}%)",
            c.budget,
            display_percent_used(c.percent_of_limit),
            self.money(c.limit),
            c.threshold.percent
        );
        if state == State::Resolved {
            title = format!("Back under {}%: {title}", c.threshold.percent);
        }
        let mut summary = String::new();
        if state == State::Resolved {
            summary.push_str("Spend fell back under this threshold (credits or refunds). ");
        }
        let period = c.period();
        // A day is complete when its budget is checked: it has no forecast to give.
        let forecast = match (period.is_daily(), c.forecast_pending) {
            (true, _) => String::new(),
            (false, true) => format!(
                "; no {}-end forecast yet (too little history)",
                period.noun()
            ),
            (false, false) => format!(
                "; {}-end forecast {}",
                period.noun(),
                self.money(c.forecast)
            ),
        };
        // On the period's first day "from 2026-11-01 to 2026-11-01" would read as a typo.
        let days = match c.period_start == c.as_of {
            true => format!("on {}", c.as_of),
            false => format!("from {} to {}", c.period_start, c.as_of),
        };
        summary.push_str(&format!("{} spent {days}{forecast}.", self.money(c.actual)));
        if let Some(months) = c.auto_adjusted_months {
            summary.push_str(&format!(
                " The budget adjusts itself: {} is {}.",
                self.money(c.limit),
                crate::findings::auto_amount_basis(period, months)
            ));
        }
        if let Some(date) = c.breach_date.filter(|_| c.actual < c.limit) {
            summary.push_str(&format!(" At this rate the budget runs out on {date}."));
        }
        if c.actual >= c.limit {
            summary.push_str(&format!(
                " Over budget by {}.",
                self.money(c.actual - c.limit)
            ));
        } else if let Some(allowed) = c.allowed_daily_spend {
            summary.push_str(&format!(
                " To stay within it, spend at most {} a day.",
                self.money(allowed)
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
            forecast_pending: c.forecast_pending,
            threshold_percent: c.threshold.percent,
            basis: c.threshold.basis,
            percent_of_limit: c.percent_of_limit,
            breach_date: c.breach_date,
            allowed_daily_spend: c.allowed_daily_spend,
            auto_adjusted_months: c.auto_adjusted_months,
            drivers: None,
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
        self.finish(Notification::new(
            subject, revision, body, severity, state, title, summary, scope, created_at,
        ))
    }

    pub fn forecast(
        &self,
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
            "{} month-end forecast for {}: {}",
            f.month.format("%B %Y"),
            scope.label,
            display_with_interval(f.total, f.lo80, f.hi80, self.currency)
        );
        let mut summary = format!("{} spent to {}.", self.money(f.actual_to_date), f.as_of);
        if let (Some(prev), Some(change)) = (f.previous_month_total, change_pct) {
            summary.push_str(&format!(
                " Last month: {} ({change:+.0}%).",
                self.money(prev)
            ));
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
            drivers: None,
        });
        let subject = stable_id(
            "fc",
            &[&f.scope.key(), &f.month.to_string(), &f.as_of.to_string()],
        );
        self.finish(informational(
            subject, body, title, summary, scope, created_at,
        ))
    }

    pub fn recommendation(&self, r: &Recommendation, created_at: DateTime<Utc>) -> Notification {
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
            self.money(r.monthly_savings),
            self.money(annual),
            self.money(r.current_monthly_cost)
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
        self.finish(Notification::new(
            subject,
            0,
            body,
            severity,
            State::Open,
            r.title.clone(),
            summary,
            ScopeRef::new(&scope_value, None),
            created_at,
        ))
    }

    pub fn report(&self, figures: ReportFigures, created_at: DateTime<Utc>) -> Notification {
        let (what, subject_kind) = match figures.period {
            ReportPeriod::Daily => (format!("Daily cost report for {}", figures.end), "daily"),
            ReportPeriod::Weekly => (
                format!("Weekly cost report {} to {}", figures.start, figures.end),
                "weekly",
            ),
        };
        let title = format!(
            "{what}: {} ({} vs previous)",
            self.money(figures.total),
            pct(figures.change_pct)
        );
        let mut summary = format!("Month to date {}.", self.money(figures.month_to_date));
        if let Some(f) = figures.forecast_month_end {
            summary.push_str(&format!(" Month-end forecast {}.", self.money(f)));
        }
        if let Some(top) = figures.top_movers.first() {
            summary.push_str(&format!(
                " Biggest mover: {} ({}).",
                top.label,
                display_signed(top.change, self.currency)
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
        if let Some(saved) = figures.saved_so_far {
            summary.push_str(&format!(
                " Saved so far: {}/month from implemented recommendations.",
                self.money(saved)
            ));
        }
        let subject = stable_id("rep", &[subject_kind, &figures.end.to_string()]);
        let scope = ScopeRef::new(&Scope::Org, None);
        self.finish(informational(
            subject,
            NotificationBody::Report(figures),
            title,
            summary,
            scope,
            created_at,
        ))
    }
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

impl Notification {
    /// A forecast or budget alert with what moved its scope's spend: the figures carry them,
    /// and the summary names the largest two ("The month so far is up $2,345.67 on 1–20
    /// October, most in account web-prod (+$1,840.00) and Amazon SageMaker (+$620.00)."; a
    /// daily budget's "The day is up $400.00 on 9 November, …").
    /// Other kinds are returned as they are.
    pub fn with_drivers(mut self, drivers: Drivers) -> Self {
        let slot = match &mut self.body {
            NotificationBody::Forecast(f) => &mut f.drivers,
            NotificationBody::Budget(f) => &mut f.drivers,
            _ => return self,
        };
        let signed = |m: Money| display_signed(m, &self.currency);
        let named: Vec<String> = drivers
            .causes
            .iter()
            .take(2)
            .map(|c| format!("{} ({})", c.label(), signed(c.contribution)))
            .collect();
        let most = match named.as_slice() {
            [] => String::new(),
            [one] => format!(", most in {one}"),
            [a, b, ..] => format!(", most in {a} and {b}"),
        };
        let way = match drivers.change > Money::ZERO {
            true => "up",
            false => "down",
        };
        let what = match drivers.compares_one_day() {
            true => "The day",
            false => "The month so far",
        };
        self.summary.push_str(&format!(
            " {what} is {way} {} on {}{most}.",
            display(drivers.change.abs(), &self.currency),
            day_span(drivers.compared_from, drivers.compared_to),
        ));
        *slot = Some(drivers);
        self
    }
}

/// "1–20 October", "28 September–3 October" (a window of days, in words).
pub fn day_span(from: NaiveDate, to: NaiveDate) -> String {
    let same_month = (from.year(), from.month()) == (to.year(), to.month());
    match (from == to, same_month) {
        (true, _) => to.format("%-d %B").to_string(),
        (false, true) => format!("{}–{}", from.day(), to.format("%-d %B")),
        (false, false) => format!("{}–{}", from.format("%-d %B"), to.format("%-d %B")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;
    use rust_decimal_macros::dec;

    fn at() -> DateTime<Utc> {
        samples::of_kind("report").created_at
    }

    #[test]
    fn titles_and_summaries_are_written_in_the_envelopes_currency() {
        let NotificationBody::Report(figures) = samples::of_kind("report").body else {
            panic!("a report")
        };
        let usd = report(figures.clone(), at());
        assert_eq!(usd.currency, "USD");
        assert!(usd.title.contains("$4,681.23"), "{}", usd.title);
        let eur = in_currency("EUR").report(figures.clone(), at());
        assert_eq!(eur.currency, "EUR");
        assert!(eur.title.contains("€4,681.23"), "{}", eur.title);
        assert!(eur.summary.contains("€90,123.45"), "{}", eur.summary);
        assert!(eur.summary.contains("(+€379.00)"), "{}", eur.summary);
        assert!(!format!("{}{}", eur.title, eur.summary).contains('$'));
        let yen = in_currency("JPY").report(figures, at());
        assert!(yen.title.contains("¥4,681 "), "{}", yen.title);
        // Same subject in any currency: the id says what happened, not how it is written.
        assert_eq!(yen.id, usd.id);
    }

    #[test]
    fn an_impact_is_signed_before_the_symbol() {
        let a = Anomaly {
            scope: Scope::Service("Amazon S3".into()),
            start_date: at().date_naive(),
            date: at().date_naive(),
            direction: Direction::Fall,
            actual: dec!(30),
            expected: dec!(42),
            lower: dec!(38),
            upper: dec!(46),
            impact: dec!(-12),
            impact_pct: Some(-28.6),
            score: 0.8,
            root_causes: Vec::new(),
            resources: Vec::new(),
        };
        let n = anomaly(&a, State::Open, 0, None, at());
        assert_eq!(n.title, "Cost drop: Amazon S3 -29% (-$12.00 vs expected)");
        let n = in_currency("GBP").anomaly(&a, State::Open, 0, None, at());
        assert_eq!(n.title, "Cost drop: Amazon S3 -29% (-£12.00 vs expected)");
        // A rise is signed too, as the chat commands show it: "+29% ($12.00 …)" read as a level.
        let rise = Anomaly {
            direction: Direction::Rise,
            actual: dec!(54),
            impact: dec!(12),
            impact_pct: Some(28.6),
            ..a
        };
        let n = anomaly(&rise, State::Open, 0, None, at());
        assert_eq!(n.title, "Cost spike: Amazon S3 +29% (+$12.00 vs expected)");
    }
}
