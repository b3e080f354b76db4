//! One sample envelope of every kind, with the figures of the scenarios users described:
//! a +200 % cost spike, a $500/month saving, a monthly budget exceeded at 150 % and a daily
//! cost report. They are committed under `events/notifications/` (a test keeps the files and
//! this code in step) and used by dispatcher tests and `sam local invoke`.

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::envelopes;
use crate::findings::*;
use crate::notification::*;
use crate::scope::{Scope, ScopeKind};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn usd(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// The sample envelope whose file stem is `stem` (`anomaly`, `budget`, `report` …).
///
/// # Panics
/// When there is no such sample: a test naming one that does not exist is wrong.
pub fn of_kind(stem: &str) -> Notification {
    all()
        .into_iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, n)| n)
        .unwrap_or_else(|| panic!("no sample envelope `{stem}`"))
}

/// The sample envelope of every kind, in US dollars, without their file stems.
pub fn envelopes() -> Vec<Notification> {
    all().into_iter().map(|(_, n)| n).collect()
}

/// (file stem, envelope) for every kind, in US dollars.
pub fn all() -> Vec<(&'static str, Notification)> {
    all_in(envelopes::DEFAULT_CURRENCY)
}

/// The same envelopes with their amounts in `currency` (an ISO 4217 code): the same figures,
/// titles and summaries written in that currency.
pub fn all_in(currency: &str) -> Vec<(&'static str, Notification)> {
    let build = envelopes::in_currency(currency);
    let at = Utc
        .with_ymd_and_hms(2026, 11, 21, 6, 0, 0)
        .single()
        .unwrap_or_default();
    let spike = Anomaly {
        scope: Scope::AccountService {
            account: "444455556666".into(),
            service: "Amazon SageMaker".into(),
        },
        start_date: d(2026, 11, 20),
        date: d(2026, 11, 20),
        direction: Direction::Rise,
        actual: usd(55_800),
        expected: usd(18_600),
        lower: usd(16_200),
        upper: usd(21_000),
        impact: usd(37_200),
        impact_pct: Some(200.0),
        score: 0.97,
        root_causes: vec![
            RootCause {
                dimension: "usage_type".into(),
                value: "USE1-Training:ml.p3.8xlarge".into(),
                contribution: usd(36_900),
                share: 0.992,
            },
            RootCause {
                dimension: "region".into(),
                value: "us-east-1".into(),
                contribution: usd(37_200),
                share: 1.0,
            },
        ],
        resources: vec![
            ResourceCause {
                resource_id: Some(
                    "arn:aws:sagemaker:us-east-1:444455556666:training-job/churn-model-v7".into(),
                ),
                account: "444455556666".into(),
                product_code: "AmazonSageMaker".into(),
                usage_type: "USE1-Training:ml.p3.8xlarge".into(),
                owner: Some("data-science".into()),
                contribution: usd(36_720),
                usage_effect: usd(36_720),
                rate_effect: usd(0),
                driver: "usage".into(),
            },
            ResourceCause {
                resource_id: Some("vol-0a1b2c3d4e5f67890".into()),
                account: "444455556666".into(),
                product_code: "AmazonEC2".into(),
                usage_type: "USE1-EBS:VolumeUsage.gp3".into(),
                owner: None,
                contribution: usd(180),
                usage_effect: usd(60),
                rate_effect: usd(120),
                driver: "rate".into(),
            },
        ],
    };
    let budget = BudgetCrossing {
        budget: "data-platform monthly".into(),
        scope: Scope::Account("444455556666".into()),
        period_start: d(2026, 11, 1),
        period_end: d(2026, 11, 30),
        as_of: d(2026, 11, 20),
        limit: usd(1_000_000),
        actual: usd(1_500_000),
        forecast: usd(2_210_000),
        forecast_pending: false,
        threshold: Threshold {
            percent: 100,
            basis: ThresholdBasis::Actual,
        },
        percent_of_limit: 150.0,
        breach_date: Some(d(2026, 11, 14)),
        allowed_daily_spend: Some(Decimal::ZERO),
        auto_adjusted_months: None,
    };
    let forecast = MonthEndForecast {
        scope: Scope::Org,
        month: d(2026, 11, 1),
        as_of: d(2026, 11, 20),
        actual_to_date: usd(9_012_345),
        total: usd(13_420_000),
        lo80: usd(13_010_000),
        hi80: usd(13_850_000),
        lo95: usd(12_790_000),
        hi95: usd(14_080_000),
        previous_month_total: Some(usd(12_650_000)),
        daily: Vec::new(),
    };
    // What moved the month so far against 1–20 October: for the account's budget, its
    // services and charge types; for the organisation, its accounts, services and tags.
    let cause = |dimension: &str, value: &str, cents: i64, share: f64| RootCause {
        dimension: dimension.into(),
        value: value.into(),
        contribution: usd(cents),
        share,
    };
    let drivers = |change: i64, causes: Vec<RootCause>| Drivers {
        from: d(2026, 11, 1),
        to: d(2026, 11, 20),
        compared_from: d(2026, 10, 1),
        compared_to: d(2026, 10, 20),
        change: usd(change),
        causes,
    };
    let budget_drivers = drivers(
        521_000,
        vec![
            cause("service", "Amazon SageMaker", 379_000, 0.727),
            cause("charge", "credits", 90_000, 0.173),
            cause("service", "Amazon Simple Storage Service", 41_000, 0.079),
        ],
    );
    let org_drivers = drivers(
        648_000,
        vec![
            cause("account", "data-platform", 521_000, 0.804),
            cause("service", "Amazon SageMaker", 379_000, 0.585),
            cause("tag:team", "", 102_000, 0.157),
        ],
    );
    let saving = Recommendation {
        category: "rightsizing".into(),
        title: "Downsize idle m6i.4xlarge instance to m6i.xlarge".into(),
        account: Some("222233334444".into()),
        service: Some("Amazon Elastic Compute Cloud - Compute".into()),
        resource_id: Some("i-0abc123def4567890".into()),
        current_monthly_cost: usd(66_700),
        monthly_savings: usd(50_000),
        action: "CPU peaked at 9% over 14 days; an m6i.xlarge covers it.".into(),
    };
    let report = ReportFigures {
        period: ReportPeriod::Daily,
        start: d(2026, 11, 20),
        end: d(2026, 11, 20),
        total: usd(468_123),
        previous_total: usd(431_877),
        change_pct: Some(8.39),
        month_to_date: usd(9_012_345),
        forecast_month_end: Some(usd(13_420_000)),
        top_movers: vec![Mover {
            scope: "account=444455556666|service=Amazon SageMaker".into(),
            label: "Amazon SageMaker in data-platform".into(),
            amount: usd(55_800),
            previous: usd(17_900),
            change: usd(37_900),
        }],
        top_services: vec![Mover {
            scope: "service=Amazon Elastic Compute Cloud - Compute".into(),
            label: "Amazon Elastic Compute Cloud - Compute".into(),
            amount: usd(91_400),
            previous: usd(90_100),
            change: usd(1_300),
        }],
        budgets: vec![BudgetLine {
            period: Default::default(),
            budget: "data-platform monthly".into(),
            limit: usd(1_000_000),
            actual: usd(1_500_000),
            forecast: usd(2_210_000),
            forecast_pending: false,
            percent_used: 150.0,
        }],
        open_anomalies: 1,
        saved_so_far: None,
        allocation: vec![
            AllocationLine {
                kind: ScopeKind::Tag,
                key: "team".into(),
                scope: "tag=team|value=".into(),
                unallocated: usd(748_025),
                coverage_pct: Some(91.7),
            },
            AllocationLine {
                kind: ScopeKind::CostCategory,
                key: "Business Unit".into(),
                scope: "costcategory=Business Unit|value=".into(),
                unallocated: usd(0),
                coverage_pct: Some(100.0),
            },
        ],
    };
    vec![
        (
            "anomaly",
            build.anomaly(&spike, State::Open, 0, Some("data-platform"), at),
        ),
        (
            "budget",
            build
                .budget(&budget, Some("data-platform"), at)
                .with_drivers(budget_drivers),
        ),
        (
            "forecast",
            build
                .forecast(&forecast, None, at)
                .with_drivers(org_drivers),
        ),
        ("recommendation", build.recommendation(&saving, at)),
        ("report", build.report(report, at)),
        (
            "test",
            build.test(
                "Hello from costwatch: if you can read this, the integration works.",
                at,
            ),
        ),
    ]
}
