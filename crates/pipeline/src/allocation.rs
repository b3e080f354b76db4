//! Allocation (showback): a month's spend per value of each tag key and cost category, and what
//! carries no value of it — the share no team can be shown. What the dashboard's cards, the
//! report page and its CSV show, computed once here.

use chrono::{Datelike, NaiveDate};
use costwatch_core::money::to_f64;
use costwatch_core::notification::AllocationLine;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{Money, Scope};
use costwatch_store::RollupStore;
use serde::Serialize;

use crate::error::Result;

/// Values listed per key; the others are summed in one line.
pub const SHOWN_VALUES: usize = 5;

/// One tag key's (or cost category's) month so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyAllocation {
    /// `tag` or `cost_category`.
    pub kind: ScopeKind,
    pub key: String,
    /// The key named for a reader, "tag team" or "cost category Business Unit": the card's and
    /// the report table's heading ([`ScopeKind::key_label`]).
    pub label: String,
    /// What the unallocated line is called: `untagged` or `uncategorised`.
    pub missing: &'static str,
    /// The largest values, at most [`SHOWN_VALUES`], largest first.
    pub values: Vec<Share>,
    /// The other values summed; `None` when every value is listed.
    pub rest: Option<Rest>,
    /// The spend without a value of the key (`tag=team|value=`).
    pub unallocated: Share,
    /// The organisation's spend over the same days: the values and the unallocated line sum to it.
    pub total: Money,
    /// Percent of `total` that carries a value; `None` when the total is not positive (credits).
    pub coverage_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// The scope key (`tag=team|value=web`), for `/v1/costs?scope=`.
    pub scope: String,
    /// The value as written; empty for the unallocated line.
    pub value: String,
    pub amount: Money,
    /// Percent of the key's total, to two decimals.
    pub share_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rest {
    pub values: usize,
    pub amount: Money,
    pub share_pct: Option<f64>,
}

/// Every tag key and cost category with a value from the first of `as_of`'s month to `as_of`:
/// tags first, each kind by key.
pub async fn month_to_date(
    rollups: &dyn RollupStore,
    as_of: NaiveDate,
) -> Result<Vec<KeyAllocation>> {
    let start = as_of.with_day(1).unwrap_or(as_of);
    let kinds = [ScopeKind::Tag, ScopeKind::CostCategory];
    let mut keys: Vec<KeyAllocation> = Vec::new();
    // Sorted by scope, so each key's untagged series comes first and its values follow.
    for series in rollups.all_series(start, as_of, &kinds).await? {
        let amount: Money = series.days.iter().flatten().map(|c| c.total()).sum();
        let (kind, key, value) = match &series.scope {
            Scope::Tag { key, value } => (ScopeKind::Tag, key, value),
            Scope::CostCategory { name, value } => (ScopeKind::CostCategory, name, value),
            _ => continue,
        };
        let share = Share {
            scope: series.scope.key(),
            value: value.clone(),
            amount,
            share_pct: None,
        };
        match keys.last_mut() {
            Some(k) if k.kind == kind && &k.key == key => k.values.push(share),
            _ => keys.push(KeyAllocation {
                kind,
                key: key.clone(),
                label: kind.key_label(key),
                missing: kind.missing_value(),
                values: vec![share],
                rest: None,
                // Named even while no untagged series is read: a report links to it.
                unallocated: Share {
                    scope: unallocated_key(kind, key),
                    value: String::new(),
                    amount: Money::ZERO,
                    share_pct: None,
                },
                total: Money::ZERO,
                coverage_pct: None,
            }),
        }
    }
    keys.iter_mut().for_each(finish);
    keys.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    Ok(keys)
}

/// Keys a report envelope lists at most: a CUR brings every user tag column, so an organisation
/// can have dozens of keys, and a chat message is read, not searched.
pub const REPORT_KEYS: usize = 10;

/// The keys as a report envelope carries them: the [`REPORT_KEYS`] the most spend carries (the
/// ones a showback is built on, not a `Name` tag on three instances), in the page's order.
pub fn report_lines(keys: &[KeyAllocation]) -> Vec<AllocationLine> {
    let mut kept: Vec<&KeyAllocation> = keys.iter().collect();
    // Stable: among equal coverage the page's order decides.
    kept.sort_by(|a, b| {
        let covered = |k: &KeyAllocation| k.coverage_pct.unwrap_or(0.0);
        covered(b).total_cmp(&covered(a))
    });
    kept.truncate(REPORT_KEYS);
    kept.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    kept.into_iter()
        .map(|k| AllocationLine {
            kind: k.kind,
            key: k.key.clone(),
            scope: k.unallocated.scope.clone(),
            unallocated: k.unallocated.amount,
            coverage_pct: k.coverage_pct,
        })
        .collect()
}

/// `tag=team|value=`: the scope key of a key's spend without a value.
fn unallocated_key(kind: ScopeKind, key: &str) -> String {
    Scope::unallocated_of(kind, key).map_or_else(String::new, |s| s.key())
}

