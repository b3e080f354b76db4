//! A budget the arithmetic cannot hold is refused by the config check, before anything runs: a
//! budget of 10^-28 would make "percent of budget" overflow `Decimal` (a panic, which loses the
//! batch), one beyond ±10^15 would make its thresholds' sums overflow (issue 17); and the
//! budget list is bounded so the daily report's message, which carries every budget, stays
//! within SNS's limit.

use costwatch_analytics::budget::{Budget, default_thresholds};
use costwatch_core::envelopes;
use costwatch_core::money::max_amount;
use costwatch_core::notification::{BudgetLine, ReportFigures, ReportPeriod};
use costwatch_core::{Money, Scope};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::config::{MAX_BUDGET_NAME, MAX_BUDGETS};

fn with_budget(amount: Money) -> Result<(), String> {
    PipelineConfig {
        budgets: vec![Budget {
            name: "org-monthly".into(),
            scope: Scope::Org,
            period: Default::default(),
            start_month: None,
            amount,
            auto_adjust_months: None,
            planned_amounts: Default::default(),
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
            period: Default::default(),
            start_month: None,
            amount: Money::from(100),
            auto_adjust_months: None,
            planned_amounts: Default::default(),
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

/// `count` org budgets at the bound, named by their number padded with quotes to `name_chars`
/// characters (a quote is escaped to two bytes in JSON: the longest name a line can carry).
fn budgets(count: usize, name_chars: usize) -> PipelineConfig {
    PipelineConfig {
        budgets: (0..count)
            .map(|i| Budget {
                name: format!("{i:\"<name_chars$}"),
                scope: Scope::Org,
                period: Default::default(),
                start_month: None,
                amount: max_amount(),
                auto_adjust_months: None,
                planned_amounts: Default::default(),
                thresholds: default_thresholds(),
            })
            .collect(),
        ..PipelineConfig::default()
    }
}

fn refusal(config: &PipelineConfig) -> String {
    config.validate().unwrap_err().to_string()
}

/// The most a configuration may hold — 500 budgets, each named with 100 characters that JSON
/// escapes to 200 bytes, spending at the bound — still makes a daily report envelope SNS takes
/// (256 KB); one more budget, one more character or a control character is refused before
/// anything runs.
#[test]
fn the_largest_budget_list_allowed_fits_the_daily_reports_message() {
    let most = budgets(MAX_BUDGETS, MAX_BUDGET_NAME);
    assert_eq!(most.validate().map_err(|e| e.to_string()), Ok(()));
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let figures = ReportFigures {
        period: ReportPeriod::Daily,
        start: day,
        end: day,
        total: max_amount(),
        previous_total: max_amount(),
        change_pct: Some(-100.0 / 3.0),
        month_to_date: max_amount(),
        forecast_month_end: Some(max_amount()),
        top_movers: Vec::new(),
        top_services: Vec::new(),
        budgets: most
            .budgets
            .iter()
            .map(|b| BudgetLine {
                period: Default::default(),
                budget: b.name.clone(),
                limit: b.amount,
                actual: -max_amount(),
                forecast: -max_amount(),
                forecast_pending: false,
                percent_used: -100.0 / 3.0,
            })
            .collect(),
        open_anomalies: u32::MAX,
        saved_so_far: None,
        allocation: Vec::new(),
    };
    let envelope = serde_json::to_vec(&envelopes::report(figures, chrono::Utc::now())).unwrap();
    assert!(envelope.len() < 256 * 1024, "{} bytes", envelope.len());

    let too_many = refusal(&budgets(MAX_BUDGETS + 1, 10));
    assert!(too_many.contains("at most 500"), "{too_many}");
    let too_long = refusal(&budgets(1, MAX_BUDGET_NAME + 1));
    assert!(too_long.contains("1 to 100 characters"), "{too_long}");
    let mut odd = budgets(2, 10);
    odd.budgets[0].name = "   ".into();
    odd.budgets[1].name = "team\nplatform".into();
    let blank = refusal(&PipelineConfig {
        budgets: odd.budgets[..1].to_vec(),
        ..PipelineConfig::default()
    });
    assert!(blank.contains("1 to 100 characters"), "{blank}");
    let newline = refusal(&PipelineConfig {
        budgets: odd.budgets[1..].to_vec(),
        ..PipelineConfig::default()
    });
    assert!(newline.contains("control characters"), "{newline}");
}
