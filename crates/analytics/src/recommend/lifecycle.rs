//! A recommendation across weekly runs: opened once when it is first listed, updated when its
//! estimate moves by more than a set share, resolved when it is no longer listed (the source
//! dropped it, the resource is gone, or it fell under its threshold); then its realised saving
//! is measured from the resource's cost in the weeks after against the cost it had when opened.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use costwatch_core::notification::State;
use costwatch_core::{Money, UsageLine};
use serde::{Deserialize, Serialize};

use super::list::{Item, List};
use super::{Cents, DAYS_PER_MONTH, Source};

/// State-store key prefix of tracked recommendations: `recommendation/<stable id>`.
pub const STATE_PREFIX: &str = "recommendation/";

/// What is remembered of one recommendation between runs (the state store keeps these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    pub item: Item,
    pub state: State,
    pub revision: u32,
    /// The estimate last announced (open or update).
    pub announced_savings: Money,
    /// The resource's monthly cost the last time it was listed: the pre-change baseline.
    pub baseline_monthly_cost: Money,
    pub opened: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<NaiveDate>,
    /// Baseline − the resource's run rate once a full window has passed after `resolved`
    /// ([`measure`]); re-measured every run, so it follows the cost data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realised_monthly_savings: Option<Money>,
    /// The last day of data the realised saving was measured to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realised_as_of: Option<NaiveDate>,
}

/// One envelope to send: the item in its new state at its new revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub item: Item,
    pub state: State,
    pub revision: u32,
}

/// Tracking state after one run, and the envelopes that run sends.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    pub tracked: BTreeMap<String, Tracked>,
    pub transitions: Vec<Transition>,
}

/// Share of the announced estimate a new estimate must move by to be announced again.
pub const DEFAULT_UPDATE_SHARE: f64 = 0.2;

/// Applies this run's list to what was tracked. An item listed again after it was resolved
/// opens again (next revision, new baseline).
pub fn step(
    previous: &BTreeMap<String, Tracked>,
    list: &List,
    update_share: f64,
    today: NaiveDate,
) -> Step {
    step_heard(previous, list, update_share, today, &BTreeSet::new())
}

/// [`step`] when some sources were not heard in full this run (an error, an exhausted request
/// budget, no CUR data): their tracked items are kept as they are, never resolved for being
/// absent from a list the source could not give.
pub fn step_heard(
    previous: &BTreeMap<String, Tracked>,
    list: &List,
    update_share: f64,
    today: NaiveDate,
    unheard: &BTreeSet<Source>,
) -> Step {
    use rust_decimal::prelude::ToPrimitive;
    let mut tracked = previous.clone();
    let mut transitions = Vec::new();
    for item in &list.items {
        let next = match tracked.get(&item.id) {
            Some(t) if t.state != State::Resolved => {
                let moved = (item.finding.monthly_savings - t.announced_savings).abs();
                let share = if t.announced_savings.is_zero() {
                    f64::INFINITY
                } else {
                    (moved / t.announced_savings)
                        .to_f64()
                        .unwrap_or(f64::INFINITY)
                };
                if share <= update_share {
                    // Keep the latest figures without announcing them.
                    let mut kept = t.clone();
                    kept.item = item.clone();
                    kept.baseline_monthly_cost = item.finding.current_monthly_cost;
                    tracked.insert(item.id.clone(), kept);
                    continue;
                }
                Tracked {
                    item: item.clone(),
                    state: State::Ongoing,
                    revision: t.revision + 1,
                    announced_savings: item.finding.monthly_savings,
                    baseline_monthly_cost: item.finding.current_monthly_cost,
                    ..t.clone()
                }
            }
            reopened => Tracked {
                item: item.clone(),
                state: State::Open,
                revision: reopened.map_or(0, |t| t.revision + 1),
                announced_savings: item.finding.monthly_savings,
                baseline_monthly_cost: item.finding.current_monthly_cost,
                opened: today,
                resolved: None,
                realised_monthly_savings: None,
                realised_as_of: None,
            },
        };
        transitions.push(Transition {
            item: next.item.clone(),
            state: next.state,
            revision: next.revision,
        });
        tracked.insert(item.id.clone(), next);
    }
    let listed: std::collections::BTreeSet<&str> =
        list.items.iter().map(|i| i.id.as_str()).collect();
    for (id, t) in tracked.iter_mut() {
        if t.state != State::Resolved
            && !listed.contains(id.as_str())
            && !unheard.contains(&t.item.finding.source)
        {
            t.state = State::Resolved;
            t.revision += 1;
            t.resolved = Some(today);
            transitions.push(Transition {
                item: t.item.clone(),
                state: State::Resolved,
                revision: t.revision,
            });
        }
    }
    Step {
        tracked,
        transitions,
    }
}

