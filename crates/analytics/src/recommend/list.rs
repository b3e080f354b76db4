//! One list out of every source's findings: one entry per resource (the source with the largest
//! saving wins; the others are noted, never added), commitment purchases discounted by the
//! usage savings they overlap, thresholds per scope, ranked by monthly saving.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use costwatch_core::envelopes::recommendation;
use costwatch_core::findings::Recommendation;
use costwatch_core::notification::{Link, ScopeRef, State};
use costwatch_core::{Money, Notification, Scope};
use serde::{Deserialize, Serialize};

use super::{Cents, Finding, Kind, Source};

/// A recommendation is listed when its monthly saving reaches both.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub min_monthly_savings: Money,
    /// Saving as a percent of the resource's current monthly cost.
    #[serde(default)]
    pub min_savings_pct: f64,
}

/// Thresholds by scope: an account's, else a service's, else the default. Untagged spend is
/// listed when its share of an account's spend reaches `min_untagged_share_pct`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub default: Threshold,
    #[serde(default)]
    pub accounts: BTreeMap<String, Threshold>,
    #[serde(default)]
    pub services: BTreeMap<String, Threshold>,
    #[serde(default = "default_untagged_share")]
    pub min_untagged_share_pct: f64,
}

fn default_untagged_share() -> f64 {
    10.0
}

impl Default for Thresholds {
    /// $10 a month and 5% of the resource's cost.
    fn default() -> Self {
        Self {
            default: Threshold {
                min_monthly_savings: Money::from(10),
                min_savings_pct: 5.0,
            },
            accounts: BTreeMap::new(),
            services: BTreeMap::new(),
            min_untagged_share_pct: default_untagged_share(),
        }
    }
}

impl Thresholds {
    pub fn for_finding(&self, f: &Finding) -> &Threshold {
        self.accounts
            .get(&f.account)
            .or_else(|| self.services.get(&f.service))
            .unwrap_or(&self.default)
    }

    fn passes(&self, f: &Finding) -> bool {
        if f.kind == Kind::UntaggedSpend {
            return f.share_pct.unwrap_or(0.0) >= self.min_untagged_share_pct;
        }
        let t = self.for_finding(f);
        f.monthly_savings > Money::ZERO
            && f.monthly_savings >= t.min_monthly_savings
            && f.savings_pct().is_none_or(|p| p >= t.min_savings_pct)
    }
}

/// Another source's (or rule's) view of the same resource, shown but not added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlsoFound {
    pub source: Source,
    pub kind: Kind,
    pub monthly_savings: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id (source, kind, resource): the envelope's subject.
    pub id: String,
    pub finding: Finding,
    /// What the list total counts of this item: its saving, or for a commitment purchase that
    /// saving scaled down by the usage savings listed in the same account (see [`build`]).
    pub counted_savings: Money,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_found: Vec<AlsoFound>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct List {
    /// Savings, ranked by monthly saving (largest first).
    pub items: Vec<Item>,
    /// Untagged spend per account above its share threshold (no saving, routing hygiene).
    pub untagged: Vec<Finding>,
    /// Σ counted savings: no resource twice, commitments not stacked on usage savings.
    pub total_monthly_savings: Money,
    /// Findings under their threshold (not listed).
    pub below_threshold: usize,
}

