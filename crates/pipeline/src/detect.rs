//! Detect: find anomalies per scope and carry each through its lifecycle in the state store.
//! open → ongoing (same subject, revision + 1, one update a day) → resolved after N in-band
//! days. Every transition publishes exactly one envelope; re-running a day publishes nothing new.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use costwatch_analytics::detect::{DayScore, judge_since, on_day};
use costwatch_analytics::root_cause::rank;
use costwatch_core::findings::{Anomaly, RootCause};
use costwatch_core::money::to_f64;
use costwatch_core::notification::State;
use costwatch_core::{CostRecord, DailyCost, DailySeries, Notification, Scope, envelopes};
use costwatch_store::{
    LakeReader, NotificationBus, RollupStore, StateStore, StoreError, Versioned,
};
use serde::{Deserialize, Serialize};

use crate::config::PipelineConfig;
use crate::error::Result;
use crate::feedback::{feedback_for, snoozed};
use crate::fold::{Explainer, fold_nested};
use crate::lake::read_day;
use crate::resource_causes::{ResourceLines, resource_causes};
use crate::revised::{DaysAgain, Revisions, in_band_since, window_start};

/// What the state store keeps per scope under `anomaly/<scope key>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AnomalyState {
    pub subject_id: String,
    pub state: State,
    pub revision: u32,
    pub last_checked: NaiveDate,
    pub in_band_days: u32,
    pub anomaly: Anomaly,
    /// Whether an envelope has gone out for this anomaly (a snoozed or feedback-covered one is
    /// tracked quietly; its resolve is sent only if it was ever announced).
    #[serde(default = "announced_by_default")]
    pub announced: bool,
    /// Why it is kept quiet: `feedback` (its pattern was judged expected / not an anomaly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet: Option<String>,
    /// Whether its figures are AWS Cost Anomaly Detection's (a finding ours did not share): AWS's
    /// totals over its days, not a day ours scored, so a revision of its day neither replaces
    /// them nor takes the anomaly back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub aws_figures: bool,
    /// Whether a revision took all its days back into their band ([`REVISED_AWAY`]): its days
    /// are not told of any more, so a later revision that puts them out again is news.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub taken_back: bool,
}

/// States stored before snooze and feedback existed were all announced.
fn announced_by_default() -> bool {
    true
}

impl AnomalyState {
    pub fn is_active(&self) -> bool {
        self.state != State::Resolved
    }
}

/// What an alert found on a second look at its day says, so an alert about a day already past
/// explains itself.
pub const SECOND_LOOK: &str = " Found when the day was checked again: Cost Explorer revises a \
     day's costs for a few days after it first reports them.";

/// What an update says when a revision of the anomaly's day raised its severity.
pub const REVISED_UP: &str = " Updated: Cost Explorer has since revised the day's costs up.";

/// What the resolve says when a revision took every day of the anomaly back into its band.
pub const REVISED_AWAY: &str = " Cost Explorer has since revised the day's costs into their \
     usual range: the day as settled was not out of the ordinary.";

pub fn state_key(scope: &Scope) -> String {
    format!("anomaly/{}", scope.key())
}

pub struct DetectPorts<'a> {
    pub lake: &'a dyn LakeReader,
    pub rollups: &'a dyn RollupStore,
    pub state: &'a dyn StateStore,
    pub bus: &'a dyn NotificationBus,
    /// Line items for resource-level root cause (a Data Export); `None` with Cost Explorer.
    pub resources: Option<&'a dyn ResourceLines>,
}

/// What one anomaly lifecycle step needs: the cost lake ranks root causes (`None` for metric
/// anomalies, which have no cost records), the state store keeps the lifecycle, the bus carries
/// the envelopes. Shared by cost detection and [`crate::metrics`].
pub struct LifecyclePorts<'a> {
    pub lake: Option<&'a dyn LakeReader>,
    pub state: &'a dyn StateStore,
    pub bus: &'a dyn NotificationBus,
    /// Line items for resource-level root cause, when the cost source has them.
    pub resources: Option<&'a dyn ResourceLines>,
}

