//! The weekly recommendation run: the suite's rules over the CUR usage lines, the other sources
//! (Cost Optimization Hub, Cost Explorer), one list, and each item's lifecycle in the state store
//! (`recommendation/<id>`): an envelope when it opens, when its estimate moves by more than the
//! set share, and when it resolves; then the realised saving of what was resolved, measured on
//! the following weeks' cost data. The `recommend` Lambda and `costwatch recommend --track` call
//! [`run`]; the weekly report sums what was realised ([`saved_so_far`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_analytics::recommend::lifecycle::{self, STATE_PREFIX, Tracked};
use costwatch_analytics::recommend::list::{self, List, Thresholds};
use costwatch_analytics::recommend::{Settings, Source, suite_findings};
use costwatch_core::{Money, Notification, UsageLine};
use costwatch_store::{
    NotificationBus, RecommendationSource, RequestBudget, StateStore, StoreError,
};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::incremental::record_ledger;

/// `[recommend]` in the pipeline configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommendConfig {
    /// Listed when the monthly saving reaches `$` and `%` of the resource's cost; per account
    /// or service in `accounts` / `services`.
    pub thresholds: Thresholds,
    /// A listed item's estimate must move by more than this share of the last announced one to
    /// be announced again.
    pub update_share: f64,
    /// The rules' trailing windows.
    pub rules: Settings,
    /// Days of cost data after a resolution over which the realised saving is measured (the
    /// resource's run rate over them against its cost when it was last listed).
    pub realised_days: u32,
}

impl Default for RecommendConfig {
    fn default() -> Self {
        Self {
            thresholds: Thresholds::default(),
            update_share: lifecycle::DEFAULT_UPDATE_SHARE,
            rules: Settings::default(),
            realised_days: 7,
        }
    }
}

impl RecommendConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(self.update_share > 0.0 && self.update_share.is_finite()) {
            return Err(format!(
                "recommend.update_share must be above 0, got {}",
                self.update_share
            ));
        }
        let r = &self.rules;
        if self.realised_days == 0 || r.run_rate_days == 0 || r.untagged_days == 0 {
            return Err(
                "recommend.realised_days and the rules' windows must be at least 1 day".into(),
            );
        }
        if r.growth_days < 2 * r.run_rate_days {
            return Err(format!(
                "recommend.rules.growth_days ({}) must be at least twice run_rate_days ({})",
                r.growth_days, r.run_rate_days
            ));
        }
        Ok(())
    }
}

/// Another service's recommendations, with the [`Source`]s its findings carry (so a source that
/// could not answer resolves none of its own).
pub struct External<'a> {
    pub name: &'static str,
    pub produces: &'static [Source],
    pub source: &'a dyn RecommendationSource,
}

/// What one run found, sent and measured.
#[derive(Debug, Serialize)]
pub struct RecommendRun {
    /// The last day of usage data (the day the rules' windows end), or the run's date without.
    pub as_of: NaiveDate,
    pub list: List,
    pub published: Vec<Notification>,
    /// Sources that did not answer in full, and why: their items were left as they were.
    pub unheard: BTreeMap<String, String>,
    /// Cost Explorer requests this run made ($0.01 each), recorded in the request ledger.
    pub requests: u32,
    /// Σ realised monthly savings of everything tracked.
    pub saved_so_far: Money,
}