/// Realised saving of a resolved recommendation: baseline monthly cost − the resource's monthly
/// run rate over the `days` ending `as_of` (its cost in the usage lines ÷ days × 30.4375), not
/// below zero. `None` while it is open, or when fewer than `days` days have passed since it was
/// resolved (no full week of evidence yet).
pub fn realised(t: &Tracked, lines: &[UsageLine], days: u32, as_of: NaiveDate) -> Option<Money> {
    let resolved = t.resolved?;
    let from = as_of.checked_sub_days(chrono::Days::new(u64::from(days.max(1) - 1)))?;
    if from <= resolved {
        return None;
    }
    let f = &t.item.finding;
    let now: Money = lines
        .iter()
        .filter(|l| l.day >= from && l.day <= as_of && l.account == f.account)
        .filter(|l| l.resource_id.as_deref() == Some(f.resource.as_str()))
        .map(|l| l.cost)
        .sum();
    let run_rate = now / Money::from(days.max(1)) * DAYS_PER_MONTH;
    Some(
        (t.baseline_monthly_cost - run_rate)
            .max(Money::ZERO)
            .cents(),
    )
}

/// Measures the realised saving of every resolved item whose window has passed, keeping the
/// figure in it; returns how many were measured.
pub fn measure(
    tracked: &mut BTreeMap<String, Tracked>,
    lines: &[UsageLine],
    days: u32,
    as_of: NaiveDate,
) -> usize {
    let mut measured = 0;
    for t in tracked.values_mut() {
        if let Some(saved) = realised(t, lines, days, as_of) {
            t.realised_monthly_savings = Some(saved);
            t.realised_as_of = Some(as_of);
            measured += 1;
        }
    }
    measured
}

/// The weekly report's "saved so far": Σ the realised savings measured so far.
pub fn saved_so_far<'a>(tracked: impl IntoIterator<Item = &'a Tracked>) -> Money {
    tracked
        .into_iter()
        .filter_map(|t| t.realised_monthly_savings)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::super::list::{Thresholds, build};
    use super::super::testing::finding;
    use super::super::{Kind, Source};
    use super::*;

    fn list_with(savings: i64) -> List {
        build(
            vec![finding(
                Source::Suite,
                Kind::IdleLoadBalancer,
                "lb-1",
                savings,
            )],
            &Thresholds::default(),
        )
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    // Constructed: an estimate within the update share stays quiet, beyond it is announced.
    #[test]
    fn estimates_that_move_more_than_the_share_are_updates() {
        let open = step(
            &BTreeMap::new(),
            &list_with(100),
            DEFAULT_UPDATE_SHARE,
            day(1),
        );
        assert_eq!(open.transitions[0].state, State::Open);
        let quiet = step(&open.tracked, &list_with(115), DEFAULT_UPDATE_SHARE, day(8));
        assert!(quiet.transitions.is_empty());
        let moved = step(
            &quiet.tracked,
            &list_with(130),
            DEFAULT_UPDATE_SHARE,
            day(15),
        );
        assert_eq!(
            (moved.transitions[0].state, moved.transitions[0].revision),
            (State::Ongoing, 1)
        );
        // Compared with the last announced estimate (100 → 130), not the quiet 115.
        let t = moved.tracked.values().next().unwrap();
        assert_eq!(t.announced_savings, Money::from(130));
        let gone = step(
            &moved.tracked,
            &List::default(),
            DEFAULT_UPDATE_SHARE,
            day(22),
        );
        assert_eq!(
            (gone.transitions[0].state, gone.transitions[0].revision),
            (State::Resolved, 2)
        );
        let back = step(
            &gone.tracked,
            &list_with(130),
            DEFAULT_UPDATE_SHARE,
            day(29),
        );
        assert_eq!(
            (back.transitions[0].state, back.transitions[0].revision),
            (State::Open, 3)
        );
    }

    // Constructed: a source that could not answer in full resolves nothing of its own.
    #[test]
    fn items_of_an_unheard_source_are_kept_not_resolved() {
        let open = step(
            &BTreeMap::new(),
            &list_with(100),
            DEFAULT_UPDATE_SHARE,
            day(1),
        );
        let unheard = BTreeSet::from([Source::Suite]);
        let kept = step_heard(
            &open.tracked,
            &List::default(),
            DEFAULT_UPDATE_SHARE,
            day(8),
            &unheard,
        );
        assert!(kept.transitions.is_empty());
        assert_eq!(kept.tracked, open.tracked);
        let other = BTreeSet::from([Source::CostOptimizationHub]);
        let gone = step_heard(
            &open.tracked,
            &List::default(),
            DEFAULT_UPDATE_SHARE,
            day(8),
            &other,
        );
        assert_eq!(gone.transitions[0].state, State::Resolved);
    }
}