/// One list from every source's findings:
///
/// 1. findings on the same resource (account + resource) collapse to the largest saving — the
///    actions are alternatives (deleting a volume beats moving it to gp3), never added;
/// 2. each survivor is checked against its scope's threshold;
/// 3. a commitment purchase (Savings Plans, reservations) is estimated by its source on today's
///    usage, which the usage recommendations of the same account shrink: the total counts it
///    × max(0, 1 − listed usage savings in that account ÷ the commitment's current cost);
/// 4. ranked by monthly saving, ties by id.
pub fn build(findings: Vec<Finding>, thresholds: &Thresholds) -> List {
    let mut by_resource: BTreeMap<(String, String), Vec<Finding>> = BTreeMap::new();
    let mut untagged = Vec::new();
    let mut below = 0;
    for f in findings {
        if f.kind == Kind::UntaggedSpend {
            if thresholds.passes(&f) {
                untagged.push(f);
            } else {
                below += 1;
            }
            continue;
        }
        by_resource
            .entry((f.account.clone(), f.resource.clone()))
            .or_default()
            .push(f);
    }
    let mut items: Vec<Item> = Vec::new();
    for (_, mut group) in by_resource {
        group.sort_by(|a, b| {
            b.monthly_savings
                .cmp(&a.monthly_savings)
                .then_with(|| a.id().cmp(&b.id()))
        });
        let best = group.remove(0);
        if !thresholds.passes(&best) {
            below += 1;
            continue;
        }
        items.push(Item {
            id: best.id(),
            counted_savings: best.monthly_savings,
            also_found: group
                .into_iter()
                .map(|f| AlsoFound {
                    source: f.source,
                    kind: f.kind,
                    monthly_savings: f.monthly_savings,
                })
                .collect(),
            finding: best,
        });
    }
    let mut usage_savings: BTreeMap<String, Money> = BTreeMap::new();
    for i in items.iter().filter(|i| !i.finding.kind.is_commitment()) {
        *usage_savings.entry(i.finding.account.clone()).or_default() += i.finding.monthly_savings;
    }
    for i in items.iter_mut().filter(|i| i.finding.kind.is_commitment()) {
        let overlap = usage_savings
            .get(&i.finding.account)
            .copied()
            .unwrap_or_default();
        let cost = i.finding.current_monthly_cost;
        let keep = if cost > Money::ZERO {
            (Money::ONE - overlap / cost).max(Money::ZERO)
        } else {
            Money::ONE
        };
        i.counted_savings = (i.finding.monthly_savings * keep).cents();
    }
    items.sort_by(|a, b| {
        b.finding
            .monthly_savings
            .cmp(&a.finding.monthly_savings)
            .then_with(|| a.id.cmp(&b.id))
    });
    untagged.sort_by_key(|u| std::cmp::Reverse(u.current_monthly_cost));
    List {
        total_monthly_savings: items.iter().map(|i| i.counted_savings).sum(),
        items,
        untagged,
        below_threshold: below,
    }
}

impl Item {
    /// The core recommendation the envelope builders take.
    pub fn recommendation(&self) -> Recommendation {
        let f = &self.finding;
        Recommendation {
            category: f.kind.as_str().to_owned(),
            title: f.title.clone(),
            account: Some(f.account.clone()),
            service: Some(f.service.clone()),
            resource_id: Some(f.resource.clone()),
            current_monthly_cost: f.current_monthly_cost,
            monthly_savings: f.monthly_savings,
            action: format!("{} {}", f.action.summary, f.action.cli),
        }
    }