/// Runs detection for `as_of` over every watched scope; returns the envelopes published.
pub async fn detect(
    ports: &DetectPorts<'_>,
    cfg: &PipelineConfig,
    names: &BTreeMap<String, String>,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    detect_merged(ports, cfg, names, as_of, now, &[]).await
}

/// [`detect`], with anomalies imported from AWS Cost Anomaly Detection merged in (see
/// [`crate::hybrid`]).
pub async fn detect_merged(
    ports: &DetectPorts<'_>,
    cfg: &PipelineConfig,
    names: &BTreeMap<String, String>,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    imported: &[costwatch_store::ImportedAnomaly],
) -> Result<Vec<Notification>> {
    let mut revisions =
        Revisions::read(ports.state, as_of, cfg.history_days, cfg.recheck_days).await?;
    // Windows start no earlier than the store's first day: days before it are not days without
    // spend, and a scope charged on the data's first day is not new spend.
    let first_stored = ports.rollups.day_range().await?.map(|(first, _)| first);
    let window = |day: NaiveDate| {
        let start = window_start(day, cfg.history_days);
        first_stored.map_or(start, |first| start.max(first))
    };
    // Every stored lifecycle, listed once: a scope with neither a finding nor one has no step
    // to take, so it costs no read (16,000 at 1,000 accounts, almost all of them absent).
    let stored = ports.state.list("anomaly/").await?;
    let lifecycles: BTreeMap<&str, AnomalyState> = stored
        .iter()
        .filter_map(|(key, v)| Some((key.as_str(), serde_json::from_value(v.value.clone()).ok()?)))
        .collect();
    let mut found = Vec::new();
    let mut open_excess = Vec::new();
    let mut its_days_again = BTreeMap::new();
    // Read from the window of the earliest day looked at again (see crate::revised).
    let today_from = window(as_of);
    for read in ports
        .rollups
        .all_series(window(revisions.first_day()), as_of, &cfg.detect_scopes)
        .await?
    {
        let trimmed;
        let series = if read.start < today_from {
            trimmed = read.since(today_from);
            &trimmed
        } else {
            &read
        };
        let scope = &series.scope;
        let key = state_key(scope);
        let lifecycle = lifecycles.get(key.as_str());
        // An open anomaly's days are scored from its first, so a run longer than the days looked
        // again can end on a day before them once its later days settle (`DaysAgain`).
        let since = lifecycle
            .filter(|l| l.is_active())
            .map_or(revisions.first_day(), |l| {
                l.anomaly.start_date.min(revisions.first_day())
            });
        let judged = judge_since(series, &cfg.detector, since);
        revisions.observe(
            &read,
            &judged.recent,
            judged.latest.as_ref(),
            lifecycle,
            &cfg.detector,
        );
        if series.get(as_of).is_none() {
            continue; // no data for the day: neither an anomaly nor evidence of recovery
        }
        // A scope whose anomaly is still open explains a broader scope's excess on a day in its
        // band too (see crate::fold).
        if judged.latest.is_none()
            && lifecycle.is_some_and(AnomalyState::is_active)
            && let Some(day) = judged.recent.last()
            && day.date == as_of
        {
            open_excess.push(Explainer {
                scope: scope.clone(),
                excess: to_f64(day.actual - day.expected),
            });
        }
        // An open anomaly's days among those looked at again: its figures follow a revision.
        if let Some(l) = lifecycle.filter(|l| l.is_active() && revisions.rechecks(l.anomaly.date))
            && let Some(again) = DaysAgain::of(&l.anomaly, &judged.recent, revisions.first_day())
        {
            its_days_again.insert(scope.key(), again);
        }
        found.push((scope.clone(), judged.latest));
    }
    let aws_only = crate::hybrid::merge(&mut found, imported, as_of);
    let explainers: Vec<Explainer> = found
        .iter()
        .filter_map(|(scope, a)| {
            a.as_ref().map(|a| Explainer {
                scope: scope.clone(),
                excess: to_f64(a.impact),
            })
        })
        .chain(open_excess)
        .collect();
    fold_nested(&mut found, &explainers);
    let mut published = Vec::new();
    let lifecycle = LifecyclePorts {
        lake: Some(ports.lake),
        state: ports.state,
        bus: ports.bus,
        resources: ports.resources,
    };
    // Days found out of their band on a second look go first: today's step for the same scope
    // then sees its day handled.
    for (scope, anomaly) in revisions.take_found() {
        let day = Judging {
            second_look: true,
            ..Judging::today(as_of)
        };
        if let Some(n) = step(&lifecycle, cfg, names, &scope, Some(anomaly), day, now).await? {
            published.push(n);
        }
    }
    for (scope, anomaly) in found {
        if anomaly.is_none() && !lifecycles.contains_key(state_key(&scope).as_str()) {
            continue; // `step` would read nothing and do nothing
        }
        let day = Judging {
            its_days_again: its_days_again.get(&scope.key()).copied(),
            aws_figures: aws_only.contains(&scope.key()),
            ..Judging::today(as_of)
        };
        if let Some(n) = step(&lifecycle, cfg, names, &scope, anomaly, day, now).await? {
            published.push(n);
        }
    }
    // AWS's id beside our subject, so a person's verdict reaches Cost Anomaly Detection too.
    for import in imported {
        let Some(stored) = ports.state.get(&state_key(&import.anomaly.scope)).await? else {
            continue;
        };
        if let Ok(a) = serde_json::from_value::<AnomalyState>(stored.value)
            && a.is_active()
        {
            crate::actions::remember_aws_id(ports.state, &a.subject_id, &import.source_id, now)
                .await?;
        }
    }
    revisions.remember(ports.state).await?;
    Ok(published)
}

