//! Unallocated spend: what carries no value of a tag key or cost category (`tag=team|value=`,
//! [`Scope::unallocated`]). Rollups store only the labelled values, so it is derived when read:
//! the organisation's day less every value's, bucket by bucket. Cost Explorer's and the CUR's
//! tag rollups group the same spend as the organisation's, so the difference is the spend
//! without the label, whichever source wrote the days, with nothing to re-aggregate.

use std::collections::BTreeMap;

use costwatch_core::{DailySeries, Scope};

/// The unallocated series of every tag key and cost category among `labelled` (series over the
/// same days as `org`), sorted by scope. A day the organisation has nothing stored stays `None`;
/// a day no value of the key has is the organisation's whole day.
pub fn derive(org: &DailySeries, labelled: &[DailySeries]) -> Vec<DailySeries> {
    let mut out: BTreeMap<Scope, DailySeries> = BTreeMap::new();
    for series in labelled.iter().filter(|s| !s.scope.is_unallocated()) {
        let Some(scope) = series.scope.unallocated() else {
            continue;
        };
        let rest = out.entry(scope.clone()).or_insert_with(|| DailySeries {
            scope,
            start: org.start,
            days: org.days.clone(),
        });
        debug_assert_eq!(series.start, org.start, "series read over other days");
        for (left, part) in rest.days.iter_mut().zip(&series.days) {
            if let (Some(left), Some(part)) = (left, part) {
                left.subtract(part);
            }
        }
    }
    out.into_values().collect()
}

/// `scope`'s unallocated series from the organisation's and the labelled series read with it
/// (other keys among them are ignored); the organisation's whole days when none is of its key.
pub fn of(scope: &Scope, org: &DailySeries, labelled: &[DailySeries]) -> DailySeries {
    let same_key: Vec<DailySeries> = labelled
        .iter()
        .filter(|s| s.scope.unallocated().as_ref() == Some(scope))
        .cloned()
        .collect();
    derive(org, &same_key).pop().unwrap_or_else(|| DailySeries {
        scope: scope.clone(),
        start: org.start,
        days: org.days.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use costwatch_core::{DailyCost, Money};

    fn cost(usage: i64, credit: i64) -> Option<DailyCost> {
        Some(DailyCost {
            usage: Money::from(usage),
            credit: Money::from(credit),
            ..DailyCost::default()
        })
    }

    fn series(scope: &str, days: Vec<Option<DailyCost>>) -> DailySeries {
        DailySeries {
            scope: scope.parse().unwrap(),
            start: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            days,
        }
    }

    #[test]
    fn each_key_leaves_the_organisation_less_its_values() {
        let org = series("org", vec![cost(100, -10), cost(80, 0), None]);
        let labelled = [
            series("tag=team|value=web", vec![cost(60, -10), None, cost(5, 0)]),
            series("tag=team|value=data", vec![cost(30, 0), cost(20, 0), None]),
            series(
                "tag=env|value=prod",
                vec![cost(100, -10), cost(80, 0), None],
            ),
            series("costcategory=Unit|value=A", vec![None, cost(1, 0), None]),
        ];
        let derived = derive(&org, &labelled);
        let keys: Vec<String> = derived.iter().map(|s| s.scope.key()).collect();
        assert_eq!(
            keys,
            [
                "tag=env|value=",
                "tag=team|value=",
                "costcategory=Unit|value="
            ]
        );
        // team: 100 − 60 − 30 with the credit all web's; a day without web is 80 − 20; a day
        // the organisation has nothing stored stays unknown, whatever a value says.
        assert_eq!(derived[1].days, vec![cost(10, 0), cost(60, 0), None]);
        assert_eq!(derived[0].days, vec![cost(0, 0), cost(0, 0), None]);
        assert_eq!(derived[2].days, vec![cost(100, -10), cost(79, 0), None]);
    }

    #[test]
    fn a_key_without_values_leaves_the_whole_organisation() {
        let org = series("org", vec![cost(100, 0), None]);
        let other = [series("tag=env|value=prod", vec![cost(40, 0), None])];
        let team = Scope::Tag {
            key: "team".into(),
            value: String::new(),
        };
        let derived = of(&team, &org, &other);
        assert_eq!((derived.scope, derived.days), (team, org.days));
    }
}
