//! Pipeline configuration: validated up front, unknown fields are errors.

use costwatch_analytics::budget::{Budget, MAX_AUTO_ADJUST_MONTHS};
use costwatch_analytics::detect::DetectorConfig;
use costwatch_analytics::forecast::ForecastConfig;
use costwatch_core::record::CostMetric;
use costwatch_core::scope::ScopeKind;
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// Budgets one configuration may hold. The daily report's envelope carries a line for each (at
/// most about 340 bytes: a 100-character name of quotes escaped to 200, amounts at the bound),
/// so 500 keep it within SNS's 256 KB (tests/budget_bounds.rs); and each budget is a DynamoDB
/// query (its month so far) every time budgets are evaluated (the forecast run, `/v1/budgets`).
pub const MAX_BUDGETS: usize = 500;
/// As AWS Budgets allows.
pub const MAX_BUDGET_NAME: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// `billed` (invoice, Cost Explorer UnblendedCost) or `effective` (amortised).
    pub cost_metric: CostMetric,
    /// Scope kinds rolled up daily.
    pub rollup_scopes: Vec<ScopeKind>,
    /// Scope kinds the detector watches.
    pub detect_scopes: Vec<ScopeKind>,
    pub detector: DetectorConfig,
    /// Days of history the detector and forecaster read.
    pub history_days: u32,
    /// Consecutive in-band days after which an open anomaly is resolved.
    pub resolve_after_days: u32,
    /// A month-end forecast this many percent above last month's total is notified (once a month).
    pub forecast_alert_pct: f64,
    /// Forecast settings: `credits = "included"` (default, net spend) or `"excluded"`.
    pub forecast: ForecastConfig,
    pub budgets: Vec<Budget>,
    /// Base URL of the dashboard, for links in envelopes.
    pub dashboard_url: Option<String>,
    /// The weekly recommendation run: thresholds, update share, windows.
    pub recommend: crate::recommend::RecommendConfig,
    /// Days a run looks at again because Cost Explorer may have revised them since: a daily
    /// budget's thresholds ([`crate::budgets`]) and the days detection judged
    /// ([`crate::revised`]), the day evaluated and those before it. The days collection
    /// restates: the CLI sets it from `collect.restate_days`, the functions from `CeRestateDays`
    /// (lambda env.rs, config_source.rs); it is not a `[pipeline]` setting (unknown there) nor
    /// part of the object `costwatch config push` writes.
    #[serde(skip, default = "default_recheck_days")]
    pub recheck_days: u32,
}

fn default_recheck_days() -> u32 {
    crate::budgets::RECHECKED_DAYS
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            cost_metric: CostMetric::Billed,
            rollup_scopes: vec![
                ScopeKind::Org,
                ScopeKind::Account,
                ScopeKind::Service,
                ScopeKind::AccountService,
                ScopeKind::Tag,
                ScopeKind::CostCategory,
            ],
            detect_scopes: vec![
                ScopeKind::Org,
                ScopeKind::Account,
                ScopeKind::Service,
                ScopeKind::AccountService,
            ],
            detector: DetectorConfig::default(),
            history_days: costwatch_analytics::forecast::HISTORY_DAYS,
            resolve_after_days: 3,
            forecast_alert_pct: 20.0,
            forecast: ForecastConfig::default(),
            budgets: Vec::new(),
            dashboard_url: None,
            recommend: crate::recommend::RecommendConfig::default(),
            recheck_days: default_recheck_days(),
        }
    }
}

impl PipelineConfig {
    /// The configuration a stack's two JSON parameters give (not yet validated):
    /// `PipelineConfigJson` (blank: the defaults), its budgets from `BudgetsJson` when that lists
    /// any. Budgets in both are refused (which would win is a guess); the template's default
    /// `[]` leaves `PipelineConfigJson`'s budgets as they are.
    pub fn from_parameters(
        config_json: Option<&str>,
        budgets_json: Option<&str>,
    ) -> Result<Self, PipelineError> {
        let bad = |m: String| PipelineError::Config(m);
        let mut cfg: PipelineConfig = match config_json.map(str::trim).filter(|j| !j.is_empty()) {
            None => PipelineConfig::default(),
            Some(json) => {
                serde_json::from_str(json).map_err(|e| bad(format!("PipelineConfigJson: {e}")))?
            }
        };
        let Some(json) = budgets_json.map(str::trim).filter(|j| !j.is_empty()) else {
            return Ok(cfg);
        };
        let budgets: Vec<Budget> =
            serde_json::from_str(json).map_err(|e| bad(format!("BudgetsJson: {e}")))?;
        if !budgets.is_empty() && !cfg.budgets.is_empty() {
            return Err(bad(format!(
                "budgets are set in both BudgetsJson ({}) and PipelineConfigJson ({}): keep them \
                 in one",
                budgets.len(),
                cfg.budgets.len()
            )));
        }
        if !budgets.is_empty() {
            cfg.budgets = budgets;
        }
        Ok(cfg)
    }

