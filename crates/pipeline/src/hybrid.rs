//! Hybrid detection: AWS Cost Anomaly Detection's findings merged with ours. An imported
//! anomaly lands on the scope its root cause names and keeps its start date, so it gets the
//! same stable id (`envelopes::anomaly_subject`) as ours would: where both detectors see the
//! same incident there is one subject, one lifecycle, one alert. Ours wins where both have the
//! scope (it carries the band and our root causes); AWS's fills in what we did not flag.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use costwatch_core::Scope;
use costwatch_core::findings::Anomaly;
use costwatch_store::{AnomalySource, ImportedAnomaly, RequestBudget, StoreError};

/// AWS reports a day or two late: an imported anomaly still counts as current this long after
/// its last day.
pub const IMPORT_LAG_DAYS: u64 = 2;

/// GetAnomalies is asked for anomalies whose last day is in the week up to `as_of`: wider than
/// [`IMPORT_LAG_DAYS`], so a day or two of failed imports loses nothing.
pub const IMPORT_WINDOW_DAYS: u64 = 7;

/// Pages of GetAnomalies one run may read by default (each is a $0.01 request). One page holds
/// up to 100 findings; a week rarely has more.
pub const DEFAULT_IMPORT_REQUESTS: u32 = 5;

/// AWS's findings for the window up to `as_of`, every page drawn from `budget`; a budget that
/// runs out keeps the pages read so far (and says so in the log).
pub async fn import(
    source: &dyn AnomalySource,
    as_of: NaiveDate,
    budget: &RequestBudget,
) -> Result<Vec<ImportedAnomaly>, StoreError> {
    let (found, complete) = source
        .anomalies(as_of - Days::new(IMPORT_WINDOW_DAYS), as_of, budget)
        .await?;
    if !complete {
        tracing::warn!(
            limit = budget.limit(),
            "GetAnomalies stopped at the request limit; the rest waits for the next run"
        );
    }
    Ok(found)
}

/// Adds the current imported anomalies to `found` (scope → our finding for `as_of`). Returns the
/// keys of the scopes whose finding is now AWS's alone: its figures are AWS's totals over its
/// days, not a day ours scored.
pub fn merge(
    found: &mut Vec<(Scope, Option<Anomaly>)>,
    imported: &[ImportedAnomaly],
    as_of: NaiveDate,
) -> BTreeSet<String> {
    let mut aws_only = BTreeSet::new();
    for import in imported {
        let a = &import.anomaly;
        if a.date + Days::new(IMPORT_LAG_DAYS) < as_of || a.start_date > as_of {
            continue;
        }
        match found.iter_mut().find(|(s, _)| *s == a.scope) {
            Some((_, Some(ours))) => {
                // Same incident seen by both: the earlier start names it.
                ours.start_date = ours.start_date.min(a.start_date);
            }
            Some((_, slot)) => {
                *slot = Some(a.clone());
                aws_only.insert(a.scope.key());
            }
            None => {
                found.push((a.scope.clone(), Some(a.clone())));
                aws_only.insert(a.scope.key());
            }
        }
    }
    aws_only
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::Money;
    use costwatch_core::envelopes::anomaly_subject;
    use costwatch_core::findings::Direction;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
    }

    fn anomaly(scope: Scope, start: NaiveDate, end: NaiveDate) -> Anomaly {
        Anomaly {
            scope,
            start_date: start,
            date: end,
            direction: Direction::Rise,
            actual: Money::from(300),
            expected: Money::from(100),
            lower: Money::ZERO,
            upper: Money::from(150),
            impact: Money::from(200),
            impact_pct: Some(200.0),
            score: 0.9,
            root_causes: Vec::new(),
            resources: Vec::new(),
        }
    }

    #[test]
    fn imported_findings_share_our_ids_and_fill_gaps() {
        let sm = Scope::Service("Amazon SageMaker".into());
        let ec2 = Scope::Service("Amazon EC2".into());
        let old = Scope::Service("AWS Glue".into());
        let mut found = vec![
            (sm.clone(), Some(anomaly(sm.clone(), day(5), day(6)))),
            (ec2.clone(), None),
        ];
        let imported = [
            ImportedAnomaly {
                source_id: "aws-1".into(),
                anomaly: anomaly(sm.clone(), day(4), day(6)),
            },
            ImportedAnomaly {
                source_id: "aws-2".into(),
                anomaly: anomaly(ec2.clone(), day(6), day(6)),
            },
            ImportedAnomaly {
                source_id: "aws-3".into(),
                anomaly: anomaly(old.clone(), day(1), day(2)),
            },
        ];
        let aws_only = merge(&mut found, &imported, day(6));
        assert_eq!(found.len(), 2, "the stale import is left out");
        assert_eq!(
            aws_only,
            BTreeSet::from([ec2.key()]),
            "SageMaker is ours too"
        );
        let ours = found[0].1.as_ref().unwrap();
        assert_eq!(ours.start_date, day(4));
        assert_eq!(
            anomaly_subject(&ours.scope, ours.start_date),
            anomaly_subject(&imported[0].anomaly.scope, imported[0].anomaly.start_date)
        );
        assert_eq!(found[1].1.as_ref().map(|a| a.start_date), Some(day(6)));
    }
}