/// The day a lifecycle step is for, and whether its finding is an earlier day's, found when
/// that day was looked at again ([`crate::revised`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Judging {
    pub as_of: NaiveDate,
    pub second_look: bool,
    /// The open anomaly's days scored again, when its last is one of the days looked at again.
    pub its_days_again: Option<DaysAgain>,
    /// Whether the finding is AWS's alone ([`AnomalyState::aws_figures`]).
    pub aws_figures: bool,
}

impl Judging {
    pub fn today(as_of: NaiveDate) -> Self {
        Self {
            as_of,
            second_look: false,
            its_days_again: None,
            aws_figures: false,
        }
    }
}

/// One scope, one day: decides the transition, publishes, then records it.
pub(crate) async fn step(
    ports: &LifecyclePorts<'_>,
    cfg: &PipelineConfig,
    names: &BTreeMap<String, String>,
    scope: &Scope,
    found: Option<Anomaly>,
    day: Judging,
    now: DateTime<Utc>,
) -> Result<Option<Notification>> {
    let as_of = day.as_of;
    let key = state_key(scope);
    let stored = ports.state.get(&key).await?;
    let (previous, version) = match &stored {
        Some(v) => (
            serde_json::from_value::<AnomalyState>(v.value.clone()).ok(),
            Some(v.version),
        ),
        None => (None, None),
    };
    if previous.as_ref().is_some_and(|p| p.last_checked >= as_of) {
        return Ok(None); // this day was already handled
    }
    let before = previous.as_ref().map(|p| (p.state, p.revision));
    // Whether this step's news is a revision of the anomaly's day that raised its severity, or
    // one that took all its days back into their band.
    let (mut revised_up, mut revised_away) = (false, false);
    let active = previous.clone().filter(AnomalyState::is_active);
    let next = match (found, active) {
        (Some(mut anomaly), Some(prev)) => {
            anomaly.start_date = prev.anomaly.start_date;
            explain(ports, cfg, &mut anomaly).await?;
            // Once a person has it in hand, later updates say so until it resolves.
            let state = match prev.state {
                State::Acknowledged => State::Acknowledged,
                _ => State::Ongoing,
            };
            AnomalyState {
                subject_id: prev.subject_id,
                state,
                revision: prev.revision + 1,
                last_checked: as_of,
                in_band_days: 0,
                anomaly,
                announced: prev.announced,
                quiet: prev.quiet,
                aws_figures: day.aws_figures,
                taken_back: false,
            }
        }
        (Some(mut anomaly), None) => {
            explain(ports, cfg, &mut anomaly).await?;
            // Days a revision took back, out of their band again: that subject was resolved
            // everywhere, so this is a new one.
            let subject_id = match previous.as_ref() {
                Some(p) if p.taken_back && anomaly.start_date <= p.anomaly.date => {
                    envelopes::anomaly_subject_again(&p.subject_id)
                }
                _ => envelopes::anomaly_subject(scope, anomaly.start_date),
            };
            AnomalyState {
                subject_id,
                state: State::Open,
                revision: 0,
                last_checked: as_of,
                // A day found on a second look has had in-band days since (an imported AWS
                // finding, also dated before today, is not ours to judge in band).
                in_band_days: match day.second_look {
                    true => in_band_since(&anomaly, as_of, cfg.resolve_after_days),
                    false => 0,
                },
                anomaly,
                announced: false,
                quiet: None,
                aws_figures: day.aws_figures,
                taken_back: false,
            }
        }
        (None, Some(mut prev)) => {
            let mut in_band_days = prev.in_band_days + 1;
            let mut escalated = false;
            // Ours to revise only where the figures are a day ours scored.
            match day.its_days_again.filter(|_| !prev.aws_figures) {
                Some(again) if again.last.anomalous => {
                    escalated = revise(ports, cfg, &mut prev.anomaly, &again.last).await?;
                }
                // Its last days settled into their band: the run ends on the latest day still
                // out of it, and the days after that count as in band.
                Some(DaysAgain {
                    latest_out: Some(out),
                    ..
                }) => {
                    let settled = (prev.anomaly.date - out.date).num_days();
                    in_band_days += u32::try_from(settled).unwrap_or(0);
                    revise(ports, cfg, &mut prev.anomaly, &out).await?;
                }
                Some(again) if again.takes_back(&prev.anomaly) => {
                    revised_away = true;
                    revise(ports, cfg, &mut prev.anomaly, &again.last).await?;
                }
                // Days of it before those looked at again stand as they were judged.
                _ => {}
            }
            let resolved = revised_away || in_band_days >= cfg.resolve_after_days;
            let escalated = escalated && !resolved;
            revised_up = escalated;
            let state = match (resolved, escalated, prev.state) {
                (true, _, _) => State::Resolved,
                (false, true, State::Open) => State::Ongoing,
                (false, _, state) => state,
            };
            AnomalyState {
                state,
                revision: prev.revision + u32::from(resolved || escalated),
                last_checked: as_of,
                in_band_days,
                taken_back: revised_away,
                ..prev
            }
        }
        (None, None) => match previous.clone() {
            // Keep a resolved record (it suppresses re-opening the same subject) but move its clock.
            Some(prev) => AnomalyState {
                last_checked: as_of,
                ..prev
            },
            None => return Ok(None),
        },
    };
    let mut next = next;
    // Feedback closes the anomaly it was given on and keeps later ones of its pattern quiet,
    // judged afresh every day: one that grows past the pattern speaks up.
    if next.is_active() {
        next.quiet = None;
        if let Some(feedback) = feedback_for(ports.state, scope).await? {
            if feedback.subject_id == next.subject_id {
                next.state = State::Resolved;
                next.revision = previous.as_ref().map_or(0, |p| p.revision + 1);
            } else if feedback.covers(&next.anomaly) && !next.announced {
                next.quiet = Some("feedback".to_owned());
            }
        }
    }
    let transition = before != Some((next.state, next.revision));
    let quiet = if next.is_active() {
        next.quiet.is_some() || snoozed(ports.state, scope, as_of).await?
    } else {
        !next.announced
    };
    let envelope = (transition && !quiet).then(|| {
        let account_name = scope
            .account()
            .and_then(|a| names.get(a))
            .map(String::as_str);
        // The first envelope integrations see for a subject opens it, whatever its revision.
        let state = if next.announced {
            next.state
        } else {
            State::Open
        };
        let mut n = envelopes::anomaly(&next.anomaly, state, next.revision, account_name, now)
            .with_subject(&next.subject_id);
        if day.second_look && state == State::Open {
            n.summary.push_str(SECOND_LOOK);
        }
        if revised_up {
            n.summary.push_str(REVISED_UP);
        }
        if revised_away && state == State::Resolved {
            n.summary.push_str(REVISED_AWAY);
        }
        n
    });
    if envelope.is_some() {
        next.announced = true;
    }
    if let Some(n) = &envelope {
        ports.bus.publish(n).await?;
    }
    let value = serde_json::to_value(&next).unwrap_or_default();
    match ports.state.put(&key, value, version, None).await {
        // Another run recorded this day first; its envelope had the same id, so nothing is lost.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(envelope),
        Err(e) => Err(e.into()),
    }
}

