//! The Notification envelope, v1: the one message every dispatcher reads.
//! Its JSON Schema is `schemas/notification.v1.json`; tests validate every envelope against it.
//!
//! Two ids: `subject_id` names the thing (an anomaly, a budget threshold in a period, a report
//! day) and stays the same across its lifecycle, so integrations can update or resolve the
//! message they posted; `id` names this envelope (subject + state + revision) and is what the
//! delivery ledger deduplicates on.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::findings::{BudgetPeriod, Direction, Drivers, ResourceCause, RootCause, ThresholdBasis};
use crate::ids::stable_id;
use crate::metric::MetricId;
use crate::money::Money;
use crate::scope::{Scope, ScopeKind};

pub const ENVELOPE_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Open,
    Ongoing,
    /// Still active, and someone has it in hand: acknowledged or snoozed from the API, the
    /// dashboard or a chat button. Later updates of the subject keep this state until it
    /// resolves.
    Acknowledged,
    Resolved,
}

impl State {
    /// The wire spelling (`open`, `ongoing`, `acknowledged`, `resolved`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Ongoing => "ongoing",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub version: u32,
    pub id: String,
    pub subject_id: String,
    /// 0 for the first envelope of a subject, +1 for every later transition.
    pub revision: u32,
    #[serde(flatten)]
    pub body: NotificationBody,
    pub severity: Severity,
    pub state: State,
    /// Plain text; dispatchers escape it for their markup.
    pub title: String,
    pub summary: String,
    pub scope: ScopeRef,
    pub currency: String,
    #[serde(default)]
    pub links: Vec<Link>,
    pub created_at: DateTime<Utc>,
}

/// `kind` and its `figures`, side by side in the JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "figures", rename_all = "snake_case")]
pub enum NotificationBody {
    Anomaly(AnomalyFigures),
    Budget(BudgetFigures),
    Forecast(ForecastFigures),
    Recommendation(RecommendationFigures),
    Report(ReportFigures),
    Test(TestFigures),
}

impl NotificationBody {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Anomaly(_) => "anomaly",
            Self::Budget(_) => "budget",
            Self::Forecast(_) => "forecast",
            Self::Recommendation(_) => "recommendation",
            Self::Report(_) => "report",
            Self::Test(_) => "test",
        }
    }
}

/// The scope as dispatchers and routing rules see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRef {
    pub key: String,
    pub kind: ScopeKind,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cost_categories: BTreeMap<String, String>,
    /// The CloudWatch metric (namespace, name, dimensions) of a metric anomaly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricId>,
}

