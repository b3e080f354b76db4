//! A budget the arithmetic cannot hold is refused by the config check, before anything runs: a
//! budget of 10^-28 would make "percent of budget" overflow `Decimal` (a panic, which loses the
//! batch), one beyond ±10^15 would make its thresholds' sums overflow (issue 17).

use costwatch_analytics::budget::{Budget, default_thresholds};
use costwatch_core::money::max_amount;
use costwatch_core::{Money, Scope};
use costwatch_pipeline::PipelineConfig;

fn with_budget(amount: Money) -> Result<(), String> {
    PipelineConfig {
        budgets: vec![Budget {
            name: "org-monthly".into(),
            scope: Scope::Org,
            amount,
            thresholds: default_thresholds(),
        }],
        ..PipelineConfig::default()
    }
    .validate()
    .map_err(|e| e.to_string())
}

#[test]
fn budgets_from_a_cent_to_the_bound_are_accepted() {
    for amount in [Money::new(1, 2), Money::from(5_000), max_amount()] {
        assert_eq!(with_budget(amount), Ok(()), "{amount}");
    }
}

#[test]
fn a_budget_below_a_cent_or_beyond_the_bound_is_refused_with_the_reason() {
    let tiny = with_budget(Money::new(1, 28)).unwrap_err();
    assert!(tiny.contains("at least 0.01"), "{tiny}");
    let huge = with_budget(max_amount() + Money::ONE).unwrap_err();
    assert!(huge.contains("beyond ±10^15"), "{huge}");
    let negative = with_budget(Money::from(-5)).unwrap_err();
    assert!(negative.contains("positive"), "{negative}");
}

#[test]
fn a_zero_percent_threshold_is_refused() {
    let mut thresholds = default_thresholds();
    thresholds[0].percent = 0;
    let err = PipelineConfig {
        budgets: vec![Budget {
            name: "org-monthly".into(),
            scope: Scope::Org,
            amount: Money::from(100),
            thresholds,
        }],
        ..PipelineConfig::default()
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("org-monthly") && err.contains("0 %") && err.contains("1 or more"),
        "{err}"
    );
}