/// An open anomaly's figures and root causes as `again`, one of its days scored again (its last,
/// or the latest still out of its band once the days after it settled into theirs), when they
/// changed. Returns whether the revision raised its severity (an update to announce: a spike
/// first reported at a tenth of its size is told at its real size).
async fn revise(
    ports: &LifecyclePorts<'_>,
    cfg: &PipelineConfig,
    anomaly: &mut Anomaly,
    again: &DayScore,
) -> Result<bool> {
    if again.date == anomaly.date && again.actual == anomaly.actual {
        return Ok(false);
    }
    let before = envelopes::anomaly_severity(anomaly.impact, anomaly.impact_pct);
    let revised = Anomaly {
        root_causes: std::mem::take(&mut anomaly.root_causes),
        resources: std::mem::take(&mut anomaly.resources),
        ..on_day(&anomaly.scope, anomaly.start_date, again)
    };
    *anomaly = revised;
    rank_root_causes(ports, cfg, anomaly).await?;
    Ok(envelopes::anomaly_severity(anomaly.impact, anomaly.impact_pct) > before)
}

/// An anomaly's root causes and, when the cost source has line items, its resources.
async fn explain(
    ports: &LifecyclePorts<'_>,
    cfg: &PipelineConfig,
    anomaly: &mut Anomaly,
) -> Result<()> {
    rank_root_causes(ports, cfg, anomaly).await?;
    if let Some(resources) = ports.resources {
        anomaly.resources = resource_causes(resources, anomaly).await;
    }
    Ok(())
}

