//! One event, one alert. A spend change in one account × service also lifts its account, its
//! service and the organisation: four scopes, the same dollars. Nested scopes (org ⊃ account ⊃
//! account × service; org ⊃ service ⊃ account × service) are folded into the deepest scope that
//! explains them, and only a broader scope whose excess is mostly its own stays an anomaly.
//!
//! What explains a broader anomaly is the excess (actual − expected, today) of the narrower
//! scopes inside it that are anomalous today *or still open from an earlier day*: a level
//! shift's own scope can sit in its band on a day when the slower-moving service total is still
//! out of it, and that is still the same event. Narrower scopes of one kind are disjoint (two
//! accounts share no dollar), so their excesses add up; the deepest kind whose same-direction
//! excess covers at least [`EXPLAINED_SHARE`] of the broader excess takes it over.

use costwatch_core::Scope;
use costwatch_core::findings::Anomaly;
use costwatch_core::money::to_f64;

/// Share of a broader scope's excess that narrower scopes must explain to stand for it; below
/// it, the broader scope's unexplained remainder is large enough to be its own event.
pub const EXPLAINED_SHARE: f64 = 0.6;

/// A scope that can explain a broader one today: its signed excess in dollars.
#[derive(Debug, Clone, PartialEq)]
pub struct Explainer {
    pub scope: Scope,
    pub excess: f64,
}

/// How deep a scope sits in the nesting (org 0, account or service 1, account × service 2);
/// `None` for tags and cost categories, which cut across it, and for metrics, outside it.
fn depth(scope: &Scope) -> Option<u8> {
    match scope {
        Scope::Org => Some(0),
        Scope::Account(_) | Scope::Service(_) => Some(1),
        Scope::AccountService { .. } => Some(2),
        Scope::Tag { .. } | Scope::CostCategory { .. } | Scope::Metric(_) => None,
    }
}

/// Whether `broad` strictly contains `narrow` in the nesting.
pub fn contains(broad: &Scope, narrow: &Scope) -> bool {
    match (broad, narrow) {
        (Scope::Org, n) => depth(n).is_some_and(|d| d > 0),
        (Scope::Account(a), Scope::AccountService { account, .. }) => a == account,
        (Scope::Service(s), Scope::AccountService { service, .. }) => s == service,
        _ => false,
    }
}

/// The scope a broader anomaly folds into, if narrower scopes explain enough of its excess:
/// among the kinds of scope inside it, the deepest whose same-direction excesses add up to at
/// least [`EXPLAINED_SHARE`] of its own; the subject is that kind's largest contributor.
pub fn explained_by<'a>(broad: &Anomaly, explainers: &'a [Explainer]) -> Option<&'a Scope> {
    let excess = to_f64(broad.impact);
    if excess == 0.0 {
        return None;
    }
    let inside: Vec<&Explainer> = explainers
        .iter()
        .filter(|e| contains(&broad.scope, &e.scope) && e.excess.signum() == excess.signum())
        .collect();
    for kind_depth in [2, 1] {
        // Account and service scopes overlap each other, so each kind is summed on its own.
        let kinds: [fn(&Scope) -> bool; 2] = if kind_depth == 2 {
            [|s| matches!(s, Scope::AccountService { .. }), |_| false]
        } else {
            [
                |s| matches!(s, Scope::Account(_)),
                |s| matches!(s, Scope::Service(_)),
            ]
        };
        for is_kind in kinds {
            let of_kind: Vec<&&Explainer> = inside.iter().filter(|e| is_kind(&e.scope)).collect();
            let explained: f64 = of_kind.iter().map(|e| e.excess.abs()).sum();
            if explained >= EXPLAINED_SHARE * excess.abs() {
                return of_kind
                    .iter()
                    .max_by(|a, b| a.excess.abs().total_cmp(&b.excess.abs()))
                    .map(|e| &e.scope);
            }
        }
    }
    None
}