    /// The envelope for this item in `state` at `revision`: the shared recommendation wording,
    /// subject = the item's stable id, scope = its account and service with the resource's tags
    /// (so the existing routing rules route it by account or tag to its owner), the console
    /// page as a link.
    pub fn envelope(&self, state: State, revision: u32, at: DateTime<Utc>) -> Notification {
        let f = &self.finding;
        let base = recommendation(&self.recommendation(), at);
        let scope = Scope::AccountService {
            account: f.account.clone(),
            service: f.service.clone(),
        };
        let mut scope_ref = ScopeRef::new(&scope, f.account_name.as_deref());
        scope_ref.tags = f.tags.clone();
        let mut n = Notification::new(
            self.id.clone(),
            revision,
            base.body,
            base.severity,
            state,
            base.title,
            base.summary,
            scope_ref,
            at,
        );
        n.currency = base.currency;
        n.links = vec![Link {
            label: "Open in the AWS console".into(),
            url: f.action.console_url.clone(),
        }];
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::finding;
    use super::*;

    fn usd(n: i64) -> Money {
        Money::from(n)
    }

    #[test]
    fn one_resource_is_counted_once_with_its_largest_saving() {
        let volume_gone = finding(Source::Suite, Kind::VolumeWithoutInstance, "vol-1", 40);
        let gp3 = finding(Source::Suite, Kind::Gp2ToGp3, "vol-1", 8);
        let hub = finding(Source::CostOptimizationHub, Kind::Other, "vol-1", 30);
        let list = build(vec![gp3, volume_gone.clone(), hub], &Thresholds::default());
        assert_eq!(list.items.len(), 1);
        assert_eq!(list.items[0].id, volume_gone.id());
        assert_eq!(list.total_monthly_savings, usd(40));
        assert_eq!(list.items[0].also_found.len(), 2);
    }

    #[test]
    fn thresholds_per_scope_in_dollars_and_percent() {
        let small = finding(Source::Suite, Kind::Gp2ToGp3, "vol-small", 9);
        let big = finding(Source::Suite, Kind::Gp2ToGp3, "vol-big", 50);
        let mut low_pct = finding(Source::Suite, Kind::PreviousGeneration, "i-1", 20);
        low_pct.current_monthly_cost = usd(1000); // 2%
        let list = build(
            vec![small.clone(), big.clone(), low_pct.clone()],
            &Thresholds::default(),
        );
        assert_eq!(
            list.items
                .iter()
                .map(|i| i.finding.resource.as_str())
                .collect::<Vec<_>>(),
            ["vol-big"]
        );
        assert_eq!(list.below_threshold, 2);
        let mut t = Thresholds::default();
        t.accounts.insert(
            "111111111111".into(),
            Threshold {
                min_monthly_savings: usd(5),
                min_savings_pct: 1.0,
            },
        );
        let list = build(vec![small, big, low_pct], &t);
        // Ranked by saving: 50, 20, 9.
        let ranked: Vec<_> = list
            .items
            .iter()
            .map(|i| i.finding.monthly_savings)
            .collect();
        assert_eq!(ranked, [usd(50), usd(20), usd(9)]);
        assert_eq!(list.total_monthly_savings, usd(79));
    }

    #[test]
    fn savings_plans_are_not_stacked_on_rightsizing_in_the_same_account() {
        let rightsizing = finding(Source::CeRightsizing, Kind::Rightsizing, "i-9", 100);
        let mut sp = finding(
            Source::CeSavingsPlans,
            Kind::SavingsPlansPurchase,
            "111111111111/compute-sp",
            150,
        );
        sp.current_monthly_cost = usd(500);
        let list = build(vec![rightsizing, sp], &Thresholds::default());
        assert_eq!(list.items.len(), 2);
        let sp = list
            .items
            .iter()
            .find(|i| i.finding.kind.is_commitment())
            .unwrap();
        // 150 × (1 − 100/500) = 120; total 100 + 120, not 250.
        assert_eq!(sp.counted_savings, usd(120));
        assert_eq!(list.total_monthly_savings, usd(220));
    }

    #[test]
    fn envelope_subject_is_the_item_id_and_carries_tags_for_routing() {
        let mut f = finding(Source::Suite, Kind::IdleElasticIp, "eip-1", 40);
        f.tags.insert("team".into(), "payments".into());
        f.action.console_url =
            "https://console.aws.amazon.com/ec2/home?region=us-east-1#Addresses:".into();
        let list = build(vec![f], &Thresholds::default());
        let n = list.items[0].envelope(State::Open, 0, Utc::now());
        assert_eq!(n.subject_id, list.items[0].id);
        assert_eq!(n.kind(), "recommendation");
        assert_eq!(
            n.scope.tags.get("team").map(String::as_str),
            Some("payments")
        );
        assert_eq!(n.scope.account_id.as_deref(), Some("111111111111"));
        assert_eq!(n.links.len(), 1);
        let resolved = list.items[0].envelope(State::Resolved, 1, Utc::now());
        assert_eq!(resolved.subject_id, n.subject_id);
        assert_ne!(resolved.id, n.id);
    }
}