    /// Checks what serde cannot: without I/O, before anything runs.
    pub fn validate(&self) -> Result<(), PipelineError> {
        let bad = |m: String| Err(PipelineError::Config(m));
        if self.history_days < 28 {
            return bad(format!(
                "history_days must be at least 28, got {}",
                self.history_days
            ));
        }
        self.detector.validate().map_err(PipelineError::Config)?;
        self.recommend.validate().map_err(PipelineError::Config)?;
        if self.resolve_after_days == 0 {
            return bad("resolve_after_days must be at least 1".into());
        }
        for kind in &self.detect_scopes {
            if !self.rollup_scopes.contains(kind) {
                return bad(format!(
                    "detect_scopes has {kind:?}, which is not in rollup_scopes"
                ));
            }
        }
        if self.budgets.len() > MAX_BUDGETS {
            return bad(format!(
                "{} budgets: at most {MAX_BUDGETS} (the daily report carries a line for each, and \
                 its message must stay within SNS's 256 KB)",
                self.budgets.len()
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for b in &self.budgets {
            let length = b.name.chars().count();
            if b.name.trim().is_empty()
                || length > MAX_BUDGET_NAME
                || b.name.chars().any(char::is_control)
            {
                return bad(format!(
                    "budget names are 1 to {MAX_BUDGET_NAME} characters without control \
                     characters (newlines, tabs), as in AWS Budgets; {:?} has {length}",
                    b.name.chars().take(40).collect::<String>()
                ));
            }
            if !names.insert(&b.name) {
                return bad(format!("budget `{}` is defined twice", b.name));
            }
            // A day has no months to average or plan by.
            if b.period.is_daily()
                && (b.auto_adjust_months.is_some() || !b.planned_amounts.is_empty())
            {
                return bad(format!(
                    "budget `{}` is daily: auto_adjust_months and planned_amounts are for \
                     monthly, quarterly and annual budgets (as in AWS Budgets); give a daily \
                     amount",
                    b.name
                ));
            }
            match b.auto_adjust_months {
                Some(_) if !b.amount.is_zero() => {
                    return bad(format!(
                        "budget `{}` has both an amount and auto_adjust_months: an \
                         auto-adjusting budget's amount is its scope's average, so give one",
                        b.name
                    ));
                }
                Some(months) if !(1..=MAX_AUTO_ADJUST_MONTHS).contains(&months) => {
                    return bad(format!(
                        "budget `{}`: auto_adjust_months is 1 to {MAX_AUTO_ADJUST_MONTHS}, got \
                         {months}",
                        b.name
                    ));
                }
                // Which months were collected in full is read from the organisation's days.
                Some(_) if !self.rollup_scopes.contains(&ScopeKind::Org) => {
                    return bad(format!(
                        "budget `{}` adjusts itself to the months collected in full, which the \
                         organisation's costs tell: add org to rollup_scopes",
                        b.name
                    ));
                }
                Some(_) => {}
                // At least a cent: a budget of 10^-28 would make "percent of budget" overflow.
                None if b.amount < costwatch_core::Money::new(1, 2) => {
                    return bad(format!(
                        "budget `{}` needs a positive amount of at least 0.01 (or \
                         auto_adjust_months, to follow its scope's average)",
                        b.name
                    ));
                }
                None => {}
            }
            if let Err(why) = costwatch_core::money::within_bounds(b.amount) {
                return bad(format!("budget `{}`: {why}", b.name));
            }
            match b.start_month {
                Some(_) if b.period.is_monthly() || b.period.is_daily() => {
                    return bad(format!(
                        "budget `{}`: start_month sets where a quarter or a year begins; a \
                         {} budget's periods are the calendar {}s (add period = \
                         \"quarterly\" or \"annually\", or leave start_month out)",
                        b.name,
                        b.period.name(),
                        b.period.noun()
                    ));
                }
                Some(month) if !(1..=12).contains(&month) => {
                    return bad(format!(
                        "budget `{}`: start_month is a month from 1 (January) to 12, got {month}",
                        b.name
                    ));
                }
                _ => {}
            }
            for (month, amount) in &b.planned_amounts {
                let Some(first) = costwatch_analytics::budget::planned_month(month) else {
                    return bad(format!(
                        "budget `{}`: planned_amounts are keyed by month as 2027-01, got {month:?}",
                        b.name
                    ));
                };
                if !b.period.starts_on(first, b.first_month()) {
                    return bad(format!(
                        "budget `{}` is {}: planned_amounts are keyed by the first month of a \
                         {} ({}), got {month:?}",
                        b.name,
                        b.period.name(),
                        b.period.noun(),
                        b.period.first_months(b.first_month()),
                    ));
                }
                if *amount < costwatch_core::Money::new(1, 2) {
                    return bad(format!(
                        "budget `{}`: the amount planned for {month} needs to be at least 0.01",
                        b.name
                    ));
                }
                if let Err(why) = costwatch_core::money::within_bounds(*amount) {
                    return bad(format!("budget `{}` in {month}: {why}", b.name));
                }
            }
            if b.thresholds.is_empty() {
                return bad(format!("budget `{}` has no thresholds", b.name));
            }
            // 0 % is crossed by the first cent of every month: an alert that says nothing.
            if b.thresholds.iter().any(|t| t.percent == 0) {
                return bad(format!(
                    "budget `{}`: a threshold of 0 % is crossed by the month's first cent; use 1 or more",
                    b.name
                ));
            }
            if !self.rollup_scopes.contains(&b.scope.kind()) {
                return bad(format!(
                    "budget `{}` is on a {:?} scope, which is not rolled up",
                    b.name,
                    b.scope.kind()
                ));
            }
            // Untagged spend is the organisation's less every value's: without the
            // organisation's rollup it would read nothing, every month.
            if b.scope.is_unallocated() && !self.rollup_scopes.contains(&ScopeKind::Org) {
                return bad(format!(
                    "budget `{}` watches `{}`, which is derived from the organisation's costs: \
                     add org to rollup_scopes",
                    b.name,
                    b.scope.key()
                ));
            }
        }
        Ok(())
    }
}