impl ScopeRef {
    pub fn new(scope: &Scope, account_name: Option<&str>) -> Self {
        let mut tags = BTreeMap::new();
        let mut cost_categories = BTreeMap::new();
        match scope {
            Scope::Tag { key, value } => {
                tags.insert(key.clone(), value.clone());
            }
            Scope::CostCategory { name, value } => {
                cost_categories.insert(name.clone(), value.clone());
            }
            _ => {}
        }
        let label = match (scope, account_name) {
            (Scope::Account(_), Some(name)) => format!("Account {name}"),
            (Scope::AccountService { service, .. }, Some(name)) => format!("{service} in {name}"),
            _ => scope.label(),
        };
        Self {
            key: scope.key(),
            kind: scope.kind(),
            label,
            account_id: scope.account().map(str::to_owned),
            account_name: scope.account().and(account_name).map(str::to_owned),
            service: scope.service().map(str::to_owned),
            tags,
            cost_categories,
            metric: match scope {
                Scope::Metric(m) => Some(m.clone()),
                _ => None,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyFigures {
    pub start_date: NaiveDate,
    pub date: NaiveDate,
    pub direction: Direction,
    pub actual: Money,
    pub expected: Money,
    pub expected_low: Money,
    pub expected_high: Money,
    pub impact: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_pct: Option<f64>,
    pub score: f64,
    #[serde(default)]
    pub root_causes: Vec<RootCause>,
    /// Resource-level root cause (Data Exports only); absent when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceCause>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFigures {
    pub budget: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub as_of: NaiveDate,
    pub limit: Money,
    pub actual: Money,
    /// The month-end forecast; the spend to date while `forecast_pending`.
    pub forecast: Money,
    /// No month-end forecast yet (its scope has too little history); sent only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forecast_pending: bool,
    pub threshold_percent: u32,
    pub basis: ThresholdBasis,
    pub percent_of_limit: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_daily_spend: Option<Money>,
    /// An auto-adjusting budget: `limit` is the scope's average over this many full months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_adjusted_months: Option<u8>,
    /// What moved the scope's spend this month against the same days of last month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drivers: Option<Drivers>,
}

impl BudgetFigures {
    /// The period its dates span (a month, a quarter or a year, fiscal or not): what every
    /// message words and tags the budget by. A month when they span none of those.
    pub fn period(&self) -> BudgetPeriod {
        BudgetPeriod::spanning(self.period_start, self.period_end).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastFigures {
    pub month: NaiveDate,
    pub as_of: NaiveDate,
    pub actual_to_date: Money,
    pub forecast_total: Money,
    pub lo80: Money,
    pub hi80: Money,
    pub lo95: Money,
    pub hi95: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_month_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<f64>,
    /// What moved the scope's spend this month against the same days of last month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drivers: Option<Drivers>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendationFigures {
    pub category: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub current_monthly_cost: Money,
    pub monthly_savings: Money,
    pub annual_savings: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    Daily,
    Weekly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mover {
    pub scope: String,
    pub label: String,
    pub amount: Money,
    pub previous: Money,
    pub change: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLine {
    pub budget: String,
    /// A quarter's, a year's or a day's budget: its figures are that period's so far (a day's
    /// are the day's, its forecast its spend). Sent only then.
    #[serde(default, skip_serializing_if = "BudgetPeriod::is_monthly")]
    pub period: BudgetPeriod,
    pub limit: Money,
    pub actual: Money,
    /// The forecast to the period's end; the spend to date while `forecast_pending`.
    pub forecast: Money,
    /// No forecast yet (its scope has too little history); sent only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forecast_pending: bool,
    pub percent_used: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFigures {
    pub period: ReportPeriod,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub total: Money,
    pub previous_total: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<f64>,
    pub month_to_date: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_month_end: Option<Money>,
    pub top_movers: Vec<Mover>,
    pub top_services: Vec<Mover>,
    pub budgets: Vec<BudgetLine>,
    pub open_anomalies: u32,
    /// Weekly reports: Σ the realised monthly savings of implemented recommendations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_so_far: Option<Money>,
    /// The month so far per tag key and cost category: how much of the spend carries a value
    /// (showback coverage), tags first. Empty when no cost carries a tag or cost category.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocation: Vec<AllocationLine>,
}

/// One tag key's (or cost category's) month to date in a report: the spend no value of it
/// accounts for, and the share that carries one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationLine {
    /// `tag` or `cost_category`.
    pub kind: ScopeKind,
    pub key: String,
    /// The key's unallocated scope (`tag=team|value=`), for `/v1/costs?scope=`.
    pub scope: String,
    /// The month's spend without a value of the key.
    pub unallocated: Money,
    /// Percent of the month's spend that carries a value, to two decimals; absent when the
    /// month's total is not positive (credits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFigures {
    pub message: String,
}

/// An envelope's id: unique per (subject, state, revision), what delivery ledgers dedup on.
pub fn envelope_id(subject_id: &str, state: State, revision: u32) -> String {
    stable_id("ntf", &[subject_id, state.as_str(), &revision.to_string()])
}

impl Notification {
    /// Builds an envelope; `id` is derived from subject, state and revision.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        subject_id: String,
        revision: u32,
        body: NotificationBody,
        severity: Severity,
        state: State,
        title: String,
        summary: String,
        scope: ScopeRef,
        created_at: DateTime<Utc>,
    ) -> Self {
        let id = envelope_id(&subject_id, state, revision);
        Self {
            version: ENVELOPE_VERSION,
            id,
            subject_id,
            revision,
            body,
            severity,
            state,
            title,
            summary,
            scope,
            currency: "USD".to_owned(),
            links: Vec::new(),
            created_at,
        }
    }

    /// The same envelope about `subject_id` (its id derived again): a subject whose id is not
    /// the one its findings give (an anomaly found again after a revision took it back).
    pub fn with_subject(mut self, subject_id: &str) -> Self {
        if self.subject_id != subject_id {
            self.id = envelope_id(subject_id, self.state, self.revision);
            self.subject_id = subject_id.to_owned();
        }
        self
    }

    pub fn kind(&self) -> &'static str {
        self.body.kind()
    }
}