/// Ranks the anomaly's root causes from the lake. An imported anomaly keeps AWS's when the
/// lake has nothing to rank (or there is no lake: a metric's).
async fn rank_root_causes(
    ports: &LifecyclePorts<'_>,
    cfg: &PipelineConfig,
    anomaly: &mut Anomaly,
) -> Result<()> {
    if let Some(lake) = ports.lake {
        let ranked = root_causes(lake, cfg, anomaly).await?;
        if !ranked.is_empty() {
            anomaly.root_causes = ranked;
        }
    }
    Ok(())
}

/// Ranks the dimensions inside the anomaly's scope by their dollar contribution on its day,
/// from the curated records of the detector's look-back window.
async fn root_causes(
    lake: &dyn LakeReader,
    cfg: &PipelineConfig,
    anomaly: &Anomaly,
) -> Result<Vec<RootCause>> {
    let window = cfg.detector.lookback_days.max(28) as u64;
    let start = anomaly.date - Days::new(window);
    let mut children: BTreeMap<(String, String), BTreeMap<NaiveDate, DailyCost>> = BTreeMap::new();
    for day in start.iter_days().take_while(|d| *d <= anomaly.date) {
        for record in read_day(lake, day).await? {
            if !in_scope(&record, &anomaly.scope) {
                continue;
            }
            let amount = record.cost(cfg.cost_metric);
            for dim in dimensions(&record, &anomaly.scope) {
                children
                    .entry(dim)
                    .or_default()
                    .entry(day)
                    .or_default()
                    .add(record.bucket(), amount);
            }
        }
    }
    // A dimension with one value in the scope (every cost in us-east-1, say) explains nothing.
    let mut values_per_dimension: BTreeMap<&str, usize> = BTreeMap::new();
    for (dim, _) in children.keys() {
        *values_per_dimension.entry(dim.as_str()).or_default() += 1;
    }
    let informative: Vec<bool> = children
        .keys()
        .map(|(dim, _)| values_per_dimension[dim.as_str()] > 1)
        .collect();
    let series: Vec<(String, String, DailySeries)> = children
        .into_iter()
        .zip(informative)
        .filter_map(|(child, keep)| keep.then_some(child))
        .map(|((dim, value), points)| {
            let s = DailySeries::from_points(anomaly.scope.clone(), start, anomaly.date, &points);
            (dim, value, s)
        })
        .collect();
    Ok(rank(
        &series,
        anomaly.date,
        anomaly.impact,
        &cfg.detector,
        5,
    ))
}