/// Splits the unallocated line from the values, sums the total, ranks and folds the values, and
/// puts every share against the total.
fn finish(k: &mut KeyAllocation) {
    if let Some(i) = k.values.iter().position(|v| v.value.is_empty()) {
        k.unallocated = k.values.remove(i);
    }
    k.total = k.values.iter().map(|v| v.amount).sum::<Money>() + k.unallocated.amount;
    let total = k.total;
    // Percent to two decimals: what a reader compares, and a CSV cell without float noise.
    let share = |amount: Money| {
        (total > Money::ZERO).then(|| (to_f64(amount / total) * 10_000.0).round() / 100.0)
    };
    k.values
        .sort_by(|a, b| b.amount.cmp(&a.amount).then(a.value.cmp(&b.value)));
    let folded = k.values.split_off(k.values.len().min(SHOWN_VALUES));
    k.rest = (!folded.is_empty()).then(|| {
        let amount = folded.iter().map(|v| v.amount).sum();
        Rest {
            values: folded.len(),
            amount,
            share_pct: share(amount),
        }
    });
    for v in k.values.iter_mut().chain([&mut k.unallocated]) {
        v.share_pct = share(v.amount);
    }
    k.coverage_pct = share(total - k.unallocated.amount);
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::DailyCost;
    use costwatch_store::RollupRow;
    use costwatch_store::memory::MemoryRollups;

    #[test]
    fn shares_are_percent_to_two_decimals() {
        let third = |value: &str| Share {
            scope: format!("tag=team|value={value}"),
            value: value.into(),
            amount: Money::ONE,
            share_pct: None,
        };
        let mut k = KeyAllocation {
            kind: ScopeKind::Tag,
            key: "team".into(),
            label: "tag team".into(),
            missing: "untagged",
            values: vec![third("a"), third("b"), third("")],
            rest: None,
            unallocated: third("unused"),
            total: Money::ZERO,
            coverage_pct: None,
        };
        finish(&mut k);
        assert_eq!(k.total, Money::from(3));
        assert_eq!(k.values[0].share_pct, Some(33.33));
        assert_eq!(k.unallocated.value, "");
        assert_eq!(k.coverage_pct, Some(66.67));
    }

    #[tokio::test]
    async fn each_key_ranks_its_values_folds_the_rest_and_shows_what_carries_none() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let before = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let row = |scope: &str, d: NaiveDate, dollars: i64| RollupRow {
            scope: scope.parse().unwrap(),
            day: d,
            cost: DailyCost {
                usage: Money::from(dollars),
                ..DailyCost::default()
            },
        };
        let mut rows = vec![row("org", day, 1000), row("org", before, 5000)];
        for (i, team) in ["a", "b", "c", "d", "e", "f", "g"].iter().enumerate() {
            rows.push(row(
                &format!("tag=team|value={team}"),
                day,
                100 + i as i64 * 10,
            ));
        }
        rows.push(row("tag=team|value=a", before, 5000));
        rows.push(row("costcategory=Unit|value=x", day, 1000));
        let rollups = MemoryRollups::default();
        rollups.replace_days(&[before, day], &rows).await.unwrap();

        let keys = month_to_date(&rollups, day).await.unwrap();
        let names: Vec<(ScopeKind, &str, &str)> = keys
            .iter()
            .map(|k| (k.kind, k.key.as_str(), k.missing))
            .collect();
        assert_eq!(
            names,
            [
                (ScopeKind::Tag, "team", "untagged"),
                (ScopeKind::CostCategory, "Unit", "uncategorised")
            ]
        );
        let team = &keys[0];
        // October's day is not this month's; November's values: 100..160 (910), untagged 90.
        assert_eq!(team.total, Money::from(1000));
        let shown: Vec<&str> = team.values.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(
            shown,
            ["g", "f", "e", "d", "c"],
            "largest first, five shown"
        );
        assert_eq!(
            team.rest,
            Some(Rest {
                values: 2,
                amount: Money::from(210),
                share_pct: Some(21.0)
            })
        );
        assert_eq!(team.unallocated.scope, "tag=team|value=");
        assert_eq!(team.unallocated.amount, Money::from(90));
        assert_eq!(team.unallocated.share_pct, Some(9.0));
        assert_eq!(team.coverage_pct, Some(91.0));
        let unit = &keys[1];
        assert_eq!(
            (unit.unallocated.amount, unit.coverage_pct),
            (Money::ZERO, Some(100.0))
        );
    }

    #[test]
    fn a_report_lists_the_keys_the_most_spend_carries_in_the_pages_order() {
        let key = |kind: ScopeKind, key: &str, coverage: f64| KeyAllocation {
            kind,
            key: key.into(),
            label: kind.key_label(key),
            missing: kind.missing_value(),
            values: Vec::new(),
            rest: None,
            unallocated: Share {
                scope: unallocated_key(kind, key),
                value: String::new(),
                amount: Money::from(100 - coverage as i64),
                share_pct: None,
            },
            total: Money::from(100),
            coverage_pct: Some(coverage),
        };
        let mut keys = vec![key(ScopeKind::CostCategory, "Unit", 100.0)];
        for i in 0..REPORT_KEYS {
            keys.push(key(ScopeKind::Tag, &format!("k{i:02}"), i as f64));
        }
        keys.push(key(ScopeKind::Tag, "team", 90.0));
        keys.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));

        let lines = report_lines(&keys);
        let listed: Vec<&str> = lines.iter().map(|l| l.key.as_str()).collect();
        // The two least carried tags (k00, k01) are left out; tags first, by key.
        assert_eq!(
            listed,
            [
                "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "team", "Unit"
            ]
        );
        let team = &lines[8];
        assert_eq!(
            (team.scope.as_str(), team.unallocated, team.coverage_pct),
            ("tag=team|value=", Money::from(10), Some(90.0))
        );
        assert_eq!(lines[9].scope, "costcategory=Unit|value=");
    }
}