/// One weekly run; see the module documentation. Each transition publishes its envelope first
/// and then records the item, so a run that stops half-way publishes the same envelope ids again
/// next time (the dispatchers' ledgers drop them) and loses none.
pub async fn run(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    cfg: &RecommendConfig,
    lines: &[UsageLine],
    external: &[External<'_>],
    budget: &RequestBudget,
    now: DateTime<Utc>,
) -> Result<RecommendRun> {
    let as_of = lines
        .iter()
        .map(|l| l.day)
        .max()
        .unwrap_or(now.date_naive());
    let mut unheard = BTreeMap::new();
    let mut unheard_sources = BTreeSet::new();
    if lines.is_empty() {
        unheard.insert("cur".to_owned(), "no CUR usage lines".to_owned());
        unheard_sources.insert(Source::Suite);
    }
    let mut findings = suite_findings(lines, &cfg.rules);
    for e in external {
        let why = match e.source.recommendations(budget).await {
            Ok((found, complete)) => {
                findings.extend(found);
                (!complete).then(|| "the request budget ran out before the last page".to_owned())
            }
            Err(err) => {
                tracing::warn!(source = e.name, error = %err, "recommendation source failed");
                Some(err.to_string())
            }
        };
        if let Some(why) = why {
            unheard.insert(e.name.to_owned(), why);
            unheard_sources.extend(e.produces.iter().copied());
        }
    }
    if budget.used() > 0 {
        record_ledger(state, budget, &[], now).await?;
    }
    let list = list::build(findings, &cfg.thresholds);

    let previous = tracked(state).await?;
    let before: BTreeMap<String, Tracked> = previous
        .iter()
        .map(|(id, (t, _))| (id.clone(), t.clone()))
        .collect();
    let mut step = lifecycle::step_heard(&before, &list, cfg.update_share, as_of, &unheard_sources);
    if !lines.is_empty() {
        lifecycle::measure(&mut step.tracked, lines, cfg.realised_days, as_of);
    }
    let mut published = Vec::new();
    for t in &step.transitions {
        let n = t.item.envelope(t.state, t.revision, now);
        bus.publish(&n).await?;
        published.push(n);
        record(state, &t.item.id, &step.tracked[&t.item.id], &previous).await?;
    }
    let announced: BTreeSet<&str> = step
        .transitions
        .iter()
        .map(|t| t.item.id.as_str())
        .collect();
    // Quiet changes: the latest figures of a listed item, a realised saving measured.
    for (id, t) in &step.tracked {
        if !announced.contains(id.as_str()) && before.get(id) != Some(t) {
            record(state, id, t, &previous).await?;
        }
    }
    Ok(RecommendRun {
        as_of,
        saved_so_far: lifecycle::saved_so_far(step.tracked.values()),
        list,
        published,
        unheard,
        requests: budget.used(),
    })
}

/// Everything tracked, with the stored versions (optimistic concurrency on write).
pub async fn tracked(state: &dyn StateStore) -> Result<BTreeMap<String, (Tracked, u64)>> {
    let mut out = BTreeMap::new();
    for (key, v) in state.list(STATE_PREFIX).await? {
        let t: Tracked = serde_json::from_value(v.value).map_err(|e| StoreError::Corrupt {
            path: key.clone(),
            reason: e.to_string(),
        })?;
        out.insert(key[STATE_PREFIX.len()..].to_owned(), (t, v.version));
    }
    Ok(out)
}

/// The weekly report's "saved so far" from the state store: Σ realised monthly savings, `None`
/// until a first one is measured.
pub async fn saved_so_far(state: &dyn StateStore) -> Result<Option<Money>> {
    let tracked = tracked(state).await?;
    let measured = tracked
        .values()
        .any(|(t, _)| t.realised_monthly_savings.is_some());
    Ok(measured.then(|| lifecycle::saved_so_far(tracked.values().map(|(t, _)| t))))
}

async fn record(
    state: &dyn StateStore,
    id: &str,
    t: &Tracked,
    previous: &BTreeMap<String, (Tracked, u64)>,
) -> Result<()> {
    let value = serde_json::to_value(t).map_err(|e| StoreError::Corrupt {
        path: format!("{STATE_PREFIX}{id}"),
        reason: e.to_string(),
    })?;
    let version = previous.get(id).map(|(_, v)| *v);
    match state
        .put(&format!("{STATE_PREFIX}{id}"), value, version, None)
        .await
    {
        // Another run recorded it first; it published the same envelope ids.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