fn in_scope(r: &CostRecord, scope: &Scope) -> bool {
    match scope {
        Scope::Org => true,
        Scope::Account(a) => &r.sub_account_id == a,
        Scope::Service(s) => &r.service_name == s,
        Scope::AccountService { account, service } => {
            &r.sub_account_id == account && &r.service_name == service
        }
        Scope::Tag { key, value } => r.tags.get(key) == Some(value),
        Scope::CostCategory { name, value } => r.x_cost_categories.get(name) == Some(value),
        // A metric anomaly has no cost records (metrics::detect passes no lake).
        Scope::Metric(_) => false,
    }
}

/// The dimensions a record can explain within a scope (not the ones the scope already fixes).
fn dimensions(r: &CostRecord, scope: &Scope) -> Vec<(String, String)> {
    let mut dims = Vec::new();
    if scope.account().is_none() {
        dims.push(("account".to_owned(), r.account_label().to_owned()));
    }
    if scope.service().is_none() {
        dims.push(("service".to_owned(), r.service_name.clone()));
    }
    if let Some(region) = &r.region_id {
        dims.push(("region".to_owned(), region.clone()));
    }
    if let Some(usage_type) = &r.x_usage_type {
        dims.push(("usage_type".to_owned(), usage_type.clone()));
    }
    if let Some(resource) = &r.resource_id {
        dims.push(("resource".to_owned(), resource.clone()));
    }
    for (key, value) in &r.tags {
        if !matches!(scope, Scope::Tag { key: k, .. } if k == key) {
            dims.push((format!("tag:{key}"), value.clone()));
        }
    }
    dims
}

/// Active anomalies (open or ongoing), for reports.
pub async fn active(state: &dyn StateStore) -> Result<Vec<AnomalyState>> {
    Ok(active_in(&state.list("anomaly/").await?).collect())
}

/// The active lifecycles among listed `anomaly/` items.
fn active_in(stored: &[(String, Versioned)]) -> impl Iterator<Item = AnomalyState> + '_ {
    stored
        .iter()
        .filter_map(|(_, v)| serde_json::from_value::<AnomalyState>(v.value.clone()).ok())
        .filter(AnomalyState::is_active)
}