/// Drops today's anomalies that narrower scopes explain (see the module notes); returns each
/// dropped scope with the scope it was folded into.
pub fn fold_nested(
    found: &mut [(Scope, Option<Anomaly>)],
    explainers: &[Explainer],
) -> Vec<(Scope, Scope)> {
    let mut folded = Vec::new();
    for (scope, anomaly) in found.iter_mut() {
        let Some(broad) = anomaly else { continue };
        if let Some(into) = explained_by(broad, explainers) {
            folded.push((scope.clone(), into.clone()));
            *anomaly = None;
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use costwatch_core::findings::Direction;
    use rust_decimal::Decimal;

    use super::*;

    fn anomaly(scope: Scope, expected: i64, actual: i64) -> Anomaly {
        let date = NaiveDate::from_ymd_opt(2026, 10, 11).unwrap();
        let (expected, actual) = (Decimal::from(expected), Decimal::from(actual));
        Anomaly {
            scope,
            start_date: date,
            date,
            direction: if actual >= expected {
                Direction::Rise
            } else {
                Direction::Fall
            },
            actual,
            expected,
            lower: expected,
            upper: expected,
            impact: actual - expected,
            impact_pct: None,
            score: 0.9,
            root_causes: Vec::new(),
            resources: Vec::new(),
        }
    }

    fn account_service(account: &str, service: &str) -> Scope {
        Scope::AccountService {
            account: account.into(),
            service: service.into(),
        }
    }

    fn explainer(scope: Scope, excess: f64) -> Explainer {
        Explainer { scope, excess }
    }

    #[test]
    fn a_parent_mostly_explained_by_a_child_folds_into_it() {
        let child = account_service("web-prod", "RDS");
        let service = Scope::Service("RDS".into());
        let mut found = vec![
            (service.clone(), Some(anomaly(service.clone(), 335, 415))),
            (child.clone(), None), // in its band today, but its anomaly is still open
        ];
        let folded = fold_nested(&mut found, &[explainer(child.clone(), 76.0)]);
        assert_eq!(folded, vec![(service, child)]);
        assert!(found.iter().all(|(_, a)| a.is_none()));
    }

    #[test]
    fn a_parent_with_a_large_independent_remainder_stays_its_own() {
        // The child explains $30 of the account's $100: $70 is the account's own.
        let child = account_service("web-prod", "RDS");
        let account = Scope::Account("web-prod".into());
        let mut found = vec![(account.clone(), Some(anomaly(account.clone(), 400, 500)))];
        let folded = fold_nested(&mut found, &[explainer(child, 30.0)]);
        assert!(folded.is_empty());
        assert!(found[0].1.is_some());
    }

    #[test]
    fn the_deepest_explaining_scope_is_the_subject_and_disjoint_children_add_up() {
        let a = account_service("web-prod", "RDS");
        let b = account_service("data", "RDS");
        let explainers = [
            explainer(Scope::Account("web-prod".into()), 90.0),
            explainer(a.clone(), 45.0),
            explainer(b.clone(), 35.0),
        ];
        // The organisation's $100: the two account × service scopes explain $80 together, so
        // the deepest kind wins over the account ($90) and the larger of the two is the subject.
        let org = anomaly(Scope::Org, 1000, 1100);
        assert_eq!(explained_by(&org, &explainers), Some(&a));
        // Neither explains the other account's scope, and the opposite direction explains nothing.
        let other = anomaly(Scope::Account("data".into()), 100, 200);
        assert_eq!(explained_by(&other, &explainers), None);
        let fall = anomaly(Scope::Service("RDS".into()), 200, 100);
        assert_eq!(explained_by(&fall, &explainers), None);
    }

    #[test]
    fn tags_and_unrelated_scopes_neither_fold_nor_explain() {
        let tag = Scope::Tag {
            key: "team".into(),
            value: "web".into(),
        };
        let explainers = [explainer(account_service("web-prod", "RDS"), 100.0)];
        assert_eq!(
            explained_by(&anomaly(tag.clone(), 100, 200), &explainers),
            None
        );
        assert!(!contains(&Scope::Org, &tag));
        assert!(!contains(
            &Scope::Account("a".into()),
            &Scope::Service("RDS".into())
        ));
        assert!(!contains(&Scope::Org, &Scope::Org));
    }
}
